#!/usr/bin/env bash
# Interoperability with a LoST client we did not write: Kamailio 5.6's lost module, given an
# emergency INVITE with a PIDF-LO, asks ng911-lost for the route and must get the PSAP URI that
# the published boundaries give for the caller's position.
#   kamailio_interop_test.sh PATH/TO/ng911-lost PATH/TO/ng911-gis
# Needs kamailio, kamailio-utils-modules (lost, http_client) and sip-tester (sipp), which
# scripts/install-deps.sh installs; fails without them. Files: kamailio/kamailio.cfg.in, kamailio/sos-invite-psap3.xml.
# NG911_TEST_KEEP_TMP=1 keeps the logs, SIP message traces and rendered config.
source "$(dirname "$0")/../support/testlib.sh"
lost_bin="$1" gis="$2"
here="$(cd "$(dirname "$0")" && pwd)"
data="$(cd "$here/../data/gis" && pwd)"

missing() { echo "FAIL: $1"; exit 1; }
require kamailio sipp curl python3 setsid
modules="$(kamailio -h 2>&1 | sed -n 's/.*Modules search path (default: \(.*\))/\1/p' || true)"
for mod in lost http_client sl textops; do
  [ -f "$modules/$mod.so" ] || missing "Kamailio module $mod not in '$modules' (apt-get install kamailio-utils-modules)"
done

use_test_db kamailio
tmp="$(mktemp -d)"
lost_pid="" kam_pid=""
cleanup() {
  stop "$kam_pid" "-$kam_pid"
  stop "$lost_pid"
  if [ -n "${NG911_TEST_KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $PGDATABASE WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

show_logs() {
  local f
  for f in "$@"; do
    [ -s "$tmp/$f" ] || continue
    echo "     --- $f (last 40 lines)"; tail -n 40 "$tmp/$f" | sed 's/^/     /'
    [ -z "$(tail -c 1 "$tmp/$f")" ] || echo
  done
}
# Nothing further can pass: report what did, and stop.
give_up() { fail "$1"; show_logs "${@:2}"; finish || true; exit 1; }
expect_in_file() {  # PATTERN FILE DESCRIPTION: FILE (in the temporary directory) matches the regex
  if grep -Eq -- "$1" "$tmp/$2"; then pass "$3"; else fail "$3: $2 lacks /$1/"; fi
}
udp_listening() {  # PORT: a socket is bound to 127.0.0.1:PORT
  awk -v want="$(printf '0100007F:%04X' "$1")" 'NR > 1 && $2 == want { found = 1 } END { exit !found }' /proc/net/udp
}

# The boundaries: four PSAP squares near Austin.
expect_rc 0 "publish psap-grid4" -- "$gis" load --layer PsapPolygon "$data/psap-grid4.geojson"
[ "$fails" = 0 ] || give_up "cannot publish the test boundaries"

# ng911-lost on a port of its own; ready when /healthz says so.
lost_port="$(free_port tcp)"
"$lost_bin" --listen "127.0.0.1:$lost_port" --db "dbname=$PGDATABASE" >"$tmp/lost.log" 2>&1 &
lost_pid=$!
deadline=$((SECONDS + 30))
until curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$lost_port/healthz" 2>/dev/null; do
  kill -0 "$lost_pid" 2>/dev/null || give_up "ng911-lost exited at start" lost.log
  [ "$SECONDS" -lt "$deadline" ] || give_up "ng911-lost not healthy within 30 s" lost.log
  sleep 0.1
done
pass "ng911-lost healthy on 127.0.0.1:$lost_port"

# Kamailio, in the foreground of its own session (so that its workers die with it), logging
# to a file, with its runtime files in the temporary directory.
sip_port="$(free_port udp)"
sed -e "s|@SIP_PORT@|$sip_port|g" -e "s|@LOST_URL@|http://127.0.0.1:$lost_port/|g" \
  "$here/kamailio/kamailio.cfg.in" >"$tmp/kamailio.cfg"
mkdir "$tmp/run"
expect_rc 0 "kamailio accepts the configuration" -- kamailio -c -f "$tmp/kamailio.cfg" -Y "$tmp/run"
[ "$fails" = 0 ] || give_up "kamailio configuration rejected"
setsid kamailio -DD -E -f "$tmp/kamailio.cfg" -Y "$tmp/run" -w "$tmp" >"$tmp/kamailio.log" 2>&1 &
kam_pid=$!
deadline=$((SECONDS + 30))
until udp_listening "$sip_port"; do
  kill -0 "$kam_pid" 2>/dev/null || give_up "kamailio exited at start" kamailio.log
  [ "$SECONDS" -lt "$deadline" ] || give_up "kamailio not listening within 30 s" kamailio.log
  sleep 0.1
done
pass "kamailio listening on udp 127.0.0.1:$sip_port"

# call NAME SCENARIO: one emergency call from SIPp; the scenario checks the 302's Contact.
call() {
  local name="$1" scenario="$2" rc
  set +e
  # -p: SIPp's own default is 5060, which a real SIP service on this machine may hold.
  (cd "$tmp" && timeout --foreground -k 5 60 sipp -sf "$scenario" -m 1 -l 1 -i 127.0.0.1 -p "$(free_port udp)" -nostdin \
    -timeout 30s -timeout_error -recv_timeout 20000 \
    -trace_err -error_file "$tmp/sipp-$name-errors.log" \
    -trace_logs -log_file "$tmp/sipp-$name.log" \
    -trace_msg -message_file "$tmp/sipp-$name-messages.log" \
    "127.0.0.1:$sip_port" >"$tmp/sipp-$name.out" 2>&1)
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    pass "$name: $(grep -h 'LoST PSAP URI' "$tmp/sipp-$name.log" | tr -s ' ')"
  else
    fail "$name: sipp exit $rc"
    show_logs "sipp-$name-errors.log" kamailio.log lost.log
  fi
  # A findServiceResponse that Kamailio cannot digest can kill its worker (5.6 dereferences a
  # missing <displayName>), and with it Kamailio; later calls would only time out.
  kill -0 "$kam_pid" 2>/dev/null || give_up "kamailio died during the $name call (see kamailio.log above)"
}

# The caller at lon -97.735 lat 30.275 is in Grid4 PSAP 3.
call psap3 "$here/kamailio/sos-invite-psap3.xml"
expect_in_file 'LOST result rc=200 uri=\[sip:psap-3@test\.example\.net\]' kamailio.log "kamailio's lost_query returned PSAP 3"

# The same call from lon -97.745 lat 30.265 must reach PSAP 0: the answer follows the location.
sed -e 's/30\.275 -97\.735/30.265 -97.745/' -e 's/psap-3/psap-0/g' -e 's/PSAP 3/PSAP 0/g' \
  "$here/kamailio/sos-invite-psap3.xml" >"$tmp/sos-invite-psap0.xml"
if grep -q '30.265 -97.745' "$tmp/sos-invite-psap0.xml" && grep -q 'psap-0@test' "$tmp/sos-invite-psap0.xml"; then
  call psap0 "$tmp/sos-invite-psap0.xml"
else
  fail "psap0 scenario could not be derived from sos-invite-psap3.xml"
fi

finish
