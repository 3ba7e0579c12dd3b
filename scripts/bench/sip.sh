#!/usr/bin/env bash
# SIP core figures: messages parsed per second on one core for an emergency INVITE (about
# 1.4 KB: SDP and a PIDF-LO in multipart/mixed), parse alone and parse plus what a proxy reads.
#   scripts/bench/sip.sh [SECONDS per figure, default 3]
# (Transactions per second through the proxy with SIPp come with the proxy.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
seconds="${1:-3}"
bin="$NG911_BUILD/bin/ng911-bench-sip-parse"
[ -x "$bin" ] || "$NG911_ROOT/scripts/build.sh"
log "bench: parsing $NG911_ROOT/tests/data/sip/emergency-invite.sip on one core, ${seconds}s per figure"
# taskset keeps the loop on one core, so the figure is per core.
taskset -c 0 "$bin" "$NG911_ROOT/tests/data/sip/emergency-invite.sip" "$seconds"
echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$(nproc)"
