#!/usr/bin/env bash
# The project-local PostgreSQL/PostGIS cluster: init, start, stop, migrate, psql.
#
#   scripts/db.sh [--dir DIR] [--port PORT] [--db NAME] COMMAND
#     init      create the cluster (as the postgres user) if it does not exist
#     start     init if needed, start it, wait until it accepts connections
#     stop      stop it (fast shutdown); no error if it is not running
#     status    say whether it runs
#     migrate   create the database if missing, apply scripts/db/migrations/*.sql in order,
#               each once (recorded in public.schema_migration)
#     up        start + migrate
#     psql ...  run psql on the database
#     destroy   stop and delete the cluster directory
#
# Defaults: DIR=var/pg, PORT=55432, NAME=ng911 (the operator's defaults in docs/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir="$NG911_VAR/pg"; port=55432; dbname=ng911
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --db) dbname="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
cmd="${1:-}"; [ -n "$cmd" ] || die "usage: db.sh [--dir DIR] [--port PORT] [--db NAME] init|start|stop|status|migrate|up|psql|destroy"
shift || true
data="$dir/data"

as_postgres() { runuser -u postgres -- "$@"; }

# PostgreSQL refuses to run as root and needs every parent directory to be traversable by the
# postgres user. Grant search (x) permission only, where it is missing.
make_reachable() {
  local d; d="$(cd "$1" && pwd)"
  while [ "$d" != "/" ]; do
    if ! as_postgres test -x "$d"; then
      log "db: granting search permission on $d so that the postgres user can reach the cluster"
      chmod o+x "$d"
    fi
    d="$(dirname "$d")"
  done
}

is_running() { [ -f "$data/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; }

do_init() {
  need_root
  id postgres >/dev/null 2>&1 || die "no postgres user: install postgresql-15 (scripts/install-deps.sh)"
  mkdir -p "$dir"
  make_reachable "$dir"
  chown postgres:postgres "$dir"; chmod 700 "$dir"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "db: initialising cluster in $data"
    as_postgres "$PG_BIN/initdb" -D "$data" --auth=trust -E UTF8 --locale=C.UTF-8 -U postgres >/dev/null
  fi
}

do_start() {
  do_init
  if is_running; then log "db: already running on 127.0.0.1:$port ($data)"; return; fi
  log "db: starting on 127.0.0.1:$port"
  # -w waits until the server accepts connections.
  as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$dir/postgresql.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${NG911_PG_FSYNC:-on}" start >/dev/null \
    || { tail -20 "$dir/postgresql.log" >&2; die "db: PostgreSQL did not start (log above)"; }
}

do_stop() {
  if is_running; then
    log "db: stopping ($data)"
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

psql_db() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }

do_migrate() {
  is_running || die "db: not running (scripts/db.sh start)"
  if [ -z "$(psql_db -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$dbname'")" ]; then
    log "db: creating database $dbname"
    psql_db -d postgres -c "CREATE DATABASE \"$dbname\""
  fi
  psql_db -d "$dbname" -c "CREATE TABLE IF NOT EXISTS public.schema_migration (
      version text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
  local f version sum applied
  for f in "$NG911_ROOT"/scripts/db/migrations/*.sql; do
    version="$(basename "$f" .sql)"
    sum="$(sha256sum "$f" | cut -d' ' -f1)"
    applied="$(psql_db -d "$dbname" -tAc "SELECT sha256 FROM public.schema_migration WHERE version = '$version'")"
    if [ -n "$applied" ]; then
      [ "$applied" = "$sum" ] || die "db: migration $version was changed after it was applied; add a new migration instead"
      continue
    fi
    log "db: applying migration $version"
    { cat "$f"; printf "\nINSERT INTO public.schema_migration (version, sha256) VALUES ('%s', '%s');\n" "$version" "$sum"; } \
      | psql_db -d "$dbname" --single-transaction -f - >/dev/null
  done
}

case "$cmd" in
  init) do_init ;;
  start) do_start ;;
  stop) do_stop ;;
  status) if is_running; then echo "running: 127.0.0.1:$port $data"; else echo "stopped: $data"; exit 3; fi ;;
  migrate) do_migrate ;;
  up) do_start; do_migrate ;;
  psql) psql_db -d "$dbname" "$@" ;;
  destroy) do_stop; rm -rf "$dir" ;;
  *) die "unknown command: $cmd" ;;
esac
