# Shared by the ESRP end-to-end tests: a test database with PSAP boundaries whose queues are
# SIPp callees on this machine, ng911-lost on it, ng911-esrp in front, SIPp callers.
#   source esrp_lib.sh NAME ESRP LOST GIS [CALLLOG]
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
esrp_test_name="$1" esrp_bin="$2" lost_bin="$3" gis="$4" calllog_bin="${5:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scen="$here/../sip/sipp"
escen="$here/sipp"
data="$here/../data/gis"
use_test_db "$esrp_test_name"
use_scratch

# The grid's PSAP 0 (the caller at 30.2672 -97.7431, and 100 Congress Avenue) and PSAP 1 (the
# default location 30.265 -97.735) have queues here; the others keep names nobody resolves.
psap0_port="$(free_port)" psap1_port="$(free_port)" default_port="$(free_port)" last_port="$(free_port)"
lost_port="$(free_port tcp)" esrp_port="$(free_port)" http_port="$(free_port tcp)"
psap0="sip:psap0@127.0.0.1:$psap0_port" psap1="sip:psap1@127.0.0.1:$psap1_port"
python3 - "$data/psap-grid4.geojson" "$tmp/psaps.geojson" "$psap0" "$psap1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["features"][0]["properties"]["ServiceURI"] = sys.argv[3]
d["features"][1]["properties"]["ServiceURI"] = sys.argv[4]
json.dump(d, open(sys.argv[2], "w"))
PY
"$gis" load --layer PsapPolygon "$tmp/psaps.geojson" >/dev/null 2>&1 || { fail "publish PSAPs"; finish; }
"$gis" load --layer A2 "$data/a2-counties.geojson" >/dev/null 2>&1 || fail "publish A2"
"$gis" load --layer SiteStructureAddressPoint "$data/address-points.geojson" >/dev/null 2>&1 || fail "publish address points"

start_lost() {
  "$lost_bin" --listen "127.0.0.1:$lost_port" --db "dbname=$PGDATABASE" --log-queries false 2>"$tmp/lost.log" &
  lost_pid=$!
  pids+=($lost_pid)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$lost_port/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "ng911-lost did not start"
}
stop_lost() { kill "$lost_pid" 2>/dev/null; wait "$lost_pid" 2>/dev/null || true; }
# start_esrp [OPTIONS...]: the ESRP with the call log in the test database; waits until it listens.
esrp_starts=0
start_esrp() {
  # Each run's log is kept (esrp.log.N) for a look after a failure; esrp.log is the current one.
  [ -f "$tmp/esrp.log" ] && mv "$tmp/esrp.log" "$tmp/esrp.log.$((esrp_starts++))"
  "$esrp_bin" --listen "127.0.0.1:$esrp_port" --http "127.0.0.1:$http_port" --lost "http://127.0.0.1:$lost_port/" \
    --lost-timeout-ms 2000 --held-timeout-ms 2000 --call-log-db "dbname=$PGDATABASE" --spool-dir "$tmp/spool" \
    --default-route "urn:service:sos sip:default@127.0.0.1:$default_port" --t1-ms 250 "$@" 2>>"$tmp/esrp.log" &
  esrp_pid=$!
  pids+=($esrp_pid)
  for _ in $(seq 200); do grep -q '"event":"listening"' "$tmp/esrp.log" && return 0; sleep 0.05; done
  fail "ng911-esrp did not start: $(tail -3 "$tmp/esrp.log")"
}
stop_esrp() { kill "$esrp_pid" 2>/dev/null; wait "$esrp_pid" 2>/dev/null || true; }
# callee NAME PORT "SIPP SCENARIO OPTIONS" CALLS: a SIPp callee in the background, its messages traced.
callee() {
  rm -f "$tmp/$1.msg"
  (cd "$tmp" && exec timeout 60 sipp $3 -i 127.0.0.1 -p "$2" -m "$4" -nostdin -timeout 40 -trace_msg \
     -message_file "$tmp/$1.msg" >"$tmp/$1.out" 2>&1) &
  eval "$1_pid=$!"
  pids+=($!)
}
callee_done() { local v="$1_pid"; wait "${!v}"; }
# caller NAME METHOD LOCATION [URL]: places one call with a scenario from make_uac.py.
caller() {
  python3 "$here/make_uac.py" "$2" "$3" ${4:-} > "$tmp/$1-uac.xml"
  timeout 60 sipp -sf "$tmp/$1-uac.xml" "127.0.0.1:$esrp_port" -i 127.0.0.1 -p "$(free_port)" -m 1 \
    -nostdin -timeout 40 -timeout_error -trace_msg -message_file "$tmp/$1-uac.msg" >"$tmp/$1-uac.out" 2>&1
}
# The Call-ID of the last request a SIPp callee received.
received_call_id() { grep -m1 -i '^Call-ID:' "$tmp/$1.msg" | sed 's/^[^:]*: *//' | tr -d '\r'; }
# One call's events from the call log, oldest first (kinds only).
story_kinds() { psql -X -A -t -q -c "SELECT string_agg(kind, ' ' ORDER BY at, id) FROM esrp.call_event WHERE sip_call_id = '$1'"; }
# log_has REGEX: the ESRP's log has (or gets within 5 s: it is flushed every 200 ms) a matching line.
log_has() {
  for _ in $(seq 100); do grep -q -- "$1" "$tmp/esrp.log" && return 0; sleep 0.05; done
  return 1
}
