#!/usr/bin/env bash
# The ESRP end to end with real peers, one call per way of giving a location: SIPp callers send
# emergency INVITEs (and a text-to-911 MESSAGE) through ng911-esrp, which asks ng911-lost and
# routes to SIPp callees standing in for the PSAP queues.
#   by value (geodetic) and civic → PSAP 0; by reference → HELD (held_lis) → PSAP 0;
#   none and garbled → the default location, inserted, → PSAP 1;
#   OPTIONS answered, a BYE outside a dialog 481, other methods 405; under overload other
#   requests are shed, emergency calls never.
#   esrp_calls_test.sh ESRP LOST GIS HELD_LIS
source "$(dirname "$0")/esrp_lib.sh" esrp_calls "$1" "$2" "$3"
held_lis="$4"
lis_port="$(free_port tcp)"

# The access network's LIS holds the caller's location for a reference.
python3 - "$tmp/caller1.xml" <<'PY'
import sys
open(sys.argv[1], "w").write('<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:gml="http://www.opengis.net/gml" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:caller@example.com"><dm:device id="d1"><gp:geopriv><gp:location-info><gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>30.2672 -97.7431</gml:pos></gml:Point></gp:location-info><gp:usage-rules/><gp:method>Cell</gp:method></gp:geopriv></dm:device></presence>\n')
PY
"$held_lis" --listen "127.0.0.1:$lis_port" --location "/loc/caller1=$tmp/caller1.xml" >"$tmp/lis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$lis_port/" && break; sleep 0.05; done

start_lost
start_esrp --default-location "30.265 -97.735"

# 1. Location by value: PSAP 0, NENA's ids and Resource-Priority added, the PIDF-LO untouched.
callee psap0 "$psap0_port" "-sn uas" 1
caller value INVITE value && pass "by value: call completed" || fail "by value: call failed"
callee_done psap0 && pass "by value: PSAP 0 took the call" || fail "by value: PSAP 0 did not take the call"
grep -q "Route: <$psap0;lr>" "$tmp/psap0.msg" && pass "Route to PSAP 0's queue" || fail "no Route to PSAP 0"
grep -q "^INVITE urn:service:sos SIP/2.0" "$tmp/psap0.msg" && pass "Request-URI kept" || fail "Request-URI changed"
grep -q "Call-Info: <urn:emergency:uid:callid:[0-9a-f]*:esrp.ng911.example>;purpose=emergency-CallId" "$tmp/psap0.msg" \
  && pass "call id added" || fail "no call id"
grep -q "Call-Info: <urn:emergency:uid:incidentid:[0-9a-f]*:esrp.ng911.example>;purpose=emergency-IncidentId" "$tmp/psap0.msg" \
  && pass "incident id added" || fail "no incident id"
grep -q "Resource-Priority: esnet.1" "$tmp/psap0.msg" && pass "Resource-Priority esnet.1 added" || fail "no Resource-Priority"
grep -q "History-Info: <urn:service:sos>;index=1, <$psap0>;index=1.1;rc=1" "$tmp/psap0.msg" \
  && pass "History-Info names the queue" || fail "no History-Info: $(grep -i history "$tmp/psap0.msg" | head -1)"
grep -q "<gml:pos>30.2672 -97.7431</gml:pos>" "$tmp/psap0.msg" && pass "the PIDF-LO went through" || fail "PIDF-LO lost"
call="$(received_call_id psap0)"
kinds="$(story_kinds "$call")"
for k in call_start location lost_query lost_answer route answered call_end; do
  [[ " $kinds " == *" $k "* ]] && pass "call log has $k" || fail "call log lacks $k (has: $kinds)"
done

# 1b. A caller on UDP, PSAP 0 on TCP (the large INVITE goes on over TCP): the ESRP record-routes
#     twice (RFC 5658), one URI per transport, so that the PSAP's own BYE reaches the caller
#     over UDP, not over a TCP connection the caller never offered.
callee psap0 "$psap0_port" "-t t1 -sf $escen/psap-hangs-up.xml" 1
caller hangup INVITE value --callee-hangs-up && pass "PSAP hangs up: the caller got its BYE over UDP" \
  || fail "PSAP hangs up: the caller did not get the BYE"
