#!/usr/bin/env bash
# ng911-psap end to end: SIPp callers straight to the PSAP queue, curl as the console, the ESRP's
# own queue subscriber (ng911-queue-watch) for emergency-QueueState, a WebSocket client for the
# pushed events, and a restart in the middle of a call.
#   psap_e2e_test.sh NG911-PSAP NG911-QUEUE-WATCH
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
psap_bin="$1" watch_bin="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
require sipp curl python3
use_test_db psap_e2e
use_scratch

sip_port="$(free_port)" http_port="$(free_port tcp)" esrp_port="$(free_port)"
queue="sip:psap-a@127.0.0.1:$sip_port"
api="http://127.0.0.1:$http_port"
mkdir -p "$tmp/console"
echo '<!doctype html><title>console</title>' > "$tmp/console/index.html"

expect_rc 0 "user add alice (call-taker)" -- sh -c "echo 'alice-password' | '$psap_bin' user add alice --role call-taker --db dbname=$PGDATABASE"
expect_rc 0 "user add sam (supervisor)" -- sh -c "echo 'sam-password' | '$psap_bin' user add sam --role supervisor --db dbname=$PGDATABASE"
expect_rc 1 "user add alice again is refused" -- sh -c "echo 'alice-password' | '$psap_bin' user add alice --role call-taker --db dbname=$PGDATABASE"
expect_rc 2 "user add without a role" -- sh -c "echo 'x-password' | '$psap_bin' user add carl --db dbname=$PGDATABASE"

start_psap() {
  "$psap_bin" --listen "127.0.0.1:$sip_port" --http "127.0.0.1:$http_port" --queue "$queue" --db "dbname=$PGDATABASE" \
    --t1-ms 250 --console-dir "$tmp/console" --esrp "sip:127.0.0.1:$esrp_port" 2>>"$tmp/psap.log" &
  psap_pid=$!
  pids+=($psap_pid)
  for _ in $(seq 100); do curl -sf "$api/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "ng911-psap did not start: $(tail -3 "$tmp/psap.log")"
}
start_psap

# A request as the console makes it: METHOD PATH [JSON] [JAR]; prints "STATUS BODY".
req() {
  local jar="${4:-$tmp/alice.jar}"
  curl -s -o "$tmp/body" -w '%{http_code}' -b "$jar" -c "$jar" -X "$1" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$api$2" > "$tmp/status" || true
  echo "$(cat "$tmp/status") $(cat "$tmp/body")"
}
jq_() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().split(' ',1)[1]); print($1)"; }
wait_for() {  # wait_for DESCRIPTION PYTHON-EXPRESSION-ON-d (GET /api/calls), up to 5 s
  for _ in $(seq 50); do
    out="$(req GET /api/calls)"
    if [ "$(printf '%s' "$out" | jq_ "$2" 2>/dev/null)" = "True" ]; then pass "$1"; return 0; fi
    sleep 0.1
  done
  fail "$1: $out"
}

# ---- the ESRP's subscriber sees the queue's real state ----
"$watch_bin" --queue "$queue" --duration-ms 120000 --t1-ms 250 > "$tmp/watch.out" 2>"$tmp/watch.err" &
pids+=($!)
watch_has() {
  for _ in $(seq 50); do grep -q -- "$1" "$tmp/watch.out" && { pass "$2"; return 0; }; sleep 0.1; done
  fail "$2: $(tail -3 "$tmp/watch.out")"
}
watch_has '"state":"Inactive","length":0,"max":10,"subscribed":true' "queue state notified at subscription: Inactive 0/10 (nobody logged in)"

# ---- login, sessions, roles ----
out="$(req GET /api/calls)"; expect_eq "${out%% *}" 401 "GET /api/calls without a session: 401"
out="$(req POST /api/login '{"name":"alice","password":"wrong"}')"; expect_eq "${out%% *}" 401 "login with a wrong password: 401"
out="$(req POST /api/login '{"name":"nobody","password":"wrong"}')"; expect_eq "${out%% *}" 401 "login as an unknown user: 401"
out="$(req POST /api/login 'not json')"; expect_eq "${out%% *}" 400 "login with a body that is not JSON: 400"
cookie_line="$(curl -s -D - -o /dev/null -X POST --data '{"name":"alice","password":"alice-password"}' "$api/api/login" | grep -i '^Set-Cookie')"
if printf '%s' "$cookie_line" | grep -q 'HttpOnly' && printf '%s' "$cookie_line" | grep -q 'SameSite=Strict'; then
  pass "session cookie is HttpOnly and SameSite=Strict"; else fail "session cookie: $cookie_line"; fi
