#!/usr/bin/env bash
# CTest fixture: a throwaway PostgreSQL/PostGIS cluster for the test suite, never the demo's.
#   test-db.sh setup DIR PORT    fresh cluster in DIR on PORT, database ng911 migrated; tests
#                                create their own databases from it as a template
#   test-db.sh cleanup DIR PORT  stop and delete it
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cmd="$1" dir="$2" port="$3"
case "$cmd" in
  setup)
    "$root/scripts/db.sh" --dir "$dir" --port "$port" destroy
    # Durability is not under test; fsync off makes database creation cheap.
    NG911_PG_FSYNC=off "$root/scripts/db.sh" --dir "$dir" --port "$port" up
    ;;
  cleanup)
    "$root/scripts/db.sh" --dir "$dir" --port "$port" destroy
    ;;
  *) echo "usage: test-db.sh setup|cleanup DIR PORT" >&2; exit 2 ;;
esac