callee_done psap0 && pass "PSAP hangs up: its BYE was answered" || fail "PSAP hangs up: no answer to its BYE"
grep -q "^Record-Route: <sip:127.0.0.1:$esrp_port;transport=tcp;lr>" "$tmp/psap0.msg" \
  && grep -q "^Record-Route: <sip:127.0.0.1:$esrp_port;lr>" "$tmp/psap0.msg" \
  && pass "double Record-Route across UDP and TCP" || fail "no double Record-Route: $(grep -i '^Record-Route' "$tmp/psap0.msg" | head -2)"

# 2. Civic location by value: the LoST server's civic matching finds PSAP 0.
callee psap0 "$psap0_port" "-sn uas" 1
caller civic INVITE civic && pass "civic: call completed" || fail "civic: call failed"
callee_done psap0 && pass "civic: PSAP 0 took the call" || fail "civic: PSAP 0 did not take it"

# 3. Location by reference: dereferenced with HELD at the LIS.
callee psap0 "$psap0_port" "-sn uas" 1
caller reference INVITE ref "http://127.0.0.1:$lis_port/loc/caller1" && pass "by reference: call completed" || fail "by reference: call failed"
callee_done psap0 && pass "by reference: PSAP 0 took the call (HELD)" || fail "by reference: PSAP 0 did not take it"
grep -q "Geolocation: <http://127.0.0.1:$lis_port/loc/caller1>" "$tmp/psap0.msg" && pass "the reference is passed on" || fail "reference lost"
log_has '"event":"held_dereference".*"result":"location"' && pass "dereference logged" || fail "no dereference log"

# 4. No location: the default location routes (PSAP 1) and is inserted on top, marked.
callee psap1 "$psap1_port" "-sn uas" 1
caller none INVITE none && pass "no location: call completed" || fail "no location: call failed"
callee_done psap1 && pass "no location: PSAP 1 (default location) took the call" || fail "no location: PSAP 1 did not take it"
grep -q "^Geolocation: <cid:default-location\.[0-9a-f]*@esrp.ng911.example>" "$tmp/psap1.msg" \
  && pass "default location inserted as Geolocation" || fail "no default Geolocation"
grep -q 'tuple id="esrp-default-location"' "$tmp/psap1.msg" && pass "default PIDF-LO in the body, marked" || fail "no default PIDF-LO"
grep -q "^m=audio" "$tmp/psap1.msg" && pass "the SDP went through" || fail "SDP lost"

# 5. Garbled PIDF-LO: the default location on top, the caller's Geolocation kept below it.
callee psap1 "$psap1_port" "-sn uas" 1
caller garbled INVITE garbled && pass "garbled: call completed" || fail "garbled: call failed"
callee_done psap1 && pass "garbled: PSAP 1 took the call" || fail "garbled: PSAP 1 did not take it"
first_geo="$(grep -i '^Geolocation:' "$tmp/psap1.msg" | head -1)" second_geo="$(grep -i '^Geolocation:' "$tmp/psap1.msg" | sed -n 2p)"
[[ "$first_geo" == *default-location* && "$second_geo" == *loc1@example.com* ]] \
  && pass "default on top, the caller's Geolocation kept" || fail "Geolocation order: $first_geo / $second_geo"
log_has '"default_inserted":true' && pass "default location logged" || fail "default location not logged"

# 6. Text to 911: MESSAGE with a PIDF-LO routed like a call.
callee psap0 "$psap0_port" "-sf $escen/uas-message.xml" 1
caller text MESSAGE value && pass "MESSAGE delivered" || fail "MESSAGE failed"
callee_done psap0 && pass "PSAP 0 took the MESSAGE" || fail "PSAP 0 did not take the MESSAGE"

