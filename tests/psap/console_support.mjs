// Shared by the console's browser tests (console_*.mjs, started by console_e2e_test.sh): the
// headless browser, checks that print ok/FAIL lines, SIPp callers with the scenarios below, and
// the console's own controls. Everything is bounded in time.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
export const consoleUrl = env.CONSOLE_URL;
export const esrpSip = env.ESRP_SIP;
export const workDir = env.WORK_DIR;
export const screenshotDir = env.SCREENSHOT_DIR;
const require = createRequire(join(env.CONSOLE_SRC, 'package.json'));
const { chromium } = require('playwright-core');

// ---- checks ----
let checks = 0;
let failures = 0;
export function pass(what) { checks++; console.log(`ok   ${what}`); }
export function fail(what) { checks++; failures++; console.log(`FAIL ${what}`); }
export function expect(cond, what, detail = '') { cond ? pass(what) : fail(detail ? `${what}: ${detail}` : what); }
export function expectEq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  g === w ? pass(what) : fail(`${what}: got ${g}, wanted ${w}`);
}
// Runs one step; an exception (a locator that timed out, say) is a failure, and the run goes on.
export async function step(what, fn) {
  try {
    await fn();
  } catch (e) {
    fail(`${what}: ${String(e?.message ?? e).split('\n')[0]}`);
  }
}
export function finish() {
  console.log(`${checks - failures} passed, ${failures} failed`);
  return failures === 0 && checks > 0 ? 0 : 1;
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the browser ----
// Playwright gives each launch a fresh profile directory of its own (--user-data-dir) and
// removes it on close.
export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

export async function newConsole(browser) {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => fail(`page error: ${e.message}`));
  return { context, page };
}

export async function login(page, name, password = `${name}-password`) {
  await page.goto(consoleUrl);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#feed-status[data-status=live]').waitFor();
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}

// Presses a shortcut with the focus on the queue (where a call-taker's keys go).
export async function key(page, k) {
  await page.evaluate(() => { if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur(); });
  await page.keyboard.press(k);
}

export function row(page, callback) {
  return page.locator('#queue-rows tr', { hasText: callback });
}

// ---- SIPp ----
// Runs a scenario (XML text) against the ESRP; resolves with SIPp's exit code (0: the scenario
// completed as written). Bounded by SIPp's -timeout and a kill. Over TCP, as a caller's phone
// sends an INVITE with a PIDF-LO (over 1300 bytes, RFC 3261 §18.1.1), so that every hop and the
// ESRP's Record-Route agree on the transport. Text-to-911 goes over UDP: SIPp over TCP would
// answer the PSAP's page-mode MESSAGE on its connection to the ESRP instead of the PSAP's.
let scenarioNo = 0;
const children = new Set();
export function sipp(name, xml, { target = esrpSip, server = false, port = 0, timeoutS = 60, transport = 't1', extra = [] } = {}) {
  const file = join(workDir, `${name}-${++scenarioNo}.xml`);
  writeFileSync(file, xml);
  // SIPp's own default port is 5060, the ESRP's: a free one instead.
  const local = port || freePort();
  const args = ['-sf', file, ...(server ? [] : [target]), '-t', transport, '-i', '127.0.0.1', '-p', String(local), '-m', '1', '-nostdin',
    '-timeout', `${timeoutS}s`, '-timeout_error', '-trace_msg', '-message_file', join(workDir, `${name}.msg`), ...extra];
  const child = spawn('sipp', args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const startedAt = Date.now();
  const done = new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 15) * 1000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      children.delete(child);
      writeFileSync(join(workDir, `${name}.sipp.out`), out);
      resolve(code ?? -1);
    });
  });
  return { done, startedAt, kill: () => child.kill('SIGKILL') };
}
// A loopback port free for both UDP and TCP right now (SIPp takes both), asked of Python as
// testlib.sh's free_port does.
export function freePort() {
  const r = spawnSync('python3', ['-c', `
import socket
for _ in range(50):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: u.close(); t.close()
`], { encoding: 'utf8', timeout: 10000 });
  const port = Number(r.stdout.trim());
  if (!port) throw new Error(`no free port: ${r.stderr}`);
  return port;
}
export function killCallers() {
  for (const c of children) c.kill('SIGKILL');
}
// Resolves with SIPp's exit code, or 'timeout' after ms.
export function within(call, ms) {
  return Promise.race([call.done, sleep(ms).then(() => 'timeout')]);
}

// ---- scenarios ----
const SDP = `v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000`;

const PIDF_CIRCLE = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" xmlns:con="urn:ietf:params:xml:ns:geopriv:conf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:caller@example.com">
<dm:device id="d1"><gp:geopriv><gp:location-info><gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>30.2672 -97.7431</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">35</gs:radius></gs:Circle><con:confidence pdf="normal">90</con:confidence></gp:location-info><gp:usage-rules/><gp:method>GPS</gp:method></gp:geopriv></dm:device>
</presence>`;

const ok200 = (extra = '') => `
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:caller@[local_ip]:[local_port]>
${extra}
    ]]>
  </send>`;
const ok200Sdp = ok200(`      Content-Type: application/sdp
      Content-Length: [len]

