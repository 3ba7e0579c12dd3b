// The console as a call-taker uses it, against real peers (SIPp callers through ng911-esrp to
// ng911-psap): login, a voice call shown within a second and answered with one key (SIPp gets
// 200 OK), hold and resume, release (SIPp gets BYE); an abandoned call; a text conversation
// both ways; a transfer to the fire PSAP; the supervisor view. Started by console_e2e_test.sh.
import {
  callerAbandons, callerReleasedByPsap, callerTransferred, expect, expectEq, fail, finish, fireTarget, key, killCallers,
  launch, login, newConsole, pass, row, screenshot, sipp, sleep, step, texter, within,
} from './console_support.mjs';

const browser = await launch();
let code = 1;
try {
  const { page } = await newConsole(browser);

  await step('login page', async () => {
    await page.goto(process.env.CONSOLE_URL);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('Name').fill('alice');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Wrong name or password.').waitFor();
    pass('a wrong password is refused on the login page, with a message');
    await login(page, 'alice');
    pass('alice logs in; the live feed connects');
    expect(await page.getByRole('banner').isVisible() && await page.getByRole('main').isVisible(), 'landmarks: banner and main');
  });

  await step('ready toggle', async () => {
    await key(page, 'r');
    await page.locator('#ready[aria-pressed=true]').waitFor();
    pass('R makes alice ready (aria-pressed)');
  });

  // ---- a voice call through the ESRP: shown, answered with one key, held, resumed, released ----
  await step('voice call', async () => {
    const caller = sipp('voice', callerReleasedByPsap('+15125550100', { reinvites: 2 }));
    const r = row(page, '+15125550100');
    await r.waitFor({ timeout: 5000 });
    const seenAfter = Date.now() - caller.startedAt;
    const shownMs = await page.evaluate(() => {
      const m = performance.getEntriesByType('mark').find((e) => e.name.startsWith('ng911:call-shown:'));
      return m ? performance.timeOrigin + m.startTime - Date.parse(m.detail.arrived_at) : null;
    });
    expect(shownMs !== null && shownMs < 1000, 'the ringing call is in the console within a second of its INVITE reaching ng911-psap',
      `${shownMs} ms`);
    console.log(`     (INVITE at ng911-psap to row: ${shownMs?.toFixed(0)} ms; SIPp start to row seen by the test: ${seenAfter} ms)`);
    expectEq(await r.getAttribute('data-state'), 'ringing', 'the row says ringing');
    expect((await r.textContent()).includes('Emergency'), 'the row names the service');
    await page.locator('#announcer', { hasText: 'New Emergency call, callback +15125550100' }).waitFor();
    pass('the new call is announced (aria-live)');
    await page.locator('#call dd', { hasText: '30.267200' }).waitFor();
    const facts = await page.locator('#call .facts').allInnerTexts();
    const text = facts.join('\n');
    for (const [what, want] of [['latitude', '30.267200'], ['longitude', '-97.743100'], ['uncertainty', '35 m (Circle)'],
      ['confidence', '90 %'], ['method', 'GPS'], ['provider', 'https://adr.example.net/provider/1'], ['callback', '+15125550100']])
      expect(text.includes(want), `call view shows the ${what} (${want})`, text.replace(/\n/g, ' | '));
    expect(await page.locator('#call', { hasText: 'Route and transfers' }).locator('code', { hasText: 'urn:service:sos' }).count() > 0,
      'call view shows the route (History-Info) through the ESRP');
    expect(await page.locator('#map path.leaflet-interactive').count() >= 2, 'the map draws the PSAP boundary and the uncertainty circle');
    await screenshot(page, 'console-ringing');

    await key(page, 'n');
    await page.locator('#call-state', { hasText: 'Answered' }).waitFor();
    pass('N answers the oldest ringing call');
    await screenshot(page, 'console-answered');
    await key(page, 'h');
    await page.locator('#call-state', { hasText: 'On hold' }).waitFor();
    pass('H holds the call (re-INVITE)');
    await sleep(300);
    await key(page, 'h');
    await page.locator('#call-state', { hasText: 'Answered' }).waitFor();
    pass('H again resumes it');
    await sleep(300);
    await key(page, 'x');
    await page.locator('#call-state', { hasText: 'Ended' }).waitFor();
    pass('X releases the call');
    expectEq(await within(caller, 15000), 0, 'SIPp caller got 200 OK, the hold and resume re-INVITEs and the BYE');
    expectEq(await r.count(), 0, 'the released call leaves the queue');
    expect(await page.locator('#finished li', { hasText: '+15125550100' }).count() > 0, 'and is listed among the recent calls');
  });

  // ---- the caller hangs up before the answer ----
  await step('abandoned call', async () => {
    const caller = sipp('abandon', callerAbandons('+15125550111', 1500));
    await row(page, '+15125550111').waitFor({ timeout: 5000 });
    pass('the police call rings in the console');
    expect((await row(page, '+15125550111').textContent()).includes('Police'), 'the row says Police');
    expectEq(await within(caller, 15000), 0, 'SIPp caller cancels: 200 to the CANCEL, 487 to the INVITE');
    await page.locator('#abandoned li', { hasText: '+15125550111' }).waitFor();
    pass('the call is listed under Abandoned with its callback number');
    await page.locator('#queue-rows tr', { hasText: '+15125550111' }).waitFor({ state: 'detached' });
    pass('and leaves the queue');
    expect((await page.locator('#abandoned li', { hasText: '+15125550111' }).textContent()).match(/waited 0:0[0-9]/) !== null,
      'the abandoned entry says how long the caller waited');
  });

  // ---- text-to-911 both ways ----
  await step('text conversation', async () => {
    const texting = sipp('texter', texter('+15125550122', 'Help, there is a fire at my neighbour\'s house.', 'I am outside now, safe.'), { transport: 'u1' });
    await row(page, '+15125550122').waitFor({ timeout: 5000 });
    expect((await row(page, '+15125550122').textContent()).includes('Text'), 'the text conversation rings as Text');
    await key(page, 'n');
    await page.locator('.conversation .msg-in', { hasText: 'there is a fire' }).waitFor();
    pass('answered: the caller\'s first message shows in the conversation');
    await key(page, 'm');
    expect(await page.evaluate(() => document.activeElement?.id) === 'reply', 'M puts the focus in the reply field');
    await page.keyboard.type('Help is on the way. Are you safe?');
    await page.keyboard.press('Enter');
    await page.locator('.conversation .msg-out', { hasText: 'Help is on the way' }).waitFor();
    pass('the reply shows in the conversation');
    await page.locator('.conversation .msg-in', { hasText: 'I am outside now, safe.' }).waitFor({ timeout: 15000 });
    pass('the caller\'s answer to the reply arrives live');
    expectEq(await within(texting, 15000), 0, 'SIPp texter got our reply MESSAGE and its second MESSAGE was taken');
    await page.locator('.conversation .msg-out[data-status=delivered]').waitFor();
    pass('the reply is marked delivered');
    await screenshot(page, 'console-text');
    await page.keyboard.press('Escape');
    await key(page, 'x');
    await page.locator('#call-state', { hasText: 'Ended' }).waitFor();
    pass('the conversation is closed with X');
  });

  // ---- transfer to the fire PSAP through the ESRP ----
  await step('transfer', async () => {
    const fire = sipp('fire', fireTarget(), { server: true, port: Number(process.env.FIRE_PORT) });
    await sleep(300);
    const caller = sipp('xcaller', callerTransferred('+15125550133'));
    await row(page, '+15125550133').waitFor({ timeout: 5000 });
    await key(page, 'n');
    await page.locator('#call-state', { hasText: 'Answered' }).waitFor();
    await sleep(300);
    await key(page, 't');
    const dialog = page.getByRole('dialog', { name: 'Transfer the call' });
    await dialog.waitFor();
    pass('T opens the transfer dialog');
    expect(await dialog.getByLabel(/Fire/).isChecked(), 'Fire is the first choice');
    await dialog.getByRole('button', { name: 'Transfer' }).click();
    expectEq(await within(fire, 20000), 0, 'the fire PSAP got the INVITE through the ESRP with the PIDF-LO and Call-Info, then the BYE');
    expectEq(await within(caller, 20000), 0, 'the caller got the bridge re-INVITE with the fire PSAP\'s SDP, then hung up');
    await page.locator('#call-state', { hasText: 'Transferred' }).waitFor();
    pass('the call shows Transferred');
    await page.locator('#call li', { hasText: 'transfer answered' }).first().waitFor();
    pass('its history lists the transfer');
  });

  // ---- the supervisor ----
  await step('supervisor view', async () => {
    const sam = await newConsole(browser);
    await login(sam.page, 'sam');
    await sam.page.locator('#supervisor li', { hasText: 'alice' }).waitFor();
    expect((await sam.page.locator('#supervisor li', { hasText: 'alice' }).textContent()).includes('ready'), 'supervisor sees alice ready');
    const caller = sipp('waiting', callerReleasedByPsap('+15125550144'));
    await row(sam.page, '+15125550144').waitFor({ timeout: 5000 });
    await sam.page.locator('#sup-waiting', { hasText: '1' }).waitFor();
    pass('supervisor view: 1 call waiting');
    const ticked = await sam.page.waitForFunction(() => document.getElementById('sup-longest')?.textContent !== '0:00', null,
      { timeout: 5000 }).then(() => true, () => false);
    expect(ticked, 'supervisor view: the longest wait ticks', await sam.page.locator('#sup-longest').textContent());
    await screenshot(sam.page, 'console-supervisor');
    await key(page, 'r');
    await page.locator('#ready[aria-pressed=false]').waitFor();
    await sam.page.locator('#supervisor li.not-ready', { hasText: 'alice' }).waitFor();
    pass('alice not ready (R) shows in the supervisor view');
    await key(sam.page, 'n');
    await sam.page.locator('#call-state', { hasText: 'Answered' }).waitFor();
    await key(sam.page, 'x');
    expectEq(await within(caller, 15000), 0, 'the supervisor answers and releases the waiting call');
    await sam.context.close();
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