# 7. OPTIONS to the ESRP: 200 with Allow. Requests addressed to the ESRP itself that it does
#    not serve: a BYE outside any dialog (what a caller that gave up on an unanswered call
#    sends its first hop) 481, a method it does not take 405 with Allow.
ask() {  # METHOD BRANCH [TO-TAG]: one request to the ESRP over UDP; prints the final response
  python3 - "$esrp_port" "$@" <<'PY'
import socket, sys
port, method, branch = sys.argv[1], sys.argv[2], sys.argv[3]
to_tag = ";tag=" + sys.argv[4] if len(sys.argv) > 4 else ""
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(3)
p = s.getsockname()[1]
msg = ("%s sip:127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"
       "From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:127.0.0.1:%s>%s\r\nCall-ID: %s-%s@test\r\nCSeq: 1 %s\r\n"
       "Content-Length: 0\r\n\r\n") % (method, port, p, branch, port, to_tag, method.lower(), branch, method)
s.sendto(msg.encode(), ("127.0.0.1", int(port)))
while True:
    r = s.recv(65535).decode(errors="replace")
    if not r.startswith("SIP/2.0 100"): break
print(r)
PY
}
options() { ask OPTIONS "$1"; }
out="$(options o1)"
[[ "$out" == "SIP/2.0 200 OK"* && "$out" == *"Allow: INVITE"* ]] && pass "OPTIONS answered 200 with Allow" || fail "OPTIONS: $out"
out="$(ask BYE b1 gone)"
[[ "$out" == "SIP/2.0 481"* ]] && pass "BYE outside a dialog answered 481" || fail "BYE outside a dialog: $out"
out="$(ask SUBSCRIBE s1)"
[[ "$out" == "SIP/2.0 405"* && "$out" == *"Allow: INVITE"* ]] && pass "SUBSCRIBE to the ESRP answered 405 with Allow" || fail "SUBSCRIBE: $out"

# 8. Overload: with one call pending (a PSAP that rings) and --max-pending 1, OPTIONS is shed
#    with 503, while another emergency call is still routed.
stop_esrp
start_esrp --default-location "30.265 -97.735" --max-pending 1 --ring-timeout-ms 15000
callee psap0 "$psap0_port" "-sf $scen/uas-cancel.xml" 1
python3 "$here/make_uac.py" INVITE value > "$tmp/ringing-uac.xml"
timeout 60 sipp -sf "$tmp/ringing-uac.xml" "127.0.0.1:$esrp_port" -i 127.0.0.1 -p "$(free_port)" -m 1 -nostdin \
  -timeout 40 >"$tmp/ringing-uac.out" 2>&1 &
ringing=$!
pids+=($ringing)
log_has '"event":"route"' || true
out="$(options o2)"
[[ "$out" == "SIP/2.0 503"* && "$out" == *"Retry-After:"* ]] && pass "overload: OPTIONS shed with 503" || fail "overload: OPTIONS got $out"
callee psap1 "$psap1_port" "-sn uas" 1
caller overload INVITE none && pass "overload: an emergency call is still routed" || fail "overload: emergency call refused"
callee_done psap1 || fail "overload: PSAP 1 did not take the call"
curl -s "http://127.0.0.1:$http_port/metrics" > "$tmp/metrics.txt"
grep -q 'ng911_esrp_calls_total{outcome="shed"} [1-9]' "$tmp/metrics.txt" && pass "shedding counted in /metrics" || fail "no shed metric"
grep -q 'ng911_esrp_routing_seconds_count [1-9]' "$tmp/metrics.txt" && pass "routing latency in /metrics" || fail "no routing latency"
grep -q 'ng911_esrp_lost_seconds_count [1-9]' "$tmp/metrics.txt" && pass "LoST latency in /metrics" || fail "no LoST latency"
# The body, then the status and curl's exit code: a failure says which of them was wrong.
healthz="$(curl -s -w '|%{http_code}|%{exitcode}' "http://127.0.0.1:$http_port/healthz")"
[ "$healthz" = $'ok\n|200|0' ] && pass "/healthz ok" || fail "/healthz: body|status|curl exit: '$healthz'"
wait "$ringing" 2>/dev/null || true
callee_done psap0 || true

# 9. SIP over TLS: a caller's proxy (ng911-sip-proxy) hands the call to the ESRP over TLS,
#    checking the ESRP's certificate; the ESRP routes it on to PSAP 0.
stop_esrp
(cd "$tmp" && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca &&
  openssl req -newkey rsa:2048 -nodes -keyout esrp.key -out esrp.csr -subj /CN=127.0.0.1 &&
  printf 'subjectAltName=IP:127.0.0.1\n' > ext &&
  openssl x509 -req -in esrp.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out esrp.pem -days 2 -extfile ext) \
  >/dev/null 2>&1 || fail "test certificates"
