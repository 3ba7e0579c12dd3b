#!/usr/bin/env bash
# The call-takers' console end to end, in headless Chromium (playwright-core): SIPp callers
# place emergency calls with a PIDF-LO through ng911-esrp (its default routes: urn:service:sos
# to ng911-psap's queue, urn:service:sos.fire to a SIPp "fire PSAP"), ng911-psap serves the
# built console, and SCRIPT.mjs drives the browser and the callers and checks both ends.
#   console_e2e_test.sh SCRIPT.mjs NG911-PSAP NG911-ESRP NG911-GIS CONSOLE-DIST SCREENSHOT-DIR
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
script="$1" psap_bin="$2" esrp_bin="$3" gis="$4" dist="$5" shots="$6"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
console_src="$here/../../psap-ui/console"
require sipp node chromium curl python3
[ -f "$dist/index.html" ] || { echo "FAIL: the console is not built ($dist/index.html): build the psap_console target"; exit 1; }
[ -d "$console_src/node_modules/playwright-core" ] || { echo "FAIL: npm packages missing in psap-ui/console (scripts/install-deps.sh)"; exit 1; }
use_test_db "console_$(basename "$script" .mjs)"
use_scratch
mkdir -p "$shots"

psap_port="$(free_port)" http_port="$(free_port tcp)" esrp_port="$(free_port)" esrp_http="$(free_port tcp)" fire_port="$(free_port)"
queue="sip:psap-a@127.0.0.1:$psap_port"

# The PSAP's own boundary (the grid's PSAP 0 holds the callers' position) for the map.
python3 - "$here/../data/gis/psap-grid4.geojson" "$tmp/psaps.geojson" "$queue" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["features"][0]["properties"]["ServiceURI"] = sys.argv[3]
d["features"][0]["properties"]["DsplayName"] = "PSAP A (Austin)"
json.dump(d, open(sys.argv[2], "w"))
PY
"$gis" load --layer PsapPolygon "$tmp/psaps.geojson" >/dev/null 2>&1 || fail "publish the PSAP boundaries"

for u in alice:call-taker bob:call-taker sam:supervisor; do
  echo "${u%%:*}-password" | "$psap_bin" user add "${u%%:*}" --role "${u#*:}" --db "dbname=$PGDATABASE" >/dev/null 2>&1 || fail "user add ${u%%:*}"
done

"$psap_bin" --listen "127.0.0.1:$psap_port" --http "127.0.0.1:$http_port" --queue "$queue" --db "dbname=$PGDATABASE" \
  --t1-ms 250 --console-dir "$dist" --esrp "sip:127.0.0.1:$esrp_port" 2>"$tmp/psap.log" &
pids+=($!)
"$esrp_bin" --listen "127.0.0.1:$esrp_port" --http "127.0.0.1:$esrp_http" --call-log-db off --spool-dir "$tmp/spool" \
  --default-route "urn:service:sos $queue" --default-route "urn:service:sos.fire sip:fire@127.0.0.1:$fire_port" \
  --no-queue-subscriptions --ring-timeout-ms 60000 --t1-ms 250 2>"$tmp/esrp.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null || { fail "ng911-psap did not start: $(tail -3 "$tmp/psap.log")"; finish; }
for _ in $(seq 100); do grep -q '"event":"listening"' "$tmp/esrp.log" && break; sleep 0.1; done
grep -q '"event":"listening"' "$tmp/esrp.log" || { fail "ng911-esrp did not start: $(tail -3 "$tmp/esrp.log")"; finish; }

# The browser test prints "ok ..." / "FAIL ..." lines; its exit code says whether all passed.
set +e
CONSOLE_URL="http://127.0.0.1:$http_port" ESRP_SIP="127.0.0.1:$esrp_port" PSAP_SIP="127.0.0.1:$psap_port" \
  FIRE_PORT="$fire_port" QUEUE_URI="$queue" WORK_DIR="$tmp" SCREENSHOT_DIR="$shots" CONSOLE_SRC="$console_src" \
  timeout 280 node "$here/$script"
rc=$?
set -e
if [ "$rc" != 0 ]; then
  echo "--- ng911-psap log (tail)"; tail -20 "$tmp/psap.log"
  echo "--- ng911-esrp log (tail)"; tail -20 "$tmp/esrp.log"
  for f in "$tmp"/*.sipp.out; do [ -f "$f" ] && { echo "--- $f"; tail -8 "$f"; }; done
fi
exit "$rc"