out="$(req POST /api/login '{"name":"alice","password":"alice-password"}')"; expect_eq "${out%% *}" 200 "alice logs in"
out="$(req GET /api/supervisor)"; expect_eq "${out%% *}" 403 "a call-taker asking for the supervisor view: 403"
watch_has '"state":"Standby"' "queue Standby once a call-taker is logged in but not ready"
out="$(req POST /api/me/ready)"; expect_eq "${out%% *}" 200 "alice is ready"
watch_has '"state":"Active","length":0' "queue Active when a call-taker is ready"

# ---- the console's WebSocket ----
python3 "$here/ws_client.py" 127.0.0.1 "$http_port" "foo=bar" 2 > "$tmp/ws-anon.out" || true
if grep -q ' 401 ' "$tmp/ws-anon.out"; then pass "WebSocket without a session: 401"; else fail "WebSocket without a session: $(cat "$tmp/ws-anon.out")"; fi
sid="$(awk '$6 == "ng911_psap_session" {print $7}' "$tmp/alice.jar")"
python3 "$here/ws_client.py" 127.0.0.1 "$http_port" "ng911_psap_session=$sid" 25 > "$tmp/ws.out" &
pids+=($!)
sleep 0.5

# ---- a voice call: ring, answer, hold, resume, release ----
(cd "$tmp" && exec timeout 60 sipp -sf "$here/sipp/caller.xml" "127.0.0.1:$sip_port" -s psap-a -i 127.0.0.1 -p "$(free_port)" \
   -m 1 -nostdin -timeout 50 -timeout_error -trace_msg -message_file "$tmp/caller.msg" > "$tmp/caller.out" 2>&1) &
caller_pid=$!
pids+=($caller_pid)
wait_for "the call shows ringing in GET /api/calls" "any(c['state']=='ringing' and c['callback']=='+15125550100' for c in d['live'])"
id="$(req GET /api/calls | jq_ "d['live'][0]['id']")"
watch_has '"state":"Active","length":1' "queue length 1 notified while the call rings"
out="$(req GET "/api/calls/$id")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['service'], d['location']['shape'], d['location']['lat'], d['location']['uncertainty_m'], d['location']['confidence'], d['location']['method'])")" \
  "('urn:service:sos', 'Circle', 30.2672, 35.0, 90.0, 'GPS')" "call view: service and location (shape, uncertainty, confidence, method)"
expect_eq "$(printf '%s' "$out" | jq_ "(d['emergency_call_id'], d['incident_id'], d['caller_name'], len(d['history']), d['additional_data'][0]['purpose'])")" \
  "('urn:emergency:uid:callid:abc123:esrp.example.net', 'urn:emergency:uid:incidentid:inc42:esrp.example.net', 'Jane Caller', 2, 'EmergencyCallData.ProviderInfo')" \
  "call view: i3 identifiers, caller, History-Info route, additional data"
out="$(req POST "/api/calls/$id/answer")"; expect_eq "${out%% *}" 200 "alice answers"
out="$(req POST "/api/calls/$id/answer")"; expect_eq "${out%% *}" 409 "answering an answered call: 409"
sleep 0.5
out="$(req POST "/api/calls/$id/hold")"; expect_eq "${out%% *}" 200 "hold (re-INVITE a=sendonly)"
sleep 0.5
out="$(req POST "/api/calls/$id/resume")"; expect_eq "${out%% *}" 200 "resume (re-INVITE a=sendrecv)"
sleep 0.5
out="$(req POST "/api/calls/$id/release")"; expect_eq "${out%% *}" 200 "alice releases the call"
if wait "$caller_pid"; then pass "SIPp caller got 180, 200 OK, the hold/resume re-INVITEs and the BYE"; else fail "SIPp caller: $(tail -5 "$tmp/caller.out")"; fi
if grep -q 'a=sendonly' "$tmp/caller.msg"; then pass "the hold re-INVITE says a=sendonly"; else fail "no a=sendonly in the hold re-INVITE"; fi
out="$(req GET "/api/calls/$id")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['state'], d['answered_by'], [e['kind'] for e in d['events'] if e['kind'] in ('answered','hold','resume','released')])")" \
  "('ended', 'alice', ['answered', 'hold', 'resume', 'released'])" "the call record: ended, answered by alice, its history"
