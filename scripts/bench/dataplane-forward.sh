#!/usr/bin/env bash
# Dataplane figures, parts 2 and 3: packets/s forwarded between network namespaces, counted at
# the receivers, by the XDP path (ng911-dataplane), and on the same topology by Kamailio's
# dispatcher (stateless, hash over the Call-ID) and nginx's UDP stream balancer (hash over the
# client's address); the DPDK path's hook runs when its binary exists.
#
#   generator ns --veth--> node ns (10.88.0.1, the VIP) --veth--> backend ns 1..N (10.88.i.2)
#   ng911-pktgen live        XDP: ng911-dataplane run          ng911-pktgen count (XDP: counts
#   (BPF_PROG_RUN live       peers: xdp_pass + Kamailio        and drops the datagrams to 5060)
#    frames, XDP_TX)                 or nginx on 10.88.0.1
#
# Each path gets the same traffic for the same time, from the same generator; forwarded/s is
# what the backends' counters saw over the generator's sending time. The peers compare on a mix
# of requests (what all three forward); the XDP path also runs the full default mix (responses
# forwarded by Call-ID, garbage dropped by design).
#   scripts/bench/dataplane-forward.sh [--backends N] [--duration S] [--mix SPEC] [--gen-cpus LIST]
#                                      [--paths xdp,full,kamailio,nginx,dpdk] [--workers N] [--rate PPS]
# --rate offers every path the same paced rate instead of all the generator can send (the peers'
# figure without the overload of their sockets).
# Root. Everything it creates (namespaces, processes, pins, files) is removed on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_root

backends=3
duration=10
mix="emergency=60,register=25,options=15"
full_mix="emergency=40,register=15,options=10,response=20,flood=10,garbage=5"
gen_cpus=0
paths="xdp,full,kamailio,nginx,dpdk"
workers="$(nproc)"
rate=0
while [ $# -gt 0 ]; do
  case "$1" in
    --backends) backends="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --mix) mix="$2"; shift 2 ;;
    --gen-cpus) gen_cpus="$2"; shift 2 ;;
    --paths) paths="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    *) die "unknown option $1 (see the comment at the top of $0)" ;;
  esac
done
[ "$backends" -ge 1 ] && [ "$backends" -le 16 ] || die "--backends: 1 to 16"

bin="$NG911_BUILD/bin"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -x "$bin/ng911-pktgen" ] && [ -x "$bin/ng911-dataplane" ] || "$NG911_ROOT/scripts/build.sh"
pass_obj="$NG911_BUILD/kernel/xdp_pass.bpf.o"
[ -f "$pass_obj" ] || die "no $pass_obj (build the kernel/ programs)"
for t in ip nsenter python3 kamailio nginx; do command -v "$t" >/dev/null || die "$t not installed (scripts/install-deps.sh)"; done

source "$NG911_ROOT/scripts/netns.sh"
tmp="$(mktemp -d)"
pins="/sys/fs/bpf/ng911-fwbench-$$"
trap 'netns_cleanup; rm -rf "$tmp" "$pins"' EXIT

log "bench: forwarding topology: generator, node, $backends backends"
netns_star "fw$$" g "$backends" 88
for i in $(seq "$backends"); do
  bg "b$i" "$tmp/responder-$i.log" python3 "$here/dataplane/sip-responder.py" 5060
done
n0_mac="$(in_ns n ip -br link show n0 | awk '{print $3}')"