tls_port="$(free_port tcp)" edge_port="$(free_port)"
start_esrp --default-location "30.265 -97.735" --tls-cert "$tmp/esrp.pem" --tls-key "$tmp/esrp.key" --tls-port "$tls_port"
grep -q "\"tls_port\":$tls_port" "$tmp/esrp.log" && pass "TLS listener on --tls-port" || fail "no TLS listener: $(grep listening "$tmp/esrp.log")"
"$(dirname "$esrp_bin")/ng911-sip-proxy" --listen "127.0.0.1:$edge_port" --next-hop "tls:127.0.0.1:$tls_port" \
  --tls-cert "$tmp/esrp.pem" --tls-key "$tmp/esrp.key" --tls-ca "$tmp/ca.pem" --t1-ms 100 2>"$tmp/edge.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$tmp/edge.log" && break; sleep 0.05; done
# A PSAP that keeps the Record-Route set (SIPp's built-in uas drops it), so that ACK and BYE
# go back through both proxies as they would in the field.
callee psap0 "$psap0_port" "-sf $here/../../scripts/esrp/psap-queue.xml" 1
python3 "$here/make_uac.py" INVITE value > "$tmp/tls-uac.xml"
timeout 60 sipp -sf "$tmp/tls-uac.xml" "127.0.0.1:$edge_port" -i 127.0.0.1 -p "$(free_port)" -m 1 -nostdin -timeout 40 \
  -timeout_error -trace_msg -message_file "$tmp/tls-uac.msg" >"$tmp/tls-uac.out" 2>&1 && pass "TLS: call completed" || fail "TLS: call failed"
callee_done psap0 && pass "TLS: PSAP 0 took the call that reached the ESRP over TLS" || fail "TLS: PSAP 0 did not take it"
grep -q "^Via: SIP/2.0/TLS 127.0.0.1" "$tmp/psap0.msg" && pass "TLS hop in the Via chain" || fail "no TLS Via at the PSAP"

# 10. Graceful stop: SIGTERM drains and exits 0.
kill -TERM "$esrp_pid"
if wait "$esrp_pid"; then pass "SIGTERM: drained and stopped cleanly"; else fail "SIGTERM: exit status $?"; fi
log_has '"event":"drained"' && pass "drain logged" || fail "no drain log"

# 11. Two event loops (--threads 2): one caller's calls, all from one port, routed by both loops
#     (UDP steered by Call-ID where BPF may be loaded); every call's story whole in the call log
#     whichever loop saw its start and its end; /metrics sums the loops.
start_esrp --default-location "30.265 -97.735" --threads 2
grep -q '"threads":2' "$tmp/esrp.log" && pass "two loops: listening with 2 threads" || fail "two loops: $(grep listening "$tmp/esrp.log")"
callee psap0 "$psap0_port" "-sn uas" 20
python3 "$here/make_uac.py" INVITE value > "$tmp/loops-uac.xml"
timeout 90 sipp -sf "$tmp/loops-uac.xml" "127.0.0.1:$esrp_port" -i 127.0.0.1 -p "$(free_port)" -m 20 -r 10 -nostdin \
  -timeout 60 -timeout_error >"$tmp/loops-uac.out" 2>&1 && pass "two loops: 20 calls completed" || fail "two loops: calls failed"
callee_done psap0 && pass "two loops: PSAP 0 took the 20 calls" || fail "two loops: PSAP 0 did not take them"
# The page is rendered every 500 ms: wait (5 s at most) for one after the last call.
for _ in $(seq 50); do
  curl -s "http://127.0.0.1:$http_port/metrics" > "$tmp/metrics-loops.txt"
  grep -q 'ng911_esrp_calls_total{outcome="answered"} 20$' "$tmp/metrics-loops.txt" && break
  sleep 0.1
done
grep -q 'ng911_esrp_calls_total{outcome="answered"} 20$' "$tmp/metrics-loops.txt" \
  && pass "two loops: /metrics counts the 20 answered calls of both loops" \
  || fail "two loops: /metrics: $(grep 'ng911_esrp_calls_total' "$tmp/metrics-loops.txt" | tr '\n' ' ')"
