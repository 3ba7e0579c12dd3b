#!/usr/bin/env bash
# SIP core figures: messages parsed per second on one core for an emergency INVITE (about
# 1.4 KB: SDP and a PIDF-LO in multipart/mixed), parse alone and parse plus what a proxy reads.
#   scripts/bench/sip.sh [SECONDS per figure, default 3]
# Then calls and transactions per second through ng911-sip-proxy between a SIPp caller and a
# SIPp callee on loopback (NG911_BENCH_SIP_CALLS, default 20000; NG911_BENCH_SIP_RATE, default
# 6000 offered calls/s; SIPp socket buffers 4 MiB so that SIPp itself does not drop;
# NG911_BENCH_SIP_PROXY_THREADS event loops, default 1; NG911_BENCH_SIP_PROXY_ARGS more options,
# e.g. "--steer-call-id false").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
seconds="${1:-3}"
bin="$NG911_BUILD/bin/ng911-bench-sip-parse"
[ -x "$bin" ] || "$NG911_ROOT/scripts/build.sh"
log "bench: parsing $NG911_ROOT/tests/data/sip/emergency-invite.sip on one core, ${seconds}s per figure"
# taskset keeps the loop on one core, so the figure is per core.
taskset -c 0 "$bin" "$NG911_ROOT/tests/data/sip/emergency-invite.sip" "$seconds"
echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$(nproc)"

# Transactions through the proxy: SIPp calls (INVITE/180/200/ACK/BYE/200: two transactions and
# a stateless ACK each) from a SIPp caller through ng911-sip-proxy to a SIPp callee, UDP on
# loopback, bounded by a call count and a time limit. All three processes share the cores.
proxy="$NG911_BUILD/bin/ng911-sip-proxy"
calls="${NG911_BENCH_SIP_CALLS:-20000}"
rate="${NG911_BENCH_SIP_RATE:-6000}"
tmp="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
uas_port="$(port)"; uac_port="$(port)"
sipp -sn uas -i 127.0.0.1 -p "$uas_port" -buff_size 4194304 -nostdin -bg >/dev/null 2>&1 || true
pids+=($(pgrep -f "sipp -sn uas -i 127.0.0.1 -p $uas_port" | head -1))
"$proxy" --listen 127.0.0.1:0 --next-hop "udp:127.0.0.1:$uas_port" --threads "${NG911_BENCH_SIP_PROXY_THREADS:-1}" \
  ${NG911_BENCH_SIP_PROXY_ARGS:-} 2>"$tmp/proxy.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$tmp/proxy.log" && break; sleep 0.05; done
proxy_port="$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$tmp/proxy.log")"
log "bench: $calls calls at up to $rate calls/s through ng911-sip-proxy (SIPp caller and callee)"
start=$(date +%s.%N)
timeout 120 sipp -sn uac "127.0.0.1:$proxy_port" -i 127.0.0.1 -p "$uac_port" -m "$calls" -r "$rate" -l 2000 -buff_size 4194304 \
  -nostdin -timeout 100 -trace_stat -stf "$tmp/stat.csv" >"$tmp/uac.out" 2>&1 || true
end=$(date +%s.%N)
ok="$(grep -E 'Successful call' "$tmp/uac.out" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')"
failed="$(grep -E 'Failed call' "$tmp/uac.out" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')"
awk -v ok="${ok:-0}" -v failed="${failed:-0}" -v a="$start" -v b="$end" 'BEGIN {
  s = b - a; printf "proxy_calls=%d proxy_failed_calls=%d seconds=%.1f proxy_calls_per_second=%.0f proxy_transactions_per_second=%.0f\n", ok, failed, s, ok / s, 2 * ok / s }'
