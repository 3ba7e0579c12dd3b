#!/usr/bin/env bash
# ng911-psap's rebid for real: a caller whose location is only a reference (Geolocation: <http:
# URI of the test LIS>, no PIDF-LO), the console's POST /api/calls/{id}/rebid dereferencing it
# with HELD (RFC 5985/6753) at held_lis, then the same with the LIS gone.
#   rebid_test.sh NG911-PSAP HELD_LIS
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
psap_bin="$1" held_lis="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
require sipp curl python3
use_test_db psap_rebid
use_scratch

sip_port="$(free_port)" http_port="$(free_port tcp)" lis_port="$(free_port tcp)"
queue="sip:psap-a@127.0.0.1:$sip_port"
api="http://127.0.0.1:$http_port"
reference="http://127.0.0.1:$lis_port/loc/caller1"
mkdir -p "$tmp/console"
echo '<!doctype html><title>console</title>' > "$tmp/console/index.html"

# The access network's LIS holds a circle around the caller in Round Rock, TX: numbers that
# appear nowhere else in the call, so that finding them in the call view proves the dereference.
cat > "$tmp/caller1.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:con="urn:ietf:params:xml:ns:geopriv:conf" entity="pres:caller@example.com"><dm:device id="d1"><gp:geopriv><gp:location-info><gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>30.5083 -97.6789</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">120</gs:radius></gs:Circle><con:confidence pdf="normal">68</con:confidence></gp:location-info><gp:usage-rules/><gp:method>Cell</gp:method></gp:geopriv></dm:device></presence>
XML
start_lis() {
  "$held_lis" --listen "127.0.0.1:$lis_port" --location "/loc/caller1=$tmp/caller1.xml" >"$tmp/lis.log" 2>&1 &
  lis_pid=$!
  pids+=($lis_pid)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$lis_port/" && return 0; sleep 0.05; done
  fail "held_lis did not start: $(tail -3 "$tmp/lis.log")"
}
start_lis

expect_rc 0 "user add alice (call-taker)" -- sh -c "echo 'alice-password' | '$psap_bin' user add alice --role call-taker --db dbname=$PGDATABASE"
"$psap_bin" --listen "127.0.0.1:$sip_port" --http "127.0.0.1:$http_port" --queue "$queue" --db "dbname=$PGDATABASE" \
  --t1-ms 250 --held-timeout-ms 2000 --console-dir "$tmp/console" 2>>"$tmp/psap.log" &
psap_pid=$!
pids+=($psap_pid)
for _ in $(seq 100); do curl -sf "$api/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$api/healthz" >/dev/null 2>&1 || { fail "ng911-psap did not start: $(tail -3 "$tmp/psap.log")"; finish; exit 1; }

# A request as the console makes it: METHOD PATH [JSON]; prints "STATUS BODY".
req() {
  curl -s -o "$tmp/body" -w '%{http_code}' -b "$tmp/alice.jar" -c "$tmp/alice.jar" -X "$1" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$api$2" > "$tmp/status" || true
  echo "$(cat "$tmp/status") $(cat "$tmp/body")"
}
jq_() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().split(' ',1)[1]); print($1)"; }

out="$(req POST /api/login '{"name":"alice","password":"alice-password"}')"; expect_eq "${out%% *}" 200 "alice logs in"
out="$(req POST /api/me/ready)"; expect_eq "${out%% *}" 200 "alice is ready"

# The caller of the ESRP's tests (make_uac.py: Geolocation by reference, no PIDF-LO body), sent
# straight to the queue: the Request-URI is the queue's instead of the service URN. It waits for
# the PSAP's BYE, so the call stays up through both rebids.
python3 "$here/../esrp/make_uac.py" INVITE ref "$reference" --callee-hangs-up \
  | sed 's|^      INVITE urn:service:sos SIP/2.0|      INVITE sip:psap-a@[remote_ip]:[remote_port] SIP/2.0|' > "$tmp/ref_caller.xml"
grep -q "^      INVITE sip:psap-a@" "$tmp/ref_caller.xml" || fail "the caller scenario's Request-URI was not rewritten"
(cd "$tmp" && exec timeout 60 sipp -sf "$tmp/ref_caller.xml" "127.0.0.1:$sip_port" -i 127.0.0.1 -p "$(free_port)" \
   -m 1 -nostdin -timeout 50 -timeout_error -trace_msg -message_file "$tmp/caller.msg" > "$tmp/caller.out" 2>&1) &
caller_pid=$!
pids+=($caller_pid)

id=""
for _ in $(seq 50); do
  id="$(req GET /api/calls | jq_ "[c['id'] for c in d['live'] if c['state']=='ringing'][0]" 2>/dev/null)" && [ -n "$id" ] && break
  id=""; sleep 0.1