out="$(req POST "/api/calls/$id/release")"; expect_eq "${out%% *}" 409 "releasing an ended call: 409"
out="$(req POST /api/calls/987654/answer)"; expect_eq "${out%% *}" 404 "answering an unknown call: 404"
out="$(req POST /api/calls/abc/answer)"; expect_eq "${out%% *}" 400 "a call id that is not a number: 400"
out="$(req POST "/api/calls/$id/transfer" '{"nope":1}')"; expect_eq "${out%% *}" 400 "transfer without a target: 400"

# ---- the caller hangs up first: abandoned ----
(cd "$tmp" && exec timeout 30 sipp -sf "$here/sipp/abandon.xml" "127.0.0.1:$sip_port" -s psap-a -i 127.0.0.1 -p "$(free_port)" \
   -m 1 -nostdin -timeout 20 -timeout_error > "$tmp/abandon.out" 2>&1)
expect_eq "$?" 0 "SIPp caller's CANCEL answered 200, the INVITE 487"
wait_for "the call is listed as abandoned" "any(c['state']=='abandoned' and c['service']=='urn:service:sos.police' for c in d['recent'])"

# ---- text-to-911 both ways ----
(cd "$tmp" && exec timeout 40 sipp -sf "$here/sipp/texter.xml" "127.0.0.1:$sip_port" -s psap-a -i 127.0.0.1 -p "$(free_port)" \
   -m 1 -nostdin -timeout 30 -timeout_error > "$tmp/texter.out" 2>&1) &
texter_pid=$!
pids+=($texter_pid)
wait_for "the text conversation shows ringing" "any(c['kind']=='text' and c['state']=='ringing' for c in d['live'])"
tid="$(req GET /api/calls | jq_ "[c['id'] for c in d['live'] if c['kind']=='text'][0]")"
out="$(req POST /api/answer-next)"; expect_eq "$(printf '%s' "$out" | jq_ "(d['id'], d['state'])")" "($tid, 'answered')" "answer-next takes the oldest ringing call (the text)"
out="$(req POST "/api/calls/$tid/text" '{"text":"Help is on the way. Are you safe?"}')"; expect_eq "${out%% *}" 200 "alice replies by text"
if wait "$texter_pid"; then pass "SIPp texter got 200 and the reply MESSAGE"; else fail "SIPp texter: $(tail -5 "$tmp/texter.out")"; fi
sleep 0.3
out="$(req GET "/api/calls/$tid")"
expect_eq "$(printf '%s' "$out" | jq_ "[(t['direction'], t['status']) for t in d['texts']]")" "[('in', 'received'), ('out', 'delivered')]" \
  "the conversation is stored both ways, the reply delivered"
out="$(req POST "/api/calls/$tid/text" '{"text":""}')"; expect_eq "${out%% *}" 400 "an empty text: 400"
out="$(req POST "/api/calls/$tid/release")"; expect_eq "${out%% *}" 200 "the text conversation is closed"

# ---- transfer through the ESRP: the PSAP as bridge ----
(cd "$tmp" && exec timeout 40 sipp -sf "$here/sipp/transfer_target.xml" -i 127.0.0.1 -p "$esrp_port" -m 1 -nostdin \
   -timeout 30 -timeout_error -trace_msg -message_file "$tmp/target.msg" > "$tmp/target.out" 2>&1) &
target_pid=$!
pids+=($target_pid)
(cd "$tmp" && exec timeout 40 sipp -sf "$here/sipp/transfer_caller.xml" "127.0.0.1:$sip_port" -s psap-a -i 127.0.0.1 -p "$(free_port)" \
   -m 1 -nostdin -timeout 30 -timeout_error > "$tmp/xcaller.out" 2>&1) &
