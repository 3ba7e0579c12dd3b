#!/usr/bin/env bash
# The sample appliance's ng911-psap pieces that can be checked apart from scripts/up.sh (which
# runs as root on var/ and fixed ports):
#  - scripts/sample-data/build.sh serves Hays County, TX (FIPS 48209) by ng911-psap's queue
#    sip:psap-c@127.0.0.1:5070 besides the two SIPp queues, and a second run leaves the file as
#    it was (so that up.sh's `ng911-gis load --if-changed` skips the republish);
#  - scripts/esrp/call.sh --ring-s against a queue that only rings (ng911-psap, nobody answers)
#    through a real ng911-esrp: it says the call rings in the console, cancels it after the
#    wait, exits 3, and ng911-psap records the call as abandoned.
#   appliance_psap_test.sh NG911-PSAP NG911-ESRP NG911-CALLLOG
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
psap_bin="$1" esrp_bin="$2" calllog_bin="$3"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
require sipp curl python3 node ogr2ogr
use_test_db appliance_psap
use_scratch

# ---- the sample data ----
expect_rc 0 "sample-data/build.sh builds into a directory of its own" -- "$root/scripts/sample-data/build.sh" "$tmp/sample"
local_geojson="$tmp/sample/us-counties-psap-local.geojson"
routes() {
  python3 - "$local_geojson" <<'PY'
import json, sys
features = json.load(open(sys.argv[1]))["features"]
uris = {f["properties"]["CountyFIPS"]: f["properties"]["ServiceURI"] for f in features}
print(uris.get("48209"), uris.get("48453"), uris.get("48491"), uris.get("48029"))
PY
}
expect_eq "$(routes)" "sip:psap-c@127.0.0.1:5070 sip:psap-a@127.0.0.1:5071 sip:psap-b@127.0.0.1:5072 sip:psap-48029@psap.example.net" \
  "Hays County (48209) -> psap-c, Travis -> psap-a, Williamson -> psap-b, Bexar keeps its made-up PSAP"
before="$(stat -c %Y.%s "$local_geojson")"
expect_rc 0 "sample-data/build.sh again" -- "$root/scripts/sample-data/build.sh" "$tmp/sample"
expect_eq "$(stat -c %Y.%s "$local_geojson")" "$before" "a second run with the same inputs leaves the published file as it was"

# ---- call.sh --ring-s against a queue nobody answers, through the ESRP ----
psap_port="$(free_port)" http_port="$(free_port tcp)" esrp_port="$(free_port)" esrp_http="$(free_port tcp)" no_lost="$(free_port tcp)"
queue="sip:psap-c@127.0.0.1:$psap_port"
api="http://127.0.0.1:$http_port"
mkdir -p "$tmp/console" "$tmp/spool"
echo '<!doctype html><title>console</title>' > "$tmp/console/index.html"
expect_rc 0 "user add alice (call-taker)" -- sh -c "echo 'alice-password' | '$psap_bin' user add alice --role call-taker --db dbname=$PGDATABASE"

"$psap_bin" --listen "127.0.0.1:$psap_port" --http "127.0.0.1:$http_port" --queue "$queue" --db "dbname=$PGDATABASE" \
  --console-dir "$tmp/console" --esrp "sip:127.0.0.1:$esrp_port" 2>>"$tmp/psap.log" &
pids+=($!)
# No LoST server listens on $no_lost: the ECRF fails at once and the call takes the default
# route, ng911-psap's queue, as a San Marcos call takes psap-c from the sample data.
"$esrp_bin" --listen "127.0.0.1:$esrp_port" --http "127.0.0.1:$esrp_http" --lost "http://127.0.0.1:$no_lost/" \
  --default-route "urn:service:sos $queue" --last-resort "$queue" --ring-timeout-ms 30000 \
  --call-log-db "dbname=$PGDATABASE" --spool-dir "$tmp/spool" 2>>"$tmp/esrp.log" >>"$tmp/esrp.log" &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "$api/healthz" >/dev/null 2>&1 && grep -q '"event":"listening"' "$tmp/esrp.log" && break
  sleep 0.1
done
curl -sf "$api/healthz" >/dev/null 2>&1 || fail "ng911-psap did not start: $(tail -3 "$tmp/psap.log")"
grep -q '"event":"listening"' "$tmp/esrp.log" || fail "ng911-esrp did not start: $(tail -3 "$tmp/esrp.log")"

start=$SECONDS
expect_rc 3 "call.sh --ring-s 3 from San Marcos: nobody answers, cancelled (exit 3)" -- \
  env NG911_BUILD="$(dirname "$(dirname "$calllog_bin")")" NG911_PSAP_HTTP="127.0.0.1:$http_port" \
  timeout 60 "$root/scripts/esrp/call.sh" --esrp "127.0.0.1:$esrp_port" --ring-s 3 29.8833 -97.9414
took=$((SECONDS - start))
expect_out "The call is ringing, unanswered: .*answer it in" "call.sh says the call rings, to be answered in the console"
expect_out "http://127.0.0.1:$http_port/" "call.sh names the console's address"
expect_out "<-- SIP/2.0 180 Ringing" "the caller heard 180 Ringing from ng911-psap"
expect_out "--> CANCEL urn:service:sos SIP/2.0" "call.sh sent CANCEL"
expect_out "<-- SIP/2.0 487" "the INVITE ended 487 Request Terminated"
expect_out "nobody answered within 3 s: call.sh cancelled the call" "call.sh says it cancelled the call"
if [ "$took" -lt 15 ]; then pass "call.sh returned after the ring wait ($took s, --ring-s 3)"; else fail "call.sh took $took s with --ring-s 3"; fi

curl -s -c "$tmp/jar" -o /dev/null -X POST --data '{"name":"alice","password":"alice-password"}' "$api/api/login"
abandoned=""
for _ in $(seq 50); do
  abandoned="$(curl -s -b "$tmp/jar" "$api/api/calls" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([(c["state"], c["callback"]) for c in d["recent"] + d["live"]])' 2>&1)"
  [[ "$abandoned" == *abandoned* ]] && break
  sleep 0.1
done
expect_eq "$abandoned" "[('abandoned', '+15125550100')]" "ng911-psap lists the cancelled call as abandoned, with its call-back number"
finish
