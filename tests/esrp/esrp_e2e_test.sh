#!/usr/bin/env bash
# The ESRP end to end: a SIPp caller places emergency calls with a PIDF-LO; ng911-esrp asks
# ng911-lost which PSAP serves the location and routes there, adding NENA's Call-Info ids; when
# the ECRF is down the service's default route takes the calls; a PSAP that rings without
# answering gives way to the default route.
#   esrp_e2e_test.sh PATH/TO/ng911-esrp PATH/TO/ng911-lost PATH/TO/ng911-gis
source "$(dirname "$0")/../support/testlib.sh"
esrp_bin="$1" lost_bin="$2" gis="$3"
here="$(cd "$(dirname "$0")" && pwd)"
scen="$here/../sip/sipp"
use_test_db esrp
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${NG911_TEST_KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $PGDATABASE WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psap_port="$(free_port)" default_port="$(free_port)" lost_port="$(free_port tcp)" esrp_port="$(free_port)"
# The caller is at 30.2672 -97.7431: Grid4 PSAP 0, whose queue is our SIPp callee.
python3 - "$here/../data/gis/psap-grid4.geojson" "$tmp/psaps.geojson" "$psap_port" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["features"][0]["properties"]["ServiceURI"] = "sip:psap0@127.0.0.1:%s" % sys.argv[3]
json.dump(d, open(sys.argv[2], "w"))
PY
"$gis" load --layer PsapPolygon "$tmp/psaps.geojson" >/dev/null 2>&1 || { fail "publish"; finish; }

start_lost() {
  "$lost_bin" --listen "127.0.0.1:$lost_port" --db "dbname=$PGDATABASE" --log-queries false 2>"$tmp/lost.log" &
  lost_pid=$!
  pids+=($lost_pid)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$lost_port/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "ng911-lost did not start"
}
start_esrp() {  # extra options
  "$esrp_bin" --listen "127.0.0.1:$esrp_port" --lost "http://127.0.0.1:$lost_port/" --lost-timeout-ms 500 \
    --default-route "urn:service:sos sip:default@127.0.0.1:$default_port" "$@" 2>>"$tmp/esrp.log" &
  esrp_pid=$!
  pids+=($esrp_pid)
  for _ in $(seq 100); do grep -q '"listening"' "$tmp/esrp.log" && return 0; sleep 0.05; done
  fail "ng911-esrp did not start"
}
stop_esrp() { kill "$esrp_pid" 2>/dev/null; wait "$esrp_pid" 2>/dev/null || true; }
# callee NAME PORT SCENARIO CALLS: a SIPp callee in the background, its messages traced
callee() {
  (cd "$tmp" && exec timeout 60 sipp $3 -i 127.0.0.1 -p "$2" -m "$4" -nostdin -timeout 40 -trace_msg \
     -message_file "$tmp/$1.msg" >"$tmp/$1.out" 2>&1) &
  eval "$1_pid=$!"
  pids+=($!)
}
caller() {  # NAME CALLS
  timeout 60 sipp -sf "$scen/uac-emergency.xml" "127.0.0.1:$esrp_port" -i 127.0.0.1 -p "$(free_port)" -m "$2" -r 5 \
    -nostdin -timeout 40 -timeout_error >"$tmp/$1-uac.out" 2>&1
}
callee_done() {  # NAME: the callee took its calls and exited 0
  local pid_var="$1_pid"
  wait "${!pid_var}"
}

start_lost
start_esrp

# 1. The ECRF answers: calls reach the PSAP with the NENA header fields.
callee psap "$psap_port" "-sn uas" 2
if caller routed 2; then pass "calls routed by location"; else fail "calls routed by location"; fi
if callee_done psap; then pass "the PSAP's queue took both calls"; else fail "the PSAP's queue did not take both calls"; fi
grep -q "Route: <sip:psap0@127.0.0.1:$psap_port;lr>" "$tmp/psap.msg" && pass "Route to the PSAP queue" || fail "no Route to the PSAP queue"
# The caller sent no NENA ids: the ESRP made both, in its own domain.
grep -q "Call-Info: <urn:emergency:uid:callid:[0-9a-f]*:esrp.ng911.example>;purpose=emergency-CallId" "$tmp/psap.msg" \
  && pass "call id added" || fail "no call id"
grep -q "Call-Info: <urn:emergency:uid:incidentid:[0-9a-f]*:esrp.ng911.example>;purpose=emergency-IncidentId" "$tmp/psap.msg" \
  && pass "incident id added" || fail "no incident id"
grep -q "Resource-Priority: esnet.1" "$tmp/psap.msg" && pass "Resource-Priority kept" || fail "Resource-Priority lost"
grep -q '"ecrf":"mapping"' "$tmp/esrp.log" && pass "the decision is logged" || fail "no route log"

# 2. The ECRF is down (and this ESRP has nothing cached): the default route takes the calls.
kill "$lost_pid"; wait "$lost_pid" 2>/dev/null || true
stop_esrp
start_esrp
callee default "$default_port" "-sn uas" 2
if caller ecrf-down 2; then pass "calls routed with the ECRF down"; else fail "calls with the ECRF down"; fi
if callee_done default; then pass "the default route took both calls"; else fail "the default route did not take the calls"; fi
grep -q '"ecrf":"unreachable"' "$tmp/esrp.log" && pass "the fallback is logged" || fail "fallback not logged"

# 3. The PSAP rings without answering: after the ring timeout the default route answers.
start_lost
stop_esrp
start_esrp --ring-timeout-ms 500
callee psap "$psap_port" "-sf $scen/uas-cancel.xml" 2
callee default "$default_port" "-sn uas" 2
if caller ring-no-answer 2; then pass "unanswered PSAP: calls completed on the default route"; else fail "ring-no-answer failover"; fi
callee_done default && pass "the default route answered" || fail "the default route did not answer"
callee_done psap && pass "the ringing PSAP was CANCELed" || fail "the ringing PSAP saw no CANCEL"
finish
