#!/usr/bin/env bash
# How fast a call reaches the call-taker's screen: CALLS emergency calls arrive at once (SIPp,
# -r RATE -m CALLS) at ng911-psap while a logged-in console runs in headless Chromium
# (playwright-core); for each call, the time from the INVITE's arrival at ng911-psap (the call's
# arrived_at, taken when the INVITE is read) to its row in the console's queue (a performance
# mark the console sets when it renders the row, collected by playwright). Prints p50, p99 and
# the maximum. About 30 s.
#
#   scripts/bench/psap-console.sh [OPTIONS]
#
# What it does:
#   1. uses ng911-psap from the build (NG911_BUILD, default build/; --build builds it and the
#      console first) and the console in psap-ui/console/dist;
#   2. starts the local cluster (scripts/db.sh, 127.0.0.1:55432) unless --pg-port names another
#      running one, and makes the scratch database ng911_bench_console (dropped at the end);
#   3. starts ng911-psap on free loopback ports with one queue (--queue-max above CALLS), adds a
#      call-taker, logs her in in Chromium (1920x1080) and waits for the live feed;
#   4. SIPp places CALLS INVITEs (PIDF-LO circle) at RATE per second straight to the queue; each
#      caller hears 180 and hangs up (CANCEL) after --ring-ms, so no call is left behind;
#   5. waits until every call has its row (at most 60 s) and prints key=value lines on stdout.
# ng911-psap and the browser run on the same machine as SIPp, so the clocks agree; arrived_at
# has millisecond resolution. invite_to_websocket_frame_* is the part before the browser: the
# call's first event as playwright sees the frame arrive (ng911-psap's work, the WebSocket).
# Exit status: 0 done; 1 a call never shown or a step failed; 2 usage.
#
# Options:
#   --calls N      calls (default 100)
#   --rate R       SIPp calls per second (default 1000: all within about 0.1 s)
#   --ring-ms MS   how long each caller lets it ring before hanging up (default 8000)
#   --pg-port P    an already running cluster on 127.0.0.1:P instead of the local one
#   --build        build ng911-psap and the console first (incremental)
#   --keep-tmp     keep the temporary directory (logs, SIPp output)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

calls=100 rate=1000 ring_ms=8000 pg_port=55432 build=0 keep_tmp=0 db=ng911_bench_console
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --calls) calls="${2:?}"; shift 2 ;;
    --rate) rate="${2:?}"; shift 2 ;;
    --ring-ms) ring_ms="${2:?}"; shift 2 ;;
    --pg-port) pg_port="${2:?}"; shift 2 ;;
    --build) build=1; shift ;;
    --keep-tmp) keep_tmp=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for v in calls rate ring_ms pg_port; do [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "psap-console.sh: --${v//_/-} wants a positive number" >&2; exit 2; }; done
for tool in sipp node chromium psql curl python3; do command -v "$tool" >/dev/null || die "bench: $tool missing (scripts/install-deps.sh)"; done

console="$NG911_ROOT/psap-ui/console"
psap_bin="$NG911_BUILD/bin/ng911-psap"
if [ "$build" = 1 ]; then
  log "bench: building ng911-psap and the console in $NG911_BUILD"
  cmake --build "$NG911_BUILD" --target ng911-psap psap_console >/dev/null || die "bench: build failed"
fi
[ -x "$psap_bin" ] || die "bench: $psap_bin missing (scripts/build.sh)"
[ -f "$console/dist/index.html" ] || die "bench: the console is not built (scripts/build.sh)"
[ -d "$console/node_modules/playwright-core" ] || die "bench: npm packages missing in psap-ui/console (scripts/install-deps.sh)"

export PGHOST=127.0.0.1 PGPORT="$pg_port" PGUSER=postgres
tmp="$(mktemp -d)" psap_pid="" db_created=0
cleanup() {
  [ -n "$psap_pid" ] && { kill -TERM "$psap_pid" 2>/dev/null || true; wait "$psap_pid" 2>/dev/null || true; }
  [ "$db_created" = 1 ] && psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  if [ "$keep_tmp" = 1 ]; then log "bench: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$pg_port" = 55432 ] && "$NG911_ROOT/scripts/db.sh" start
log "bench: scratch database $db on port $pg_port"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
db_created=1
"$NG911_ROOT/scripts/db.sh" --port "$pg_port" --db "$db" migrate >/dev/null
echo 'bench-password' | "$psap_bin" user add bench --role call-taker --db "dbname=$db" >/dev/null

ports="$(python3 - <<'PY'
import socket
out = []
while len(out) < 2:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); out.append(p)
    except OSError:
        pass
    finally:
        u.close(); t.close()
print(*out)
PY
)"
read -r sip_port http_port <<< "$ports"
"$psap_bin" --listen "127.0.0.1:$sip_port" --http "127.0.0.1:$http_port" --queue "sip:psap-a@127.0.0.1:$sip_port" \
  --queue-max $((calls + 10)) --db "dbname=$db" --console-dir "$console/dist" 2>"$tmp/psap.log" &
psap_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null || die "bench: ng911-psap did not start: $(tail -3 "$tmp/psap.log")"