xcaller_pid=$!
pids+=($xcaller_pid)
wait_for "the call to transfer rings" "any(c['state']=='ringing' and c['callback']=='+15125550133' for c in d['live'])"
xid="$(req GET /api/calls | jq_ "[c['id'] for c in d['live'] if c['callback']=='+15125550133'][0]")"
out="$(req POST "/api/calls/$xid/answer")"; expect_eq "${out%% *}" 200 "the call to transfer is answered"
sleep 0.3
out="$(req POST "/api/calls/$xid/transfer" '{"target":"urn:service:sos.fire"}')"; expect_eq "${out%% *}" 200 "transfer to urn:service:sos.fire"
if wait "$xcaller_pid"; then pass "the caller got the bridge re-INVITE with the target's SDP, then hung up"; else fail "transfer caller: $(tail -5 "$tmp/xcaller.out")"; fi
if wait "$target_pid"; then pass "the target got the INVITE through the ESRP with Call-Info, Geolocation and PIDF-LO, then the BYE"; else fail "transfer target: $(tail -5 "$tmp/target.out")"; fi
out="$(req GET "/api/calls/$xid")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['state'], [e['kind'] for e in d['events'] if e['kind'].startswith('transfer') or e['kind'] in ('bridged','caller_hung_up')])")" \
  "('transferred', ['transfer_started', 'transfer_answered', 'bridged', 'caller_hung_up'])" "the transfer's history in the call record"

# ---- supervisor, audit, metrics, static files ----
out="$(req POST /api/login '{"name":"sam","password":"sam-password"}' "$tmp/sam.jar")"; expect_eq "${out%% *}" 200 "sam (supervisor) logs in"
out="$(req GET /api/supervisor '' "$tmp/sam.jar")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['calls_waiting'], d['ready'], sorted(t['name'] for t in d['call_takers']))")" "(0, 1, ['alice', 'sam'])" \
  "supervisor view: calls waiting, call-takers ready and not"
out="$(req GET /api/audit '' "$tmp/sam.jar")"
expect_eq "$(printf '%s' "$out" | jq_ "any(a['user']=='alice' and a['action']=='POST /api/calls/$id/answer' and a['outcome']=='409' for a in d)")" True \
  "the audit log has alice's refused second answer"
expect_eq "$(printf '%s' "$out" | jq_ "any(a['user']=='' and a['outcome']=='401' for a in d)")" True "the audit log has the unauthenticated request"
metrics="$(curl -s "$api/metrics")"
if printf '%s\n' "$metrics" | grep -q '^ng911_psap_calls_total{outcome="abandoned"} 1$'; then pass "/metrics counts the abandoned call"; else fail "/metrics: $(printf '%s\n' "$metrics" | grep calls_total)"; fi
expect_eq "$(curl -s "$api/")" '<!doctype html><title>console</title>' "the console directory is served at /"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$api/../../etc/passwd")" 400 "no path out of the console directory"
out="$(req POST /api/logout)"; expect_eq "${out%% *}" 200 "alice logs out"
out="$(req GET /api/calls)"; expect_eq "${out%% *}" 401 "her session no longer works"

# ---- pushed events ----
sleep 0.3
if grep -q '"type":"hello"' "$tmp/ws.out" && grep -q '"state":"ringing"' "$tmp/ws.out"; then pass "WebSocket: hello, then the ringing call pushed"
else fail "WebSocket events: $(head -c 600 "$tmp/ws.out")"; fi
expect_eq "$(python3 -c "
import json,sys
seqs=[json.loads(l)['seq'] for l in open('$tmp/ws.out') if l.startswith('{') and '\"hello\"' not in l]
print(len(seqs)>3 and seqs==sorted(seqs) and len(set(seqs))==len(seqs))")" True "WebSocket events carry increasing sequence numbers"

# ---- a restart in the middle of a call: the call is kept, marked interrupted ----
out="$(req POST /api/login '{"name":"alice","password":"alice-password"}')"
(cd "$tmp" && exec timeout 30 sipp -sf "$here/sipp/caller.xml" "127.0.0.1:$sip_port" -s psap-a -i 127.0.0.1 -p "$(free_port)" \
   -m 1 -nostdin -timeout 20 > "$tmp/caller2.out" 2>&1) &
caller2_pid=$!
pids+=($caller2_pid)
wait_for "a second call rings" "any(c['state']=='ringing' for c in d['live'])"
id2="$(req GET /api/calls | jq_ "d['live'][0]['id']")"
req POST "/api/calls/$id2/answer" >/dev/null
kill -KILL "$psap_pid"; wait "$psap_pid" 2>/dev/null || true
start_psap
out="$(req GET "/api/calls/$id2")"
expect_eq "$(printf '%s' "$out" | jq_ "(d['state'], d['answered_by'], d['events'][-1]['kind'])")" "('interrupted', 'alice', 'interrupted')" \
  "after a crash and restart the answered call is kept, marked interrupted; the session still works"
kill "$caller2_pid" 2>/dev/null || true

finish
