#!/usr/bin/env bash
# The ESRP never loses a call: each failure gives way to the next route, recorded in
# History-Info (with the Reason) and in the call log.
#   PSAP 503 → default route; PSAP rings without answer → default route; PSAP and default both
#   refuse → last resort; PSAP queue Full (emergency-QueueState) → the queue's rule overflows to
#   another PSAP; LoST down → default route; HELD down → default location; a bad rule file is
#   refused on SIGHUP and the running rules stay; ng911-calllog tells one call's story; a route
#   URI with a host name is located by DNS (SRV) and its places tried in order.
#   esrp_failover_test.sh ESRP LOST GIS CALLLOG
source "$(dirname "$0")/esrp_lib.sh" esrp_failover "$1" "$2" "$3" "$4"

start_lost
start_esrp --default-location "30.265 -97.735" --last-resort "sip:last@127.0.0.1:$last_port"

# 1. PSAP 0 answers 503: the default route takes the call; History-Info carries the cause.
callee psap0 "$psap0_port" "-sf $escen/uas-unavailable.xml" 1
callee default "$default_port" "-sn uas" 1
caller refused INVITE value && pass "503: call completed" || fail "503: call failed"
callee_done psap0 && pass "503: PSAP 0 was tried" || fail "503: PSAP 0 not tried"
callee_done default && pass "503: the default route took the call" || fail "503: default route did not take it"
grep -q "History-Info: <urn:service:sos>;index=1, <$psap0?Reason=SIP%3Bcause%3D503%3Btext%3D%22Service%20Unavailable%22>;index=1.1;rc=1, <sip:default@127.0.0.1:$default_port>;index=1.2;rc=1" "$tmp/default.msg" \
  && pass "History-Info: PSAP 0 failed with 503, then the default route" || fail "History-Info: $(grep -i '^History-Info' "$tmp/default.msg")"
call="$(received_call_id default)"
kinds="$(story_kinds "$call")"
[[ " $kinds " == *" route retarget answered "* ]] && pass "call log: route, retarget, answered" || fail "call log: $kinds"
"$calllog_bin" story --call-id "$call" --db "dbname=$PGDATABASE" > "$tmp/story.txt" 2>&1
grep -q retarget "$tmp/story.txt" && grep -q 503 "$tmp/story.txt" && pass "ng911-calllog story shows the retarget" \
  || fail "story: $(cat "$tmp/story.txt")"
incident="$(psql -X -A -t -q -c "SELECT incident_id FROM esrp.call_event WHERE sip_call_id = '$call' LIMIT 1")"
"$calllog_bin" story --incident-id "$incident" --db "dbname=$PGDATABASE" > "$tmp/incident.txt" 2>&1 || true
grep -q call_start "$tmp/incident.txt" \
  && pass "ng911-calllog story by incident id" || fail "story by incident id"

# 2. PSAP 0 rings without answering: CANCELed after the ring timeout; the default route answers.
stop_esrp
start_esrp --default-location "30.265 -97.735" --last-resort "sip:last@127.0.0.1:$last_port" --ring-timeout-ms 500
callee psap0 "$psap0_port" "-sf $scen/uas-cancel.xml" 1
callee default "$default_port" "-sn uas" 1
caller silent INVITE value && pass "ring-no-answer: call completed" || fail "ring-no-answer: call failed"
callee_done psap0 && pass "ring-no-answer: PSAP 0 was CANCELed" || fail "ring-no-answer: no CANCEL"
callee_done default && pass "ring-no-answer: default route answered" || fail "ring-no-answer: default did not answer"
grep -q "cause%3D408%3Btext%3D%22ring%20no%20answer%22" "$tmp/default.msg" && pass "History-Info: ring no answer" \
  || fail "History-Info: $(grep -i '^History-Info' "$tmp/default.msg")"

# 3. PSAP 0 and the default route refuse: the last resort takes the call.
callee psap0 "$psap0_port" "-sf $escen/uas-unavailable.xml" 1
callee default "$default_port" "-sf $escen/uas-unavailable.xml" 1
callee last "$last_port" "-sn uas" 1
caller lastresort INVITE value && pass "last resort: call completed" || fail "last resort: call failed"
callee_done last && pass "last resort took the call" || fail "last resort did not take it"
grep -q "index=1.3;rc=1" "$tmp/last.msg" && pass "History-Info has three targets" || fail "History-Info at last resort"
callee_done psap0 || true
callee_done default || true

# 4. PSAP 0's queue is Full: its rule set overflows the call to PSAP 1.
stop_esrp
cat > "$tmp/policy.json" <<JSON
{"version": "test-1", "ruleSets": [
  {"id": "origination", "match": "default", "rules": []},
  {"id": "psap0", "queue": "$psap0", "rules": [
    {"id": "overflow", "priority": 100,
     "conditions": [{"queueState": {"queue": "\$queue", "states": ["Full", "Unreachable"]}}],
     "actions": [{"route": {"target": "sip:overflow@127.0.0.1:$psap1_port", "cause": "queue full"}},
                 {"log": {"message": "PSAP 0 full: overflow"}}]}]}]}