kill -TERM "$esrp_pid"
wait "$esrp_pid" && pass "two loops: drained and stopped" || fail "two loops: exit status $?"
ids="$(grep -i '^Call-ID:' "$tmp/psap0.msg" | sed 's/^[^:]*: *//' | tr -d '\r' | sort -u | sed "s/.*/'&'/" | paste -sd,)"
whole="$(psql -X -A -t -q -c "SELECT count(*) FROM (SELECT sip_call_id FROM esrp.call_event WHERE sip_call_id IN ($ids)
  GROUP BY 1 HAVING bool_or(kind = 'call_start') AND bool_or(kind = 'answered') AND bool_or(kind = 'call_end')) s")"
expect_eq "$whole" 20 "two loops: each call's story has its start, answer and end"
if [ "$(id -u)" = 0 ]; then
  grep -q '"steering":"call-id"' "$tmp/esrp.log" && pass "two loops: UDP steered by Call-ID" \
    || fail "two loops: no Call-ID steering: $(grep -E 'steering' "$tmp/esrp.log" | head -2)"
  read -r loop0 loop1 <<<"$(sed -n 's/.*"requests_per_loop":\[\([0-9]*\),\([0-9]*\)\].*/\1 \2/p' "$tmp/esrp.log")"
  [ "${loop0:-0}" -gt 0 ] && [ "${loop1:-0}" -gt 0 ] && pass "two loops: both routed calls ($loop0 and $loop1 requests)" \
    || fail "two loops: requests per loop '$loop0' '$loop1'"
fi

# 12. Two loops, and a PSAP that hangs up over a TCP connection of its own (to the ESRP's
#     Record-Route URI, as SIP stacks without connection reuse do): the kernel hands each such
#     connection to either loop, and every call's end is still logged, with its ids, and every
#     BYE answered.
start_esrp --default-location "30.265 -97.735" --threads 2
python3 "$here/tcp_psap.py" "$psap0_port" 10 >"$tmp/tcp-psap.out" 2>&1 &
tcp_psap=$!
pids+=($tcp_psap)
for _ in $(seq 50); do ss -Htln "sport = :$psap0_port" | grep -q . && break; sleep 0.1; done
python3 "$here/make_uac.py" INVITE value --callee-hangs-up > "$tmp/hangup-uac.xml"
timeout 90 sipp -sf "$tmp/hangup-uac.xml" "127.0.0.1:$esrp_port" -i 127.0.0.1 -p "$(free_port)" -m 10 -r 5 -nostdin \
  -timeout 60 -timeout_error >"$tmp/hangup-uac.out" 2>&1 && pass "PSAP hangs up, two loops: the 10 callers got their BYE" \
  || fail "PSAP hangs up, two loops: callers failed"
wait "$tcp_psap" && pass "PSAP hangs up, two loops: the PSAP hung up all 10 calls" || fail "PSAP hangs up: $(tail -3 "$tmp/tcp-psap.out")"
kill -TERM "$esrp_pid"
wait "$esrp_pid" || fail "PSAP hangs up, two loops: exit status $?"
ids="$(awk 'NF == 2 { printf "%s\x27%s\x27", (n++ ? "," : ""), $1 }' "$tmp/tcp-psap.out")"
ended="$(psql -X -A -t -q -c "SELECT count(DISTINCT sip_call_id) FROM esrp.call_event WHERE sip_call_id IN (${ids:-''})
  AND kind = 'call_end' AND detail->>'by' = 'bye' AND incident_id IS NOT NULL")"
expect_eq "$ended" 10 "PSAP hangs up, two loops: every call's end logged with its ids, whichever loop got the BYE"
# SIPp answers the BYE at the ESRP's listening port, where the Call-ID steers it to the call's
# loop: a BYE that came in on the other loop has its answer handed over to that loop.
expect_eq "$(awk 'NF == 2 && $2 == 200' "$tmp/tcp-psap.out" | wc -l)" 10 \
  "PSAP hangs up, two loops: every BYE answered 200, whichever loop took it ($(grep -o '"handed_off":[0-9]*' "$tmp/esrp.log" | tail -1))"
finish
