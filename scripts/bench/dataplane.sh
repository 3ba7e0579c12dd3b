#!/usr/bin/env bash
# Dataplane figures, part 1: ns/packet of the XDP program (kernel/ng911_xdp.bpf.c) through
# BPF_PROG_TEST_RUN with repeat, per packet class: a 1 KB emergency INVITE with a PIDF-LO, a
# REGISTER, a 200 OK and a non-SIP datagram, beside a bare XDP_DROP program's figure from the
# same run (the cost of running any XDP program). Median (and minimum) of ROUNDS runs of REPEAT
# packets each, on one core. Target: at most 100 ns/packet for the emergency INVITE (10 Mpps
# per core).
#   scripts/bench/dataplane.sh [--baseline REV]... [REPEAT, default 1000000] [ROUNDS, default 5]
# --baseline REV builds kernel/ of that git revision (e.g. 8a2d7bb, stage one) and measures it
# in the same run, in a column of its own: before/after from one machine at one moment.
# Root (loading BPF programs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_root
baselines=()
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) baselines+=("$2"); shift 2 ;;
    *) break ;;
  esac
done
repeat="${1:-1000000}"
rounds="${2:-5}"
bin="$NG911_BUILD/bin/ng911-dataplane-bench"
[ -x "$bin" ] || "$NG911_ROOT/scripts/build.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
objects=()
arch_include="/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
for rev in "${baselines[@]}"; do
  dir="$tmp/$rev"
  mkdir -p "$dir"
  git -C "$NG911_ROOT" archive "$rev" kernel | tar -x -C "$dir"
  clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"$arch_include" -I"$dir/kernel" \
    -c "$dir/kernel/ng911_xdp.bpf.c" -o "$dir/ng911_xdp.bpf.o"
  objects+=("$dir/ng911_xdp.bpf.o")
  log "bench: baseline $rev ($(git -C "$NG911_ROOT" log -1 --format=%h "$rev")) as other#${#objects[@]}"
done
log "bench: BPF_PROG_TEST_RUN, $rounds rounds of $repeat packets per case, one core"
taskset -c 0 "$bin" "$repeat" "$rounds" "${objects[@]}"
echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$(nproc) kernel=$(uname -r)"
