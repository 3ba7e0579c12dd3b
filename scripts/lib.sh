# Shared helpers for the appliance's scripts. Source it; it defines paths and logging only.
NG911_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NG911_BUILD="${NG911_BUILD:-$NG911_ROOT/build}"
NG911_VAR="${NG911_VAR:-$NG911_ROOT/var}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

log()  { printf '%s ng911 %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die()  { printf '%s ng911 error: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "run as root (it installs packages and runs PostgreSQL as the postgres user)"; }