counters=()
# start_counters [ARGS...]: ng911-pktgen count on every backend's b0 (ARGS "pass-from": let the
# controller's health checks through to the responder).
start_counters() {
  counters=()
  local i extra
  for i in $(seq "$backends"); do
    extra=()
    [ "${1:-}" = pass-from ] && extra=(--pass-from "10.88.$i.1")
    bg "b$i" "$tmp/count-$i.out" "$bin/ng911-pktgen" count --dev b0 --port 5060 "${extra[@]}"
    counters+=($!)
  done
  for i in $(seq "$backends"); do
    for _ in $(seq 50); do grep -q "counting on" "$tmp/count-$i.out" && break; sleep 0.1; done
  done
}
# stop_counters: stops them; sets received (the sum) and spread (per backend).
stop_counters() {
  local i n
  sleep 1  # what is still in flight (queues of the peers) arrives
  received=0; spread=""
  for i in $(seq "$backends"); do
    halt "${counters[$((i - 1))]}"
    n="$(field "$(grep '^received ' "$tmp/count-$i.out")" total)"
    received=$((received + ${n:-0}))
    spread="$spread b$i=${n:-0}"
  done
}
# generate MIX: the generator for the duration; sets sent, elapsed and the sent line.
generate() {
  local line rate_args=()
  [ "$rate" != 0 ] && rate_args=(--rate "$rate")
  line="$(in_ns g "$bin/ng911-pktgen" live --dev g0 --dst-mac "$n0_mac" --src-ip 10.88.0.2 --callers 64 \
    --dst-ip 10.88.0.1 --flood-src 10.88.0.100 --flood-sources 4 --mix "$1" --duration "$duration" \
    --cpus "$gen_cpus" --quiet "${rate_args[@]}" | grep '^sent ')"
  sent="$(field "$line" total)"
  elapsed="$(field "$line" elapsed_s)"
  garbage="$(field "$line" garbage)"
}
results=()
# report NAME MIX EXPECTED_SHARE_NOTE: one line of the summary.
report() {
  local pps fpps pct
  pps="$(awk -v n="$sent" -v s="$elapsed" 'BEGIN { printf "%.0f", n / s }')"
  fpps="$(awk -v n="$received" -v s="$elapsed" 'BEGIN { printf "%.0f", n / s }')"
  pct="$(awk -v r="$received" -v n="$sent" 'BEGIN { printf "%.1f", n ? 100 * r / n : 0 }')"
  results+=("$(printf '%-34s %12s %10s %12s %12s %8s%%  %s' "$1" "$sent" "$pps" "$received" "$fpps" "$pct" "$spread")")
  log "bench: $1: sent $sent ($pps/s), forwarded $received ($fpps/s, $pct%);$spread"
}

xdp_start() {
  local args=() i
  for i in $(seq "$backends"); do args+=(--backend "10.88.$i.2:5060"); done
  bg n "$tmp/dataplane.log" "$bin/ng911-dataplane" run --dev n0 --vip 10.88.0.1 "${args[@]}" --guard off \
    --health-interval-ms 200 --dead-after-ms 3000 --pin-dir "$pins" --control "$tmp/control.sock" --metrics ""
  dataplane_pid=$!
  for _ in $(seq 100); do
    [ "$("$bin/ng911-dataplane" backend list --control "$tmp/control.sock" 2>/dev/null | grep -c 'in_table=1')" = "$backends" ] && return 0
    sleep 0.2
  done
  cat "$tmp/dataplane.log" >&2
  die "the backends did not join the XDP path's table"
}

run_xdp() {  # NAME MIX
  start_counters pass-from
  xdp_start
  generate "$2"
  stop_counters
  halt "$dataplane_pid"
  report "$1" "$2"
}

# The peers listen on the node's own address: the generator's frames reach the node's stack
# through xdp_pass on n0 (a veth delivers XDP_TX'd frames only to a peer with an XDP program).
peer_prepare() { in_ns n ip link set dev n0 xdpdrv obj "$pass_obj" sec xdp; }
peer_finish() { in_ns n ip link set dev n0 xdpdrv off; }

run_kamailio() {
  local i list="$tmp/dispatcher.list"
  : >"$list"
  for i in $(seq "$backends"); do echo "1 sip:10.88.$i.2:5060" >>"$list"; done
  sed -e "s|@LISTEN@|10.88.0.1|" -e "s|@CHILDREN@|$workers|" -e "s|@LIST@|$list|" \
    -e "s|@MPATH@|/usr/lib/x86_64-linux-gnu/kamailio/modules/|" "$here/dataplane/kamailio-dispatcher.cfg.in" >"$tmp/kamailio.cfg"
  mkdir -p "$tmp/kamailio-run"
  peer_prepare
  start_counters
  bg n "$tmp/kamailio.log" kamailio -f "$tmp/kamailio.cfg" -DD -E -Y "$tmp/kamailio-run" -P "$tmp/kamailio.pid" -m 256 -M 16
  local kpid=$!
  for _ in $(seq 50); do in_ns n ss -Hlun 'sport = :5060' | grep -q . && break; sleep 0.1; done
  in_ns n ss -Hlun 'sport = :5060' | grep -q . || { cat "$tmp/kamailio.log" >&2; die "kamailio did not start"; }
  generate "$1"
  stop_counters
  halt "$kpid"
  peer_finish
  report "kamailio dispatcher (Call-ID)" "$1"
}