JSON
callee queue "$psap0_port" "-sf $escen/psap-queue-full.xml" 1
# The overflow target is named by the rules, so the ESRP watches its queue too: a PSAP queue
# scenario that takes the subscription (Active) and then the call.
callee psap1 "$psap1_port" "-sf $here/../../scripts/esrp/psap-queue.xml" 2
start_esrp --policy "$tmp/policy.json" --default-location "30.265 -97.735"
log_has '"event":"queue_state".*"state":"Full"' && pass "queue state Full learnt by SUBSCRIBE/NOTIFY" \
  || fail "queue state not learnt: $(grep queue_state "$tmp/esrp.log")"
log_has '"event":"queue_state".*overflow.*"state":"Active"' || true
caller full INVITE value && pass "queue full: call completed" || fail "queue full: call failed"
callee_done psap1 && pass "queue full: PSAP 1 took the overflow" || fail "queue full: PSAP 1 did not take it"
log_has '"event":"route".*"rules":[[]"psap0/overflow"[]]' && pass "the rule is named in the route log" \
  || fail "route log: $(grep '"event":"route"' "$tmp/esrp.log" | tail -1)"
curl -s "http://127.0.0.1:$http_port/metrics" > "$tmp/metrics.txt"
grep -q "ng911_esrp_queue_state{queue=\"$psap0\",state=\"Full\"} 1" "$tmp/metrics.txt" \
  && pass "queue state in /metrics" || fail "queue state not in /metrics"

# 5. A bad rule file is refused on SIGHUP; the running rules stay and still route.
echo '{"version": "broken", "ruleSets": [ {"id": 7 ' > "$tmp/policy.json"
kill -HUP "$esrp_pid"
log_has '"event":"policy_refused".*"kept_version":"test-1"' && pass "bad rule file refused, test-1 kept" \
  || fail "bad rule file: $(grep policy_ "$tmp/esrp.log")"
callee psap1 "$psap1_port" "-sn uas" 1
caller full2 INVITE value && callee_done psap1 && pass "the kept rules still overflow" || fail "rules lost after a bad reload"
callee_done queue || true

# 6. LoST down: the default route; HELD down: the default location.
stop_esrp
stop_lost
start_esrp --default-location "30.265 -97.735"
callee default "$default_port" "-sn uas" 1
caller nolost INVITE value && callee_done default && pass "LoST down: the default route took the call" || fail "LoST down"
log_has '"ecrf":"unreachable"' && pass "LoST down logged" || fail "LoST down not logged"
start_lost
callee psap1 "$psap1_port" "-sn uas" 1
caller noheld INVITE ref "http://127.0.0.1:$(free_port tcp)/loc/gone" && callee_done psap1 \
  && pass "HELD down: routed on the default location (PSAP 1)" || fail "HELD down"
log_has '"event":"held_dereference".*"result":"unreachable"' && pass "HELD failure logged" \
  || fail "HELD failure: $(grep held_ "$tmp/esrp.log" | tail -1)"

# 7. A route URI with a host name (RFC 3263): DNS (dnsmasq on loopback, authoritative for the
#    made-up domain "test") gives the default route's queue two places by SRV priority; the
#    first answers 503, the second takes the call; the Route keeps the URI.
start_dns "$tmp/dnsmasq.log" \
  --srv-host="_sip._udp.psaps.test,first.psaps.test,$psap0_port,10,0" \
  --srv-host="_sip._udp.psaps.test,second.psaps.test,$default_port,20,0" \
  --host-record=first.psaps.test,127.0.0.1 --host-record=second.psaps.test,127.0.0.1
stop_esrp
stop_lost  # the default route takes the call
start_esrp --default-route "urn:service:sos sip:queue@psaps.test" --dns-server "127.0.0.1:$dns_port" --dns-timeout-s 1
callee psap0 "$psap0_port" "-sf $escen/uas-unavailable.xml" 1
callee default "$default_port" "-sn uas" 1
caller dns INVITE value && pass "DNS: call completed" || fail "DNS: call failed: $(tail -3 "$tmp/dns-uac.out")"
callee_done psap0 && pass "DNS: the first SRV place was tried" || fail "DNS: the first SRV place was not tried"
callee_done default && pass "DNS: the second SRV place took the call" || fail "DNS: the second SRV place did not take it"
grep -qi "^Route: <sip:queue@psaps.test;lr>" "$tmp/default.msg" && pass "DNS: the Route names the queue's URI" \
  || fail "DNS: Route $(grep -i '^Route' "$tmp/default.msg")"
log_has '"event":"route".*"to":"UDP:127.0.0.1:'"$psap0_port"'","dns":"srv"},{[^}]*"to":"UDP:127.0.0.1:'"$default_port"'","dns":"srv"' \
  && pass "DNS: the route log names both places" || fail "DNS: route log $(grep '"event":"route"' "$tmp/esrp.log" | tail -1)"
curl -s "http://127.0.0.1:$http_port/metrics" > "$tmp/metrics.txt"
grep -q 'ng911_esrp_dns_total{event="lookups"} 1$' "$tmp/metrics.txt" && pass "DNS lookups in /metrics" \
  || fail "DNS metrics: $(grep dns "$tmp/metrics.txt")"
finish
