#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds, then ctest (unit, integration on
# a throwaway PostGIS cluster, CLI, all US counties). Prints ctest's summary; exits non-zero if
# any test fails. Extra arguments go to ctest (e.g. -R gis_cli).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

"$NG911_ROOT/scripts/install-deps.sh"
"$NG911_ROOT/scripts/build.sh"
log "test: running ctest"
ctest --test-dir "$NG911_BUILD" --output-on-failure --parallel "$(nproc)" --timeout 1200 "$@"
