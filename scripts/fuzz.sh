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
cmake --build "$build" --parallel "$(nproc)" --target lost_request_fuzz
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
log "fuzz: lost_request_fuzz for ${seconds}s"
# -timeout: any single input taking over 5 s is a hang; -rss_limit_mb bounds memory.
"$build/bin/lost_request_fuzz" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 "$corpus" "$NG911_ROOT/tests/fuzz/seeds/lost" 2>&1 | tail -25