run_nginx() {
  local i servers=""
  for i in $(seq "$backends"); do servers="$servers    server 10.88.$i.2:5060;\n"; done
  sed -e "s|@DIR@|$tmp|" -e "s|@WORKERS@|$workers|" -e "s|@LISTEN@|10.88.0.1|" -e "s|@SERVERS@|$servers|" \
    "$here/dataplane/nginx-udp.conf.in" >"$tmp/nginx.conf"
  peer_prepare
  start_counters
  bg n "$tmp/nginx.log" nginx -p "$tmp" -c "$tmp/nginx.conf"
  local npid=$!
  for _ in $(seq 50); do in_ns n ss -Hlun 'sport = :5060' | grep -q . && break; sleep 0.1; done
  in_ns n ss -Hlun 'sport = :5060' | grep -q . || { cat "$tmp/nginx.log" "$tmp/nginx-error.log" >&2; die "nginx did not start"; }
  generate "$1"
  stop_counters
  halt "$npid"
  peer_finish
  report "nginx stream (hash \$remote_addr)" "$1"
}

# The DPDK path's hook: the same classifier on DPDK ports in place of the XDP program, with the
# same backends and flags as `ng911-dataplane run`. Every node veth is a port (net_af_xdp, or
# net_af_packet with NG911_DPDK_PMD=af_packet): frames come in on n0 and leave by the backend's
# n$i. Health checks off and each backend's MAC and port given: an af_xdp port takes the backends'
# answers away from the kernel, and the DPDK path has no way to the stack (it frees what it
# would pass), so OPTIONS could not be answered.
run_dpdk() {
  local cmd=() args=() devs=() i mac pmd="${NG911_DPDK_PMD:-af_xdp}"
  if [ -x "$bin/ng911-dataplane-dpdk" ]; then cmd=("$bin/ng911-dataplane-dpdk")
  else
    results+=("$(printf '%-34s %s' "DPDK path" "skipped: ng911-dataplane-dpdk is not built")")
    log "bench: DPDK path skipped (not built)"
    return 0
  fi
  for i in $(seq "$backends"); do
    mac="$(in_ns "b$i" ip -br link show b0 | awk '{print $3}')"
    args+=(--backend "10.88.$i.2:5060,mac=$mac,dev=n$i")
    devs+=(--dev "n$i")
  done
  # af_packet reads from the stack's side: n0 needs an XDP program to accept the generator's frames.
  [ "$pmd" = af_packet ] && peer_prepare
  start_counters
  bg n "$tmp/dpdk.log" "${cmd[@]}" --dev n0 "${devs[@]}" --pmd "$pmd" --vip 10.88.0.1 "${args[@]}" --guard off \
    --health off --control "$tmp/dpdk-control.sock" --metrics ""
  local dpid=$!
  for _ in $(seq 100); do
    [ "$("${cmd[@]}" backend list --control "$tmp/dpdk-control.sock" 2>/dev/null | grep -c 'in_table=1')" = "$backends" ] && break
    sleep 0.2
  done
  [ "$("${cmd[@]}" backend list --control "$tmp/dpdk-control.sock" 2>/dev/null | grep -c 'in_table=1')" = "$backends" ] ||
    { cat "$tmp/dpdk.log" >&2; die "the backends did not join the DPDK path's table"; }
  sleep 0.5  # the worker lcore starts 100 ms after the table is written
  generate "$mix"
  stop_counters
  "${cmd[@]}" stats --control "$tmp/dpdk-control.sock" | grep -E '^(lcore|port)' | sed 's/^/bench: dpdk: /' >&2 || true
  halt "$dpid"
  [ "$pmd" = af_packet ] && peer_finish
  report "DPDK path ($pmd)" "$mix"
}

IFS=, read -r -a want <<<"$paths"
for p in "${want[@]}"; do
  case "$p" in
    xdp) run_xdp "XDP path (ng911-dataplane)" "$mix" ;;
    full) run_xdp "XDP path, full mix" "$full_mix" ;;
    kamailio) run_kamailio "$mix" ;;
    nginx) run_nginx "$mix" ;;
    dpdk) run_dpdk ;;
    *) die "unknown path $p" ;;
  esac
done

echo
echo "Forwarding between namespaces, $backends backends, ${duration} s per path, generator on CPU(s) $gen_cpus," \
  "offered: $([ "$rate" = 0 ] && echo "all it can send" || echo "$rate packets/s")"
echo "mix: $mix (full mix: $full_mix; its garbage is dropped by design, so at most $((100 - 5))% forwarded)"
printf '%-34s %12s %10s %12s %12s %9s  %s\n' path sent sent/s forwarded forwarded/s share "per backend"
for r in "${results[@]}"; do echo "$r"; done
echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$(nproc) kernel=$(uname -r) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
