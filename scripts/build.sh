#!/usr/bin/env bash
# Configures (once) and builds everything into build/ with Ninja; binaries land in build/bin.
#   scripts/build.sh [extra cmake -D options for the first configure]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ ! -f "$NG911_BUILD/build.ninja" ]; then
  log "build: configuring $NG911_BUILD"
  cmake -S "$NG911_ROOT" -B "$NG911_BUILD" -G Ninja "$@" >/dev/null
fi
log "build: compiling"
cmake --build "$NG911_BUILD" --parallel "$(nproc)"
