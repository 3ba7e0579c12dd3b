#!/usr/bin/env bash
# Queue state subscriptions with a peer we did not write: SIPp plays a PSAP queue notifying
# emergency-QueueState (NENA-STA-010.3 4.2.1.3, RFC 6665) to ng911-queue-watch, the ESRP's
# subscriber as a command. Full then terminated (Unreachable, subscribed again after the retry
# interval), over UDP and TCP; a 2 s subscription refreshed within its dialog and ended with
# Expires: 0; a queue nobody answers for (Unreachable on timeout).
#   queue_sipp_test.sh PATH/TO/ng911-queue-watch
source "$(dirname "$0")/../support/testlib.sh"
watch_bin="$1"
here="$(cd "$(dirname "$0")" && pwd)"
scen="$here/sipp"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
require sipp python3 paste

# psap NAME SCENARIO CALLS [SIPp options]: a SIPp notifier in the background on $psap_port.
psap() {
  local name="$1" scenario="$2" calls="$3"; shift 3
  psap_port="$(free_port)"
  timeout 30 sipp "$@" -sf "$scenario" -i 127.0.0.1 -p "$psap_port" -m "$calls" -nostdin -timeout 20 \
    >"$tmp/$name-sipp.out" 2>&1 &
  psap_pid=$!
  pids+=($psap_pid)
  local kind=udp
  [ "${1:-}" = -t ] && kind=tcp
  bound "$psap_port" "$kind" || fail "$name: SIPp did not take port $psap_port"
}
# bound PORT udp|tcp: waits (5 s at most) until something holds the loopback port.
bound() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, kind = int(sys.argv[1]), sys.argv[2]
for _ in range(100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        sys.exit(0)
    finally:
        s.close()
    time.sleep(0.05)
sys.exit(1)
PY
}
# psap_done NAME CALLS: the SIPp notifier exited 0 with every call successful.
psap_done() {
  local rc=0
  wait "$psap_pid" || rc=$?
  if [ "$rc" = 0 ] && grep -Eq "Successful call +\| +0 +\| +$2 " "$tmp/$1-sipp.out"; then
    pass "$1: SIPp as PSAP queue: $2 subscription(s) as its scenario wants"
  else
    fail "$1: SIPp as PSAP queue exited $rc"
    grep -E "Successful call|Failed call|Unexpected|Aborting|timeout|ereg|check" "$tmp/$1-sipp.out" | head -8 | sed 's/^/     /'
  fi
}
# watch NAME DURATION_MS QUEUE [options]: ng911-queue-watch; its stdout in $tmp/NAME.jsonl.
watch() {
  local name="$1" ms="$2" queue="$3"; shift 3
  expect_rc 0 "$name: ng911-queue-watch exits cleanly" -- \
    timeout 20 "$watch_bin" --queue "$queue" --duration-ms "$ms" "$@"
  printf '%s\n' "$out" | grep '^{"queue"' >"$tmp/$name.jsonl" || true
  stopped="$(printf '%s\n' "$out" | grep '"stopped"' || true)"
}
# states NAME: each printed change as STATE then + (subscribed) or - (not), space-separated.
# (sed, not a JSON tool: the lines are ng911-queue-watch's own, members in a fixed order.)
states() {
  sed -E 's/.*"state":"?([A-Za-z]+)"?,.*"subscribed":(true|false),.*/\1\2/; s/true$/+/; s/false$/-/' "$tmp/$1.jsonl" |
    paste -sd' '
}
# field NAME N KEY: KEY of the Nth printed change (1-based), unquoted.
field() {
  sed -n "${2}p" "$tmp/$1.jsonl" | sed -E "s/.*\"$3\":\"?([^\",}]*)\"?[,}].*/\1/"
}

# Full, then terminated;reason=noresource: Unreachable; subscribed again 300 ms later, the
# second subscription (a new SIPp call) says Full again, then ends the same way.
psap full-udp "$scen/queue-full.xml" 2
watch full-udp 2500 "sip:queue@127.0.0.1:$psap_port" --retry-ms 300
psap_done full-udp 2
expect_eq "$(states full-udp)" "null+ Full+ Unreachable- Unreachable+ Full+ Unreachable-" \
  "full-udp: subscribed, Full, Unreachable when terminated, subscribed again, Full, Unreachable"
expect_eq "$(field full-udp 2 length)/$(field full-udp 2 max)" "5/5" "full-udp: queue length and maximum from the JSON body"
expect_eq "$(field full-udp 3 reason)" "terminated;reason=noresource" "full-udp: the reason of Unreachable"
expect_out '"notifies":4' "full-udp: four NOTIFYs taken"

psap full-tcp "$scen/queue-full.xml" 1 -t t1
watch full-tcp 1500 "sip:queue@127.0.0.1:$psap_port;transport=tcp" --retry-ms 5000
psap_done full-tcp 1
expect_eq "$(states full-tcp)" "null+ Full+ Unreachable-" "full-tcp: the same over TCP"

# Granted 2 s: the refresh goes within the dialog before they are over (SIPp checks the To tag
# and Expires), the state stays; at exit, Expires: 0 and the final NOTIFY answered.
psap refresh-udp "$scen/queue-refresh.xml" 1
watch refresh-udp 1800 "sip:queue@127.0.0.1:$psap_port" --expires 2
psap_done refresh-udp 1
expect_eq "$(states refresh-udp)" "null+ Active+ Active+" "refresh-udp: subscribed, Active, still Active after the refresh"
expect_eq "$(field refresh-udp 2 length)/$(field refresh-udp 3 length)" "1/2" "refresh-udp: each NOTIFY's queue length"
expect_out '"refreshes":1' "refresh-udp: one refresh"

# Nobody there: Timer F (64*T1, T1 = 20 ms) ends the SUBSCRIBE; the queue is Unreachable.
watch nobody-udp 2000 "sip:queue@127.0.0.1:$(free_port)" --t1-ms 20 --retry-ms 5000
expect_eq "$(states nobody-udp)" "Unreachable-" "nobody-udp: Unreachable"
expect_eq "$(field nobody-udp 1 reason)" "timeout" "nobody-udp: because the SUBSCRIBE timed out"

# Bad command lines are refused with a message.
expect_rc 2 "no queue: refused" -- "$watch_bin" --duration-ms 10
expect_out "no --queue" "no queue: says so"
expect_rc 2 "a host name: refused (no DNS)" -- "$watch_bin" --queue sip:queue@psap.example.net --duration-ms 10
expect_out "literal address" "a host name: says why"

finish
