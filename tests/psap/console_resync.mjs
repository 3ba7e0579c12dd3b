// The console when things go wrong: a browser reload in the middle of a call, a dropped
// WebSocket (events missed while it was down), two call-takers answering the same call (409),
// a session that ends under the console (401 → login). Real peers: SIPp callers through
// ng911-esrp to ng911-psap. Started by console_e2e_test.sh.
import {
  callerReleasedByPsap, expect, expectEq, fail, finish, key, killCallers, launch, login, newConsole, pass, row, screenshot,
  sipp, sleep, step, within,
} from './console_support.mjs';

// A WebSocket between the page and ng911-psap that the test can cut (as a network drop would)
// and whose server-to-page events it can hold back (a slow link).
function controlledSocket(page) {
  const ctl = { holding: false, held: [], refuseUntil: 0, connects: 0, page: null };
  return page.routeWebSocket(/\/ws$/, (ws) => {
    ctl.connects++;
    if (Date.now() < ctl.refuseUntil) {
      ws.close({ code: 1006, reason: 'network down' });
      return;
    }
    const server = ws.connectToServer();
    ctl.page = ws;
    server.onMessage((m) => (ctl.holding ? ctl.held.push(m) : ws.send(m)));
    ws.onMessage((m) => server.send(m));
  }).then(() => Object.assign(ctl, {
    drop(forMs) {
      ctl.refuseUntil = Date.now() + forMs;
      ctl.page?.close({ code: 1006, reason: 'network down' });
    },
    release() {
      ctl.holding = false;
      for (const m of ctl.held.splice(0)) ctl.page?.send(m);
    },
  }));
}

const browser = await launch();
let code = 1;
try {
  const alice = await newConsole(browser);
  const page = alice.page;
  const ctl = await controlledSocket(page);
  await login(page, 'alice');

  // ---- a reload in the middle of a call ----
  await step('reload mid-call', async () => {
    const caller = sipp('reload', callerReleasedByPsap('+15125550155'));
    await row(page, '+15125550155').waitFor({ timeout: 5000 });
    await key(page, 'n');
    await page.locator('#call-state', { hasText: 'Answered' }).waitFor();
    await key(page, 'r');
    await page.locator('#ready[aria-pressed=true]').waitFor();
    const resync = page.waitForResponse((r) => r.url().endsWith('/api/calls') && r.status() === 200);
    await page.reload();
    await resync;
    pass('after a reload the console resyncs with GET /api/calls');
    const r = row(page, '+15125550155');
    await r.waitFor();
    expectEq(await r.getAttribute('data-state'), 'answered', 'the call is still there, answered, after the reload');
    expect((await r.textContent()).includes('alice'), 'answered by alice');
    expectEq(await page.locator('#ready').getAttribute('aria-pressed'), 'true', 'alice is still shown ready (GET /api/me)');
    await key(page, 'r');
    await page.locator('#ready[aria-pressed=false]').waitFor();
    await r.click();
    await page.locator('#call-state', { hasText: 'Answered' }).waitFor();
    await key(page, 'x');
    expectEq(await within(caller, 15000), 0, 'released after the reload: SIPp caller gets the BYE');
  });

  // ---- a dropped WebSocket: a call arrives while it is down ----
  await step('dropped WebSocket', async () => {
    const connectsBefore = ctl.connects;
    ctl.drop(2500);
    await page.locator('#feed-status[data-status=reconnecting]').waitFor();
    pass('the console shows that it is reconnecting');
    const caller = sipp('dropped', callerReleasedByPsap('+15125550166'));
    await sleep(800);
    expectEq(await row(page, '+15125550166').count(), 0, 'while the socket is down the new call is not shown yet');
    const resync = page.waitForResponse((r) => r.url().endsWith('/api/calls') && r.status() === 200, { timeout: 15000 });
    await resync;
    await page.locator('#feed-status[data-status=live]').waitFor({ timeout: 15000 });
    expect(ctl.connects - connectsBefore >= 2, 'it retried the connection', `${ctl.connects - connectsBefore} tries`);
    await row(page, '+15125550166').waitFor({ timeout: 2000 });
    pass('reconnected: the call that rang meanwhile is shown (resync on the hello\'s seq)');
    await screenshot(page, 'console-after-reconnect');
    await row(page, '+15125550166').click();
    await key(page, 'a');
    await page.locator('#call-state', { hasText: 'Answered' }).waitFor();
    await key(page, 'x');
    expectEq(await within(caller, 15000), 0, 'the call is answered and released after the reconnect');
  });

  // ---- two call-takers, one call: the slower one gets 409 ----
  await step('409 answered by another call-taker', async () => {
    const bob = await newConsole(browser);
    await login(bob.page, 'bob');
    const caller = sipp('race', callerReleasedByPsap('+15125550177'));
    await row(page, '+15125550177').waitFor({ timeout: 5000 });
    await row(bob.page, '+15125550177').waitFor({ timeout: 5000 });
    // Alice's link is slow: she does not yet see that bob answered.
    ctl.holding = true;
    await row(bob.page, '+15125550177').click();
    await key(bob.page, 'a');
    await bob.page.locator('#call-state', { hasText: 'Answered' }).waitFor();
    await row(page, '+15125550177').click();
    await key(page, 'a');
    const error = page.locator('#errors .error[data-status="409"]');
    await error.waitFor();
    expect((await error.textContent()).includes('answered by bob'), 'alice\'s answer is refused: the 409 names bob',
      await error.textContent());
    await screenshot(page, 'console-409');
    ctl.release();
    await page.locator('#queue-rows tr[data-state=answered]', { hasText: 'bob' }).waitFor();
    pass('alice\'s console then shows the call answered by bob');
    await key(page, 'Escape');
    expectEq(await page.locator('#errors .error').count(), 0, 'Escape dismisses the error');
    await key(bob.page, 'x');
    expectEq(await within(caller, 15000), 0, 'bob releases: SIPp caller gets the BYE');
    await bob.context.close();
  });

  // ---- the session ends under the console: back to the login, no blank page ----
  await step('401 to login', async () => {
    const r = await page.request.post(`${process.env.CONSOLE_URL}/api/logout`);
    expectEq(r.status(), 200, 'the session is ended from elsewhere');
    await key(page, 'r');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect((await page.locator('#login-error').textContent()).includes('session ended'), 'the next action lands on the login page with a message');
    await login(page, 'alice');
    pass('and alice logs in again');
  });
  code = finish();
} catch (e) {
  fail(`unexpected: ${e?.stack ?? e}`);
  code = finish();
} finally {
  killCallers();
  await browser.close();
}
process.exit(code);
