#!/usr/bin/env bash
# Dataplane figures, part 1: ns/packet of the XDP program (kernel/ng911_xdp.bpf.c) through
# BPF_PROG_TEST_RUN with repeat, per packet class: a 1 KB emergency INVITE with a PIDF-LO, a
# REGISTER, a 200 OK and a non-SIP datagram, beside a bare XDP_DROP program's figure from the
# same run (the cost of running any XDP program). Median of ROUNDS runs of REPEAT packets each,
# on one core. Target: at most 100 ns/packet for the emergency INVITE (10 Mpps per core).
#   scripts/bench/dataplane.sh [REPEAT, default 1000000] [ROUNDS, default 5]
# Root (loading BPF programs). Forwarding between namespaces, the DPDK path, Kamailio and nginx
# and the flood figures are parts still to come (docs/dataplane.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_root
repeat="${1:-1000000}"
rounds="${2:-5}"
bin="$NG911_BUILD/bin/ng911-dataplane-bench"
[ -x "$bin" ] || "$NG911_ROOT/scripts/build.sh"
log "bench: BPF_PROG_TEST_RUN, $rounds rounds of $repeat packets per case, one core"
taskset -c 0 "$bin" "$repeat" "$rounds"
echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$(nproc) kernel=$(uname -r)"
