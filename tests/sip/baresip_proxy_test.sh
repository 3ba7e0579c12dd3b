#!/usr/bin/env bash
# Interop with a user agent we did not write: baresip places a call through ng911-sip-proxy to a
# SIPp callee. baresip dials sip:service@<proxy>, the proxy record-routes the INVITE to SIPp,
# which answers 180 and 200 with SDP (copying the Record-Route); baresip ACKs through the proxy,
# sends RTP for a second, hangs up with a BYE through the proxy and SIPp answers 200.
#   baresip_proxy_test.sh PATH/TO/ng911-sip-proxy
# baresip (Debian package baresip-core) runs headless: a config directory of its own
# (tests/sip/baresip/), a sine tone as the microphone, no registration, commands on stdin.
source "$(dirname "$0")/../support/testlib.sh"
proxy_bin="$1"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  exec 3>&-
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 100); do  # up to 5 s to go, then SIGKILL
    local alive=0
    for p in "${pids[@]}"; do if kill -0 "$p" 2>/dev/null; then alive=1; fi; done
    [ "$alive" = 0 ] && break
    sleep 0.05
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
require baresip sipp

# udp_bound PORT: something listens on 127.0.0.1:PORT/udp (read from /proc, not probed).
udp_bound() { awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a { f = 1 } END { exit !f }' /proc/net/udp; }
# wait_until SECONDS CMD...: polls CMD every 50 ms; false when it never succeeded in time.
wait_until() {
  local n=$(($1 * 20)); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
  return 1
}
log_has() { grep -aqE -- "$1" "$tmp/baresip.log"; }
running() { kill -0 "$1" 2>/dev/null; }
abort() { finish || true; exit 1; }
show() { sed 's/^/     /' "$1" | tail -n "${2:-40}"; }

# The callee: SIPp, one call.
uas_port="$(free_port)"
media_port="$(free_port)"
timeout 60 sipp -sf "$here/baresip/uas.xml" -i 127.0.0.1 -p "$uas_port" -mp "$media_port" -m 1 \
  -nostdin -timeout 45 -timeout_error -trace_msg -message_file "$tmp/uas.msg" \
  >"$tmp/uas.out" 2>&1 &
uas_pid=$!
pids+=("$uas_pid")
wait_until 10 udp_bound "$uas_port" || { fail "SIPp callee did not start"; show "$tmp/uas.out"; abort; }

# The proxy, whose only next hop is the callee.
"$proxy_bin" --listen 127.0.0.1:0 --next-hop "udp:127.0.0.1:$uas_port" 2>"$tmp/proxy.log" &
proxy_pid=$!
pids+=("$proxy_pid")
proxy_port=""
proxy_started() { proxy_port="$(sed -n 's/.*"listening".*"port":\([0-9]*\).*/\1/p' "$tmp/proxy.log")"; [ -n "$proxy_port" ]; }
wait_until 10 proxy_started || { fail "proxy did not start"; show "$tmp/proxy.log"; abort; }

# The caller: baresip with a configuration directory of its own, commands through a FIFO on
# its stdin (opened read-write here so that neither side blocks), SIP trace (-s) in its log.
mkdir "$tmp/baresip"
cp "$here/baresip/config" "$here/baresip/accounts" "$tmp/baresip/"
mkfifo "$tmp/ctl"
baresip -f "$tmp/baresip" -s <"$tmp/ctl" >"$tmp/baresip.log" 2>&1 &
baresip_pid=$!
pids+=("$baresip_pid")
exec 3<>"$tmp/ctl"
cmd() { printf '%s\n' "$1" >&3; }

target="sip:service@127.0.0.1:$proxy_port"
if wait_until 15 log_has "baresip is ready"; then pass "baresip started (no registration, no audio hardware)"
else fail "baresip did not start"; show "$tmp/baresip.log"; abort; fi
cmd "/dial $target"
if wait_until 15 log_has "Call established: $target"; then pass "baresip: call established through the proxy"
else fail "baresip: call not established"; show "$tmp/baresip.log" 60; show "$tmp/proxy.log"; fi
# baresip sends its tone to the callee's media port for a moment, then hangs up.
sleep 1
cmd "/hangup"
if wait_until 15 log_has "Call with $target terminated"; then pass "baresip: call hung up"
else fail "baresip: call not terminated"; show "$tmp/baresip.log" 60; fi
# baresip has the 200 to its BYE (its trace shows the responses it received).
bye_ok() { grep -aE -A12 '^SIP/2.0 200 OK' "$tmp/baresip.log" | grep -aqE '^CSeq: [0-9]+ BYE'; }
if wait_until 15 bye_ok; then pass "baresip: BYE answered 200"
else fail "baresip: no 200 for its BYE"; show "$tmp/baresip.log" 60; fi
cmd "/quit"
if wait_until 15 eval '! running "$baresip_pid"'; then
  set +e; wait "$baresip_pid"; rc=$?; set -e
  expect_eq "$rc" 0 "baresip quit"
else fail "baresip did not quit"; show "$tmp/baresip.log"; fi

# SIPp saw one successful call: INVITE, ACK, BYE, each (its trace shows) through the proxy.
if wait_until 20 eval '! running "$uas_pid"' && wait "$uas_pid"; then pass "SIPp callee: 1 successful call"
else fail "SIPp callee failed"; show "$tmp/uas.out"; fi
# The requests SIPp received, each as "METHOD yes" when the proxy's Via is on top, else "METHOD no".
received="$(python3 - "$tmp/uas.msg" "$proxy_port" <<'PY'
import re, sys
text, port = "\n" + open(sys.argv[1], errors="replace").read(), sys.argv[2]
for m in re.split(r"\n-{20,}[^\n]*\n", text):
    head, _, msg = m.partition("\n")
    if "message received" not in head or re.match(r"\s*SIP/2\.0 ", msg):
        continue
    via = re.search(r"^(?:Via|v)\s*:\s*(.*)$", msg, re.M | re.I)
    top = via and re.match(r"SIP/2\.0/UDP 127\.0\.0\.1:%s;" % port, via.group(1))
    print(msg.split()[0], "yes" if top else "no")
PY
)" || true
for m in INVITE ACK BYE; do
  if grep -qx "$m yes" <<<"$received" && ! grep -qx "$m no" <<<"$received"; then pass "$m reached SIPp through the proxy"
  else fail "$m did not reach SIPp through the proxy"; show "$tmp/uas.msg" 80; fi
done

# The proxy's counters: nothing refused or lost.
kill "$proxy_pid"
wait_until 10 eval '! running "$proxy_pid"' || fail "proxy did not stop on SIGTERM"
stats="$(grep '"stopped"' "$tmp/proxy.log" || true)"
counter() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$stats"; }
[ -n "$stats" ] && pass "proxy stopped: $stats" || { fail "proxy printed no counters"; show "$tmp/proxy.log"; }
# (The ACK of the 2xx goes on statelessly, §16.11: it counts among the requests received but
# not among the transactions forwarded.)
reqs="$(counter requests)"; fwd="$(counter forwarded)"
if [ "${reqs:-0}" -ge 3 ]; then pass "proxy received INVITE, ACK and BYE ($reqs requests)"; else fail "proxy received ${reqs:-?} requests, wanted >= 3"; fi
if [ "${fwd:-0}" -ge 2 ]; then pass "proxy forwarded the INVITE and BYE transactions ($fwd)"; else fail "proxy forwarded ${fwd:-?} transactions, wanted >= 2"; fi
for c in rejected timeouts transport_failures malformed; do expect_eq "$(counter "$c")" 0 "proxy: $c"; done
finish
