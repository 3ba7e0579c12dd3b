#!/usr/bin/env bash
# The dataplane end to end, as root: a client namespace, the XDP node's namespace running
# ng911-dataplane (native XDP on its client-facing veth, redirect to the backends' veths) and
# three backend namespaces with stand-in ESRP nodes. Checks delivery, stickiness per Call-ID,
# distribution, failover when a backend dies, and live remove/drain through the control socket.
# Everything is removed by the trap, also after a failure.
# Usage: e2e_test.sh NG911_DATAPLANE XDP_PASS_OBJECT
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
dataplane="$1"
pass_obj="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
require ip nsenter python3 curl ethtool

source "$here/../../scripts/netns.sh"
tmp="$(mktemp -d)"
pins="/sys/fs/bpf/ng911-e2e-$$"
# iproute2 makes these when it loads an object; remove them again only if this test made them.
made_dirs=()
for d in /sys/fs/bpf/ip /sys/fs/bpf/tc /sys/fs/bpf/xdp; do [ -e "$d" ] || made_dirs+=("$d"); done
cleanup() {
  netns_cleanup  # the processes in pids too
  rm -rf "$pins" "$tmp"
  for d in "${made_dirs[@]}"; do
    if [ -L "$d" ]; then rm -f "$d"; else rmdir "$d/globals" "$d" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT

netns() { printf '%s' "--net=/run/netns/$ns_tag$1"; }

# Topology: client 10.66.0.2 -- 10.66.0.1 (VIP, XDP) node 10.66.i.1 -- 10.66.i.2 backend i.
netns_star "dp$$" c 3 66
# A veth hands locally sent UDP on with only a partial checksum (offload); a NIC's peer on the
# wire sends full ones. Checksums computed in software make the client look like the latter.
in_ns c ethtool -K c0 tx off >/dev/null
for i in 1 2 3; do
  # veth delivers redirected frames only to a peer with an XDP program.
  in_ns "b$i" ip link set dev b0 xdpdrv obj "$pass_obj" sec xdp
  # Started directly (not through a function) so that $! is the process itself.
  nsenter "$(netns "b$i")" python3 "$here/sip_backend.py" 5060 "$tmp/b$i.log" &
  pids+=($!)
done

metrics_port=8200
nsenter "$(netns n)" "$dataplane" run --dev n0 --vip 10.66.0.1 \
  --backend 10.66.1.2:5060 --backend 10.66.2.2:5060 --backend 10.66.3.2:5060 \
  --health-interval-ms 200 --dead-after-ms 1000 --request-rate 100000 --request-burst 100000 \
  --invite-rate 100000 --invite-burst 100000 --pin-dir "$pins" --control "$tmp/control.sock" \
  --metrics "127.0.0.1:$metrics_port" 2>"$tmp/dataplane.log" &
pids+=($!)

# wait_for DESCRIPTION SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local what="$1" seconds="$2"; shift 2
  for _ in $(seq $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then pass "$what"; return 0; fi
    sleep 0.2
  done
  fail "$what (not within ${seconds}s)"
  return 1
}
in_table() { [ "$("$dataplane" backend list --control "$tmp/control.sock" | grep -c 'in_table=1')" = "$1" ]; }
if ! wait_for "three backends answer OPTIONS and join the table" 15 in_table 3; then
  cat "$tmp/dataplane.log"; "$dataplane" backend list --control "$tmp/control.sock" || true
  finish; exit 1
fi

# analyse PREFIX: per backend, the calls whose messages it got; split: Call-IDs seen on more than one.
analyse() {
  python3 - "$tmp" "$1" <<'PY'
import collections, sys
tmp, prefix = sys.argv[1], sys.argv[2]
where = collections.defaultdict(set); msgs = 0; per = {}
for i in (1, 2, 3):
    try: lines = [l.strip() for l in open(f"{tmp}/b{i}.log") if l.startswith(prefix + "-")]
    except FileNotFoundError: lines = []
    msgs += len(lines); per[i] = len(set(lines))
    for l in lines: where[l].add(i)
split = sum(1 for s in where.values() if len(s) > 1)
print(f"messages={msgs} calls={len(where)} split={split} b1={per[1]} b2={per[2]} b3={per[3]}")
with open(f"{tmp}/{prefix}.map", "w") as f:
    for cid, s in sorted(where.items()): f.write(f"{cid} {min(s)}\n")
PY
}
wait_delivered() { [ "$(field "$(analyse "$1")" messages)" = "$2" ]; }

# 1. 300 calls (900 messages): all delivered, each call on one backend, spread over three.
in_ns c python3 "$here/sip_client.py" 10.66.0.1 5060 300 first
if ! wait_for "all 900 messages of 300 calls reach a backend" 10 wait_delivered first 900; then
  "$dataplane" stats --pin-dir "$pins" | sed 's/^/     /'; sed 's/^/     /' "$tmp/dataplane.log"
  for i in 1 2 3; do in_ns "b$i" ip -s link show b0 | sed 's/^/     /'; in_ns "b$i" nstat -az 2>/dev/null | grep -E "Udp(InErrors|InCsumErrors|NoPorts|InDatagrams)|IpInAddrErrors|IpInHdrErrors" | sed 's/^/     /'; done
fi
out="$(analyse first)"; echo "     $out"
cp "$tmp/first.map" "$tmp/first.map.before"
expect_eq "$(field "$out" split)" 0 "every message of a call reaches the same backend"
for i in 1 2 3; do
  n="$(field "$out" "b$i")"
  if [ "$n" -ge 60 ] && [ "$n" -le 140 ]; then pass "backend $i has $n of 300 calls"; else fail "backend $i has $n of 300 calls (want 60-140)"; fi
done

# 2. Backend 2 dies: the controller notices within dead-after and takes it out of the table;
#    the same calls again: backend 1's and 3's calls stay where they were, backend 2's move.
stop "${pids[1]}"
wait_for "the dead backend leaves the table" 10 in_table 2 || true
wait_for "backend_down logged" 5 grep -q '"event":"backend_down"' "$tmp/dataplane.log" || true
: >"$tmp/b1.log"; : >"$tmp/b2.log"; : >"$tmp/b3.log"
in_ns c python3 "$here/sip_client.py" 10.66.0.1 5060 300 first
wait_for "after failover all 900 messages reach the two live backends" 10 wait_delivered first 900 || true
out="$(analyse first)"; echo "     $out"
expect_eq "$(field "$out" split)" 0 "after failover, every message of a call still reaches one backend"
expect_eq "$(field "$out" b2)" 0 "nothing goes to the dead backend"
moved="$(python3 - "$tmp" <<'PY'
import sys
tmp = sys.argv[1]
before = dict(l.split() for l in open(f"{tmp}/first.map.before"))
after = dict(l.split() for l in open(f"{tmp}/first.map"))
kept = [c for c, b in before.items() if b != "2"]
print(sum(1 for c in kept if after.get(c) != before[c]))
PY
)"
expect_eq "$moved" 0 "calls on the surviving backends stay where they were (only the dead one's move)"