done
if [ -n "$id" ]; then pass "the by-reference call rings"; else fail "the call did not ring: $(req GET /api/calls)"; finish; exit 1; fi

out="$(req GET "/api/calls/$id")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['location_references'], d['location']['references'], 'lat' in d['location'], 'lon' in d['location'])")" \
  "(['$reference'], ['$reference'], False, False)" "call view: the location by reference listed, no coordinates yet"
out="$(req POST "/api/calls/$id/answer")"; expect_eq "${out%% *}" 200 "alice answers"
sleep 0.3

# ---- rebid with the LIS up ----
out="$(req POST "/api/calls/$id/rebid")"
expect_eq "${out%% *}" 200 "rebid: 200"
expect_eq "$(printf '%s' "$out" | jq_ "(d['id'], d['location']['source'], d['location']['shape'], d['location']['lat'], d['location']['lon'], d['location']['uncertainty_m'], d['location']['confidence'], d['location']['method'])")" \
  "($id, 'rebid', 'Circle', 30.5083, -97.6789, 120.0, 68.0, 'Cell')" "rebid answer: the LIS's circle (lat, lon, radius, confidence, method)"
out="$(req GET "/api/calls/$id")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['state'], d['location']['source'], d['location']['lat'], d['location']['lon'], d['location']['references'], d['location']['geojson']['type'])")" \
  "('answered', 'rebid', 30.5083, -97.6789, ['$reference'], 'Polygon')" "call view: now the LIS's location, the reference kept, the circle for the map"
expect_eq "$(printf '%s' "$out" | jq_ "[(e['kind'], e['actor'], e['detail'].get('uri'), (e['detail'].get('location') or {}).get('lat')) for e in d['events'] if e['kind'].startswith('rebid')]")" \
  "[('rebid_requested', 'alice', '$reference', None), ('rebid', 'alice', '$reference', 30.5083)]" "the call's events record the rebid: who, which URI, the location"

# ---- rebid with the LIS gone: a clear error, the call as it was ----
stop "$lis_pid"; wait "$lis_pid" 2>/dev/null || true
out="$(req POST "/api/calls/$id/rebid")"
expect_eq "${out%% *}" 502 "rebid with the LIS stopped: 502"
expect_eq "$(printf '%s' "$out" | jq_ "d['error'].startswith('rebid failed: unreachable')")" True "the error says the LIS is unreachable: $(printf '%s' "${out#* }" | head -c 200)"
if kill -0 "$psap_pid" 2>/dev/null; then pass "ng911-psap still runs"; else fail "ng911-psap died"; fi
out="$(req GET "/api/calls/$id")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['state'], d['answered_by'], d['location']['source'], d['location']['lat'], d['location']['lon'])")" \
  "('answered', 'alice', 'rebid', 30.5083, -97.6789)" "the call keeps its state and the last good location"
expect_eq "$(printf '%s' "$out" | jq_ "[(e['kind'], e['detail'].get('error')) for e in d['events'] if e['kind'].startswith('rebid')][-2:]")" \
  "[('rebid_requested', None), ('rebid_failed', 'unreachable')]" "the failed rebid is recorded with its error"

# ---- the call ends; the stored record keeps the rebid's location ----
out="$(req POST "/api/calls/$id/release")"; expect_eq "${out%% *}" 200 "alice releases the call"
if wait "$caller_pid"; then pass "SIPp caller: 200 OK to its INVITE, then the PSAP's BYE"; else fail "SIPp caller: $(tail -5 "$tmp/caller.out")"; fi
if grep -q "^Geolocation: <$reference>" "$tmp/caller.msg" && ! grep -qi 'pidf' "$tmp/caller.msg"; then
  pass "the caller sent the reference and no PIDF-LO"; else fail "the caller's INVITE: $(grep -i geolocation "$tmp/caller.msg")"; fi
out="$(req POST "/api/calls/$id/rebid")"; expect_eq "${out%% *}" 409 "rebid of an ended call: 409"
out="$(req GET "/api/calls/$id")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['state'], d['location']['source'], d['location']['lat'], d['location']['lon'])")" \
  "('ended', 'rebid', 30.5083, -97.6789)" "the stored call record has the rebid's location"
audit="$(psql -X -qtA -d "$PGDATABASE" -c "SELECT string_agg(user_name || ':' || outcome, ',' ORDER BY id) FROM psap.audit_log WHERE action = 'POST /api/calls/$id/rebid'" 2>&1)"
expect_eq "$audit" "alice:ok,alice:502,alice:409" "the audit log has the three rebids and their outcomes"

finish
