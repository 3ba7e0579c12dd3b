#!/usr/bin/env bash
# Stops everything scripts/up.sh started, in the reverse order: the ESRP first (it drains: calls
# under way end), then ng911-psap and the SIPp PSAP queues, the LoST server and the database. Data stays in var/ for
# the next start.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$NG911_ROOT/scripts/service.sh" esrp stop
"$NG911_ROOT/scripts/service.sh" psap stop
"$NG911_ROOT/scripts/service.sh" psaps stop
"$NG911_ROOT/scripts/service.sh" lost stop
"$NG911_ROOT/scripts/db.sh" stop
log "stopped"
