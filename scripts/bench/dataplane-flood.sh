#!/usr/bin/env bash
# Dataplane figures, part 4: legitimate call completion while an INVITE flood rises, with the
# flood guard on and off.
#
#   client ns (10.99.0.2) --veth--> node ns (10.99.0.1, the VIP) --veth--> backend ns 1..N
#   SIPp UAC: emergency calls      ng911-dataplane run               SIPp UAS (10.99.i.2:5060)
#   ng911-pktgen live: INVITE      --guard on|off                    answering every INVITE
#   flood (urn:service:sos) from
#   4 sources 10.99.0.100-103
#
# Each step: fresh backends and controller, the flood at the step's rate (from a second CPU),
# and CPS legitimate calls a second for STEP seconds; the step's completion is SIPp's successful
# calls over the calls it placed. The guard's budget per source is --invite-rate 200/s (burst
# 400) and --request-rate 2000/s: the legitimate caller stays well inside it, each flood source
# far outside it once the flood passes a few hundred a second.
#   scripts/bench/dataplane-flood.sh [--backends N] [--step-seconds S] [--cps N]
#                                    [--steps 0,5000,20000,100000,max] [--gen-cpus LIST]
# Root. Everything it creates is removed on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_root

backends=2
step_seconds=10
cps=50
steps="0,5000,20000,100000,max"
gen_cpus=1
while [ $# -gt 0 ]; do
  case "$1" in
    --backends) backends="$2"; shift 2 ;;
    --step-seconds) step_seconds="$2"; shift 2 ;;
    --cps) cps="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --gen-cpus) gen_cpus="$2"; shift 2 ;;
    *) die "unknown option $1 (see the comment at the top of $0)" ;;
  esac
done
[ "$backends" -ge 1 ] && [ "$backends" -le 16 ] || die "--backends: 1 to 16"
[ "$step_seconds" -ge 1 ] && [ "$step_seconds" -le 120 ] || die "--step-seconds: 1 to 120"

bin="$NG911_BUILD/bin"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -x "$bin/ng911-pktgen" ] && [ -x "$bin/ng911-dataplane" ] || "$NG911_ROOT/scripts/build.sh"
pass_obj="$NG911_BUILD/kernel/xdp_pass.bpf.o"
[ -f "$pass_obj" ] || die "no $pass_obj (build the kernel/ programs)"
for t in ip nsenter sipp; do command -v "$t" >/dev/null || die "$t not installed (scripts/install-deps.sh)"; done

source "$NG911_ROOT/scripts/netns.sh"
tmp="$(mktemp -d)"
pins="/sys/fs/bpf/ng911-flbench-$$"
trap 'netns_cleanup; rm -rf "$tmp" "$pins"' EXIT

log "bench: flood topology: client, node, $backends backends"
netns_star "fl$$" c "$backends" 99
# Full checksums from SIPp's socket, as a NIC's peer would send them (see tests/dataplane/e2e_test.sh).
in_ns c ethtool -K c0 tx off >/dev/null
# The backends answer the caller directly (the caller's address is kept): through the node.
in_ns n sysctl -qw net.ipv4.ip_forward=1
for i in $(seq "$backends"); do
  in_ns "b$i" ethtool -K b0 tx off >/dev/null
  # veth delivers redirected frames only to a peer with an XDP program.
  in_ns "b$i" ip link set dev b0 xdpdrv obj "$pass_obj" sec xdp
done
n0_mac="$(in_ns n ip -br link show n0 | awk '{print $3}')"