${SDP.replace(/^/gm, '      ')}`);
const ok200Empty = ok200('      Content-Length: 0\n');

function invite(number, service, { method = 'INVITE', body = 'sdp' } = {}) {
  const first = body === 'sdp' ? `Content-Type: application/sdp\n\n${SDP}` : `Content-Type: text/plain\n\n${body}`;
  return `
  <send retrans="500">
    <![CDATA[
      ${method} ${service} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller ${number}" <sip:${number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <${service}>
      Call-ID: [call_id]
      CSeq: 1 ${method}
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      P-Asserted-Identity: <tel:${number}>
      Call-Info: <https://adr.example.net/provider/1>;purpose=EmergencyCallData.ProviderInfo
      Geolocation: <cid:loc1@example.com>
      Content-Type: multipart/mixed;boundary=bnd
      Content-Length: [len]

      --bnd
${first.replace(/^/gm, '      ')}
      --bnd
      Content-Type: application/pidf+xml
      Content-ID: <loc1@example.com>

${PIDF_CIRCLE.replace(/^/gm, '      ')}
      --bnd--
    ]]>
  </send>`;
}

const ack = `
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;

const answered = `
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true" timeout="60000"/>${ack}`;

// Waits for the call-taker (60 s), then takes `reinvites` re-INVITEs (hold, resume) and the
// PSAP's BYE (release).
export function callerReleasedByPsap(number, { reinvites = 0 } = {}) {
  let xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="caller released by the PSAP">${invite(number, 'urn:service:sos')}${answered}`;
  for (let i = 0; i < reinvites; i++) xml += `\n  <recv request="INVITE" timeout="60000"/>${ok200Sdp}\n  <recv request="ACK" timeout="10000"/>`;
  return `${xml}\n  <recv request="BYE" timeout="60000"/>${ok200Empty}\n</scenario>\n`;
}

// Rings, then hangs up before anyone answers (CANCEL): an abandoned call.
export function callerAbandons(number, ringMs) {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="caller abandons">${invite(number, 'urn:service:sos.police')}
  <recv response="100" optional="true"/>
  <recv response="180" timeout="10000"/>
  <pause milliseconds="${ringMs}"/>
  <send>
    <![CDATA[
      CANCEL urn:service:sos.police SIP/2.0
      [last_Via:]
      From: "Caller ${number}" <sip:${number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <urn:service:sos.police>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="10000"/>
  <recv response="487" timeout="10000"/>
  <send>
    <![CDATA[
      ACK urn:service:sos.police SIP/2.0
      [last_Via:]
      From: "Caller ${number}" <sip:${number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
`;
}

// Text-to-911: a MESSAGE with the location, the PSAP's reply, then a second MESSAGE.
export function texter(number, first, second) {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="text-to-911">${invite(number, 'urn:service:sos', { method: 'MESSAGE', body: first })}
  <recv response="200" timeout="10000"/>
  <recv request="MESSAGE" timeout="60000">
    <action>
      <ereg regexp="Help is on the way" search_in="body" check_it="true" assign_to="reply"/>
      <ereg regexp="Via: SIP/2.0/UDP ([0-9.]+):([0-9]+)" search_in="msg" check_it="true" assign_to="via,psap_host,psap_port"/>
    </action>
  </recv>
  <!-- SIPp sends everything to its remote (the ESRP); the answer belongs to the PSAP (its Via). -->
  <nop><action><setdest host="[$psap_host]" port="[$psap_port]" protocol="udp"/></action></nop>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]t[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <nop><action><setdest host="${esrpSip.split(':')[0]}" port="${esrpSip.split(':')[1]}" protocol="udp"/></action></nop>
  <send retrans="500">
    <![CDATA[
      MESSAGE urn:service:sos SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller ${number}" <sip:${number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <urn:service:sos>
      Call-ID: [call_id]
      CSeq: 2 MESSAGE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      P-Asserted-Identity: <tel:${number}>
      Content-Type: text/plain
      Content-Length: [len]

      ${second}
    ]]>
  </send>
  <recv response="200" timeout="10000"/>
  <Reference variables="reply,via"/>
</scenario>
`;
}

// A caller whose call is transferred: answered, then the bridge's re-INVITE with the target's
// SDP (o=target-media), then the caller hangs up.
export function callerTransferred(number) {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="caller transferred">${invite(number, 'urn:service:sos')}${answered}
  <recv request="INVITE" timeout="60000">
    <action><ereg regexp="target-media" search_in="body" check_it="true" assign_to="bridged"/></action>
  </recv>${ok200Sdp}
  <recv request="ACK" timeout="10000"/>
  <pause milliseconds="500"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Caller ${number}" <sip:${number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <urn:service:sos>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" timeout="10000"/>
  <Reference variables="bridged"/>
</scenario>
`;
}

// The fire PSAP behind the ESRP: answers the transfer's INVITE (which must carry the caller's
// location), then takes the BYE.
export function fireTarget() {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="fire PSAP, transfer target">
  <recv request="INVITE" timeout="60000">
    <action>
      <ereg regexp="gml:pos" search_in="body" check_it="true" assign_to="pidf"/>
      <ereg regexp="Call-Info: .urn:emergency:uid:callid:[^;]*;purpose=emergency-CallId" search_in="msg" check_it="true" assign_to="callinfo"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]f[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:fire@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=target-media 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
    ]]>
  </send>
  <recv request="ACK" timeout="10000"/>
  <recv request="BYE" timeout="60000"/>${ok200Empty}
  <Reference variables="pidf,callinfo"/>
</scenario>
`;
}
