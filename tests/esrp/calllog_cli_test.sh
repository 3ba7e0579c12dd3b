#!/usr/bin/env bash
# ng911-calllog as an investigator uses it: a call's story by SIP Call-ID, by NENA incident id
# (every call of the incident) and emergency call id, human and JSON lines, no such call
# (exit 1), the recent calls with their outcome, bad usage and an unreachable database (exit 2).
#   calllog_cli_test.sh PATH/TO/ng911-calllog
source "$(dirname "$0")/../support/testlib.sh"
cli="$1"
require psql python3
use_test_db calllog

cid1="urn:emergency:uid:callid:a1:esrp1.example"
cid2="urn:emergency:uid:callid:b2:esrp1.example"
iid="urn:emergency:uid:incidentid:x9:esrp1.example"
# Two calls of one incident and a third call on its own, inserted out of time order: the story
# must come out in time order, not insertion order.
sql "INSERT INTO esrp.call_event (event_uid, esrp_id, at, sip_call_id, emergency_call_id, incident_id, kind, detail) VALUES
 ('u1', 'esrp1.example', '2026-11-25T10:00:00.300Z', 'call-1@caller', '$cid1', '$iid', 'route', '{\"rule\": \"r-psap\", \"target\": \"sip:q1@psap.example\"}'),
 ('u2', 'esrp1.example', '2026-11-25T10:00:00.100Z', 'call-1@caller', '$cid1', '$iid', 'call_start', '{\"from\": \"sip:+15125550100@carrier.example\"}'),
 ('u3', 'esrp1.example', '2026-11-25T10:00:00.200Z', 'call-1@caller', NULL, NULL, 'lost_answer', '{\"uri\": \"sip:q1@psap.example\", \"note\": \"two words\"}'),
 ('u4', 'esrp1.example', '2026-11-25T10:00:05.000Z', 'call-1@caller', '$cid1', '$iid', 'call_end', '{\"outcome\": \"answered\", \"status\": 200}'),
 ('u5', 'esrp1.example', '2026-11-25T10:01:00.000Z', 'call-2@caller', '$cid2', '$iid', 'call_start', '{}'),
 ('u6', 'esrp1.example', '2026-11-25T10:01:00.500Z', 'call-2@caller', '$cid2', '$iid', 'retarget', '{\"from\": \"sip:q1@psap.example\", \"cause\": 486}'),
 ('u7', 'esrp1.example', '2026-11-25T10:02:00.000Z', 'call-3@caller', NULL, NULL, 'call_start', '{}')"

expect_rc 0 "story by Call-ID" -- "$cli" story --call-id call-1@caller
expect_out "^call call-1@caller  emergency call id $cid1  incident $iid$" "a heading with the call's ids"
kinds="$(printf '%s\n' "$out" | awk 'NR > 1 {print $2}' | tr '\n' ' ')"
expect_eq "$kinds" "call_start lost_answer route call_end " "events in time order, not insertion order"
expect_out '^  2026-11-25T10:00:00\.100000Z  call_start   from=sip:\+15125550100@carrier\.example$' "time, kind padded to the longest, details"
expect_out 'note="two words"' "a detail with a space is quoted"
expect_out 'call_end     outcome=answered  status=200$' "numbers as they are"
expect_eq "$(printf '%s\n' "$out" | awk 'NR > 1 {print index($0, $3)}' | sort -u | wc -l)" 1 "details start in one column"

expect_rc 0 "story by incident id" -- "$cli" story --incident-id "$iid"
expect_out "^call call-1@caller " "the incident's first call"
expect_out "^call call-2@caller  emergency call id $cid2" "the incident's second call"
expect_out "retarget .*cause=486" "the second call's retarget"
expect_eq "$(printf '%s\n' "$out" | grep -c '^  ')" 6 "every event of both calls, the one without ids too"
expect_eq "$(printf '%s\n' "$out" | grep -c 'call-3')" 0 "no other call"