# udp_counters: the backends' UDP datagrams read and receive-buffer drops, summed ("READ DROPPED").
udp_counters() {
  local i n reached=0 overflow=0
  for i in $(seq "$backends"); do
    n="$(in_ns "b$i" nstat -asz UdpInDatagrams UdpRcvbufErrors 2>/dev/null | awk '{ v[$1] = $2 } END { print v["UdpInDatagrams"] + 0, v["UdpRcvbufErrors"] + 0 }')"
    reached=$((reached + ${n% *})); overflow=$((overflow + ${n#* }))
  done
  echo "$reached $overflow"
}

results=()
# step GUARD RATE: one step; appends a line to results.
step() {
  local guard="$1" rate="$2" i args=() uas=() dp flood="" calls=$((cps * step_seconds))
  for i in $(seq "$backends"); do
    bg "b$i" "$tmp/uas-$i.log" sipp -sn uas -aa -i "10.99.$i.2" -p 5060 -nostdin -timeout "$((step_seconds + 30))s" \
      -max_recv_loops 100000
    uas+=($!)
    args+=(--backend "10.99.$i.2:5060")
  done
  bg n "$tmp/dataplane.log" "$bin/ng911-dataplane" run --dev n0 --vip 10.99.0.1 "${args[@]}" --guard "$guard" \
    --invite-rate 200 --invite-burst 400 --request-rate 2000 --request-burst 4000 \
    --health-interval-ms 200 --dead-after-ms 3000 --pin-dir "$pins" --control "$tmp/control.sock" --metrics ""
  dp=$!
  local joined=0
  for _ in $(seq 100); do
    if [ "$("$bin/ng911-dataplane" backend list --control "$tmp/control.sock" 2>/dev/null | grep -c 'in_table=1')" = "$backends" ]; then
      joined=1; break
    fi
    sleep 0.2
  done
  [ "$joined" = 1 ] || { cat "$tmp/dataplane.log" >&2; die "the backends did not join the table"; }
  local before; before="$(udp_counters)"

  if [ "$rate" != 0 ]; then
    local rate_args=()
    [ "$rate" != max ] && rate_args=(--rate "$rate")
    bg c "$tmp/flood.out" "$bin/ng911-pktgen" live --dev c0 --dst-mac "$n0_mac" --dst-ip 10.99.0.1 --mix flood=1 \
      --flood-src 10.99.0.100 --flood-sources 4 --duration "$((step_seconds + 20))" --cpus "$gen_cpus" --quiet "${rate_args[@]}"
    flood=$!
    sleep 1
  fi
  rm -f "$tmp/uac.csv" "$tmp"/*_rtt.csv
  # -trace_rtt: every call's setup time (INVITE to its 200), written in the working directory.
  (cd "$tmp" && in_ns c sipp 10.99.0.1:5060 -sf "$here/dataplane/sipp-uac-sos.xml" -i 10.99.0.2 -p 5062 -r "$cps" \
    -m "$calls" -l "$((cps * 20))" -nostdin -timeout "$((step_seconds + 30))s" -trace_stat -stf "$tmp/uac.csv" -fd 1 \
    -trace_rtt -rtt_freq 1 >"$tmp/uac.log" 2>&1) || true
  # Setup time percentiles in ms (SIPp's rtt file: Date_ms;response_time_ms;rtd_no).
  local setup_p50 setup_p95
  read -r setup_p50 setup_p95 < <(cat "$tmp"/*_rtt.csv 2>/dev/null | awk -F';' '!/^Date/ && NF >= 2 { print $2 }' | sort -n |
    awk '{ v[++n] = $1 } END { if (!n) { print "- -"; exit }
      i50 = int(n * 0.50); if (i50 < 1) i50 = 1; i95 = int(n * 0.95); if (i95 < 1) i95 = 1
      print v[i50], v[i95] }')
  local sent=0 elapsed=1
  if [ -n "$flood" ]; then
    halt "$flood"
    local line; line="$(grep '^sent ' "$tmp/flood.out" || true)"
    sent="$(field "$line" total)"; elapsed="$(field "$line" elapsed_s)"
  fi
  local stats dropped
  stats="$("$bin/ng911-dataplane" stats --pin-dir "$pins" 2>/dev/null || true)"
  dropped="$(printf '%s\n' "$stats" | awk '/invite_flood/ { print $NF; exit }')"
  # What reached the backends' SIP sockets during the step, and what their full buffers dropped.
  local after reached overflow
  after="$(udp_counters)"
  reached=$((${after% *} - ${before% *})); overflow=$((${after#* } - ${before#* }))
  halt "$dp"
  for i in "${uas[@]}"; do halt "$i"; done
  # SIPp's statistics file: the last line, columns found by name.
  local ok failed created
  read -r created ok failed < <(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { last = $0 } END { split(last, v, ";"); print v[c["TotalCallCreated"]] + 0, v[c["SuccessfulCall(C)"]] + 0, v[c["FailedCall(C)"]] + 0 }' \
    "$tmp/uac.csv" 2>/dev/null || echo "0 0 0")
  local pct flood_pps
  pct="$(awk -v ok="$ok" -v n="$calls" 'BEGIN { printf "%.1f", n ? 100 * ok / n : 0 }')"
  flood_pps="$(awk -v n="${sent:-0}" -v s="${elapsed:-1}" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')"
  results+=("$(printf '%-6s %-10s %12s %14s %12s %12s %8s %8s %8s %9s%% %10s %10s' "$guard" "$rate" "$flood_pps" "${dropped:-0}" \
    "$reached" "$overflow" "$calls" "$ok" "$failed" "$pct" "$setup_p50" "$setup_p95")")
  log "bench: guard $guard, flood $rate ($flood_pps/s sent, ${dropped:-0} dropped by the guard, $reached read and $overflow overflowed at the backends): $ok of $calls calls completed ($pct%)"
}

IFS=, read -r -a rates <<<"$steps"
for guard in on off; do
  for rate in "${rates[@]}"; do step "$guard" "$rate"; done
done

echo
echo "Call completion under an INVITE flood: $cps calls/s for ${step_seconds} s per step, $backends SIPp UAS backends,"
echo "flood from 4 sources (ng911-pktgen on CPU(s) $gen_cpus); guard budget per source: 200 INVITE/s (burst 400)"
printf '%-6s %-10s %12s %14s %12s %12s %8s %8s %8s %10s %10s %10s\n' guard flood flood_pps/s guard_dropped backend_read backend_ovfl calls ok failed completed setup_p50ms setup_p95ms
for r in "${results[@]}"; do echo "$r"; done
echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$(nproc) kernel=$(uname -r) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
