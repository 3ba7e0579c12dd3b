#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for a
# bounded time, seeded with the corpus in tests/fuzz/seeds. Exits non-zero on a crash, a leak
# or a timeout in the target.
#   scripts/fuzz.sh [SECONDS per target, default 30]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
seconds="${1:-30}"
build="$NG911_ROOT/build-fuzz"
if [ ! -f "$build/build.ninja" ]; then
  log "fuzz: configuring $build with clang"
  CC=clang CXX=clang++ cmake -S "$NG911_ROOT" -B "$build" -G Ninja -DNG911_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)" --target lost_request_fuzz sip_message_fuzz
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# target, then its seed directories (read-only; new inputs go to a scratch corpus)
run() {
  local target="$1"; shift
  mkdir -p "$work/$target"
  log "fuzz: $target for ${seconds}s"
  # -timeout: any single input taking over 5 s is a hang; -rss_limit_mb bounds memory.
  "$build/bin/$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "$work/$target" "$@" 2>&1 | tail -8
}
run lost_request_fuzz "$NG911_ROOT/tests/fuzz/seeds/lost"
# The RFC 4475 torture messages seed the SIP parser when the conformance material is present.
sip_seeds=("$NG911_ROOT/tests/fuzz/seeds/sip")
[ -d "$NG911_ROOT/../shared/conformance/rfc4475" ] && sip_seeds+=("$NG911_ROOT/../shared/conformance/rfc4475")
run sip_message_fuzz "${sip_seeds[@]}"