# 3. Live control: drain backend 3. Calls in progress stay where they are (their BYEs still reach
#    backend 3); new calls go to backend 1 only, each whole; once backend 3 is removed, the drain
#    ends and nothing reaches it.
cp "$tmp/first.map" "$tmp/first.map.drain"
expect_rc 0 "drain a backend" -- "$dataplane" backend drain 10.66.3.2:5060 --control "$tmp/control.sock"
expect_out "slots written" "drain rewrites the table"
expect_rc 1 "an unknown backend is refused" -- "$dataplane" backend remove 10.66.9.9:5060 --control "$tmp/control.sock"
expect_out "no backend" "the refusal says why"
: >"$tmp/b1.log"; : >"$tmp/b3.log"
in_ns c python3 "$here/sip_client.py" 10.66.0.1 5060 100 third
wait_for "with backend 3 drained, all 300 messages of 100 new calls reach backend 1" 10 wait_delivered third 300 || true
out="$(analyse third)"; echo "     $out"
expect_eq "$(field "$out" b1)/$(field "$out" b3)/$(field "$out" split)" "100/0/0" "backend 1 takes every new call, whole"
in_ns c python3 "$here/sip_client.py" 10.66.0.1 5060 300 first --in-dialog
wait_for "the BYEs of 300 calls in progress arrive" 10 wait_delivered first 300 || true
out="$(analyse first)"; echo "     $out"
on3="$(awk '$2 == 3' "$tmp/first.map.drain" | wc -l)"
expect_eq "$(field "$out" b3)" "$on3" "backend 3, drained, still gets the BYEs of its $on3 calls in progress"
expect_eq "$(cmp -s "$tmp/first.map.drain" "$tmp/first.map" && echo same)" same "every call in progress stays on its backend"
expect_rc 0 "metrics count the drain" -- in_ns n curl -sf "http://127.0.0.1:$metrics_port/metrics"
expect_out 'ng911_dataplane_drain_total\{what="kept"\} [1-9]' "metrics: messages of calls kept during the drain"
expect_rc 0 "remove the drained backend (its calls are over)" -- "$dataplane" backend remove 10.66.3.2:5060 --control "$tmp/control.sock"
: >"$tmp/b1.log"; : >"$tmp/b3.log"
in_ns c python3 "$here/sip_client.py" 10.66.0.1 5060 300 first --in-dialog
wait_for "after the removal the 300 BYEs arrive" 10 wait_delivered first 300 || true
out="$(analyse first)"; echo "     $out"
expect_eq "$(field "$out" b3)" 0 "after the drain nothing reaches the removed backend"
expect_rc 0 "add it back with weight 2" -- "$dataplane" backend add 10.66.3.2:5060,weight=2 --control "$tmp/control.sock"
wait_for "the added backend joins after its first answer" 10 in_table 2 || true

# 4. Statistics: the stats command (pinned maps) and /metrics.
expect_rc 0 "stats command" -- "$dataplane" stats --pin-dir "$pins"
expect_out "emergency_invite +[1-9]" "stats count emergency INVITEs"
expect_out "redirect +[1-9]" "stats count redirected packets"
expect_rc 0 "stats through the control socket" -- "$dataplane" stats --control "$tmp/control.sock"
expect_out "emergency_invite +[1-9]" "the control socket's stats count emergency INVITEs"
expect_rc 0 "GET /metrics" -- in_ns n curl -sf "http://127.0.0.1:$metrics_port/metrics"
expect_out 'ng911_dataplane_packets_total\{class="emergency_invite"\} [1-9]' "metrics: packets per class"
expect_out 'ng911_dataplane_dropped_total\{reason="malformed"\}' "metrics: drops per reason"

finish