# The callers: INVITE with SDP and a PIDF-LO circle, 180, ring, CANCEL, 200 + 487, ACK.
cat > "$tmp/caller.xml" <<EOF
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller that rings and hangs up">
  <send retrans="500"><![CDATA[
INVITE sip:psap-a@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+1512555[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
To: <urn:service:sos>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Geolocation: <cid:loc1@example.com>
Content-Type: multipart/mixed;boundary=bnd
Content-Length: [len]

--bnd
Content-Type: application/sdp

v=0
o=user1 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
--bnd
Content-Type: application/pidf+xml
Content-ID: <loc1@example.com>

<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:caller@example.com"><dm:device id="d1"><gp:geopriv><gp:location-info><gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>30.2672 -97.7431</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">35</gs:radius></gs:Circle></gp:location-info><gp:usage-rules/><gp:method>GPS</gp:method></gp:geopriv></dm:device></presence>
--bnd--
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" timeout="20000"/>
  <pause milliseconds="$ring_ms"/>
  <send><![CDATA[
CANCEL sip:psap-a@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:+1512555[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
To: <urn:service:sos>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" timeout="10000"/>
  <recv response="487" timeout="10000"/>
  <send><![CDATA[
ACK sip:psap-a@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:+1512555[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>
EOF

# The console in Chromium; it starts SIPp once the feed is live and collects the marks.
cat > "$tmp/bench.mjs" <<'EOF'
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
const [consoleSrc, url, sipTarget, calls, rate, dir] = process.argv.slice(2);
const { chromium } = createRequire(join(consoleSrc, 'package.json'))('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu',
  '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
let code = 1;
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  // When each call's first event reached the browser (as playwright hears of it): splits the
  // time into ng911-psap + WebSocket, and the console's own rendering.
  const frameMs = new Map();
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    const now = Date.now();
    try {
      const e = JSON.parse(f.payload);
      if (e.type === 'call' && !frameMs.has(e.call.id)) frameMs.set(e.call.id, now - Date.parse(e.call.arrived_at));
    } catch { /* not an event */ }
  }));
  await page.goto(url);
  await page.getByLabel('Name').fill('bench');
  await page.getByLabel('Password').fill('bench-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#feed-status[data-status=live]').waitFor({ timeout: 15000 });
  const sipp = spawn('sipp', ['-sf', join(dir, 'caller.xml'), sipTarget, '-i', '127.0.0.1', '-p', process.env.CALLER_PORT, '-r', rate,
    '-m', calls, '-l', calls, '-nostdin', '-timeout', '60s', '-timeout_error', '-trace_stat', '-stf', join(dir, 'sipp.csv')],
    { cwd: dir, stdio: 'ignore' });
  const sippDone = new Promise((r) => sipp.on('exit', (c) => r(c)));
  const started = Date.now();
  const want = Number(calls);
  const count = () => page.evaluate(() => performance.getEntriesByName ? performance.getEntriesByType('mark').filter((m) => m.name.startsWith('ng911:call-shown:')).length : 0);
  while ((await count()) < want && Date.now() - started < 60000) await new Promise((r) => setTimeout(r, 100));
  const lagMs = await page.evaluate(() => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('ng911:call-shown:'))
    .map((m) => performance.timeOrigin + m.startTime - Date.parse(m.detail.arrived_at)));
  const wallMs = Date.now() - started;
  const sippCode = await Promise.race([sippDone, new Promise((r) => setTimeout(() => { sipp.kill('SIGKILL'); r('killed'); }, 80000))]);
  console.log(JSON.stringify({ lagMs, wsMs: [...frameMs.values()], wallMs, sippCode }));
  code = lagMs.length === want ? 0 : 1;
} finally {
  await browser.close();
}
process.exit(code);
EOF

caller_port="$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log "bench: $calls calls at $rate/s to ng911-psap (SIP 127.0.0.1:$sip_port) with a console in headless Chromium"
set +e
CALLER_PORT="$caller_port" timeout 150 node "$tmp/bench.mjs" "$console" "http://127.0.0.1:$http_port" "127.0.0.1:$sip_port" \
  "$calls" "$rate" "$tmp" > "$tmp/result.json" 2>"$tmp/bench.err"
rc=$?
set -e
[ -s "$tmp/result.json" ] || { cat "$tmp/bench.err" >&2; die "bench: the browser run failed (exit $rc)"; }
python3 - "$tmp/result.json" "$calls" "$rate" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
lag = sorted(r["lagMs"])
ws = sorted(r["wsMs"])
def pct(p, v=lag):  # nearest rank
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] if v else float("nan")
print(f"calls={sys.argv[2]}")
print(f"rate_per_s={sys.argv[3]}")
print(f"shown={len(lag)}")
print(f"invite_to_display_p50_ms={pct(50):.1f}")
print(f"invite_to_display_p99_ms={pct(99):.1f}")
print(f"invite_to_display_max_ms={lag[-1] if lag else float('nan'):.1f}")
print(f"invite_to_display_min_ms={lag[0] if lag else float('nan'):.1f}")
print(f"invite_to_websocket_frame_p50_ms={pct(50, ws):.1f}")
print(f"invite_to_websocket_frame_p99_ms={pct(99, ws):.1f}")
print(f"all_shown_after_sipp_start_ms={r['wallMs']}")
print(f"sipp_exit={r['sippCode']}")
PY
exit "$rc"