expect_rc 0 "story by emergency call id" -- "$cli" story --emergency-call-id "$cid2"
expect_eq "$(printf '%s\n' "$out" | grep -c '^  ')" 2 "that call's two events"

expect_rc 1 "no such call" -- "$cli" story --call-id nobody@nowhere
expect_out "no call with that id" "says so"
expect_rc 1 "no such incident" -- "$cli" story --incident-id urn:emergency:uid:incidentid:none:x

expect_rc 0 "story as JSON lines" -- "$cli" story --incident-id "$iid" --json
json_out="$out"
expect_eq "$(printf '%s\n' "$json_out" | wc -l)" 6 "one line per event"
if python3 - "$json_out" <<'PY'
import json, sys
lines = sys.argv[1].splitlines()
events = [json.loads(l) for l in lines]  # each line a JSON object on its own
assert all(isinstance(e, dict) for e in events)
assert [e["at"] for e in events] == sorted(e["at"] for e in events), "time order"
first = events[0]
assert first["kind"] == "call_start" and first["sip_call_id"] == "call-1@caller", first
assert first["detail"] == {"from": "sip:+15125550100@carrier.example"}, first
no_ids = [e for e in events if e["kind"] == "lost_answer"][0]
assert no_ids["emergency_call_id"] is None and no_ids["incident_id"] is None, no_ids
assert {e["event_uid"] for e in events} == {"u1", "u2", "u3", "u4", "u5", "u6"}
PY
then pass "every JSON line parses, fields as stored"; else fail "JSON lines"; fi
if command -v jq >/dev/null; then
  if printf '%s\n' "$json_out" | jq -e -s 'length == 6 and all(.[]; .esrp_id == "esrp1.example")' >/dev/null; then
    pass "jq reads the lines too"; else fail "jq rejects the JSON lines"; fi
fi

expect_rc 0 "recent calls" -- "$cli" recent
expect_eq "$(printf '%s\n' "$out" | wc -l)" 3 "one line per call"
expect_eq "$(printf '%s\n' "$out" | head -1 | awk '{print $2, $3, $4, $5}')" "call-3@caller - in progress" "newest first; no incident, no end yet"
expect_out "^2026-11-25T10:00:00\.100000Z  call-1@caller  $iid  answered$" "start time, Call-ID, incident, outcome"
expect_out "call-2@caller  $iid  in progress$" "a call without call_end is in progress"
expect_rc 0 "recent --limit 1" -- "$cli" recent --limit 1
expect_eq "$(printf '%s\n' "$out" | wc -l)" 1 "the limit holds"
expect_rc 0 "recent as JSON lines" -- "$cli" recent --json
if printf '%s\n' "$out" | python3 -c 'import json,sys; c=[json.loads(l) for l in sys.stdin]; assert [x["outcome"] for x in c] == ["in progress","in progress","answered"], c'; then
  pass "recent JSON lines parse, outcomes right"; else fail "recent JSON"; fi

expect_rc 0 "--db names the database" -- env -u PGDATABASE "$cli" story --call-id call-3@caller --db "dbname=$PGDATABASE"
expect_rc 2 "an unreachable database" -- "$cli" story --call-id x --db "host=127.0.0.1 port=$(free_port tcp) dbname=x connect_timeout=2"
expect_rc 2 "no command" -- "$cli"
expect_rc 2 "two keys at once" -- "$cli" story --call-id a --incident-id b
expect_out "exactly one of" "explains"
expect_rc 2 "no key" -- "$cli" story
expect_rc 2 "unknown command" -- "$cli" frobnicate
expect_rc 2 "unknown option" -- "$cli" recent --lmit 3
expect_rc 2 "a zero limit" -- "$cli" recent --limit 0
expect_rc 0 "--help" -- "$cli" --help
expect_out "story \(--call-id ID" "usage names the commands"
expect_rc 0 "story --help" -- "$cli" story --help
expect_out "--incident-id" "lists the options"

finish
