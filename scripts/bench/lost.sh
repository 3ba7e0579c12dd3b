#!/usr/bin/env bash
# How fast the LoST server answers findService for points, next to the bare PostGIS
# point-in-polygon lookup on the same data. About a minute with the defaults.
#
#   scripts/bench/lost.sh [OPTIONS]
#
# What it does, on the local cluster (scripts/db.sh, 127.0.0.1:55432):
#   1. builds ng911-lost and ng911-gis if missing (see --build), starts the cluster, builds the
#      sample data, creates the scratch database ng911_bench_lost and publishes all US counties
#      into it (PsapPolygon, --tolerance-m2 400000);
#   2. draws POINTS random points inside the counties (ST_GeneratePoints: every county equally
#      likely, uniform inside it) into table bench_point and a file of "lat<TAB>lon" lines;
#   3. starts ng911-lost on a free loopback port (--listen 127.0.0.1:0) with its default settings
#      (query log on; its stderr goes to a file), waits for GET /healthz = 200, warms up, then
#      drives findService with wrk (scripts/bench/lost-findservice.lua: geodetic-2d gml:Point,
#      urn:service:sos, keep-alive) and checks that every answer is HTTP 200 with a <uri>;
#   4. again with --log-queries false (unless --skip-no-log);
#   5. runs pgbench on the bare lookup (scripts/bench/lost-postgis-pip.sql:
#      SELECT serviceuri FROM gis.current_service_boundary WHERE ST_Covers(geom, point));
#   6. prints a summary, one key=value per line, on stdout; progress goes to stderr.
# The server is stopped and the scratch database dropped on exit, failures included; the demo
# database (ng911) and a running demo server are left alone.
#
# Options:
#   --points N          random points (default 10000)
#   --duration S        seconds of each measured run, wrk and pgbench (default 15)
#   --warmup S          seconds of wrk before each measured run (default 3)
#   --wrk-threads N     wrk threads (default 2)
#   --connections N     wrk connections (default 32)
#   --server-threads N  ng911-lost --threads (default: not given, the server's default)
#   --pg-clients N      pgbench clients and threads (default 2)
#   --seed N            seed of the random points (default 42)
#   --skip-no-log       skip the second LoST run with --log-queries false
#   --db NAME           scratch database (default ng911_bench_lost; dropped at the end)
#   --build             build ng911-lost and ng911-gis first (incremental); without it they are
#                       built only when missing, and a binary older than lost/ is only warned of
#   --keep-tmp          keep the temporary directory (points, server logs, wrk output)
#
# CPU figures are from /proc (utime+stime), in percent of one core (100 = one core busy), and
# per request of the serving side alone (ng911-lost, or the PostgreSQL backends), which leaves
# the client's cost out. machine_cpu_busy_pct counts every process and the kernel (at most
# 100 x cores); other_cpu_pct is what neither side accounts for: kernel work of loopback TCP
# (softirq), other processes; over 25 adds an "interference" line to the summary.
# wrk and ng911-lost share the machine's cores, as do pgbench and PostgreSQL, so each rate
# includes its client's CPU cost.
# Exit status: 0 done; 1 a failed or erroneous request, or a step failed; 2 bad usage.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cpu.sh"  # own_ticks, machine_pct, drop_scratch, ...
bench="$NG911_ROOT/scripts/bench"

points=10000 duration=15 warmup=3 wrk_threads=2 connections=32 server_threads="" pg_clients=2 seed=42
no_log_run=1 db=ng911_bench_lost build=0 keep_tmp=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --points) points="${2:?}"; shift 2 ;;
    --duration) duration="${2:?}"; shift 2 ;;
    --warmup) warmup="${2:?}"; shift 2 ;;
    --wrk-threads) wrk_threads="${2:?}"; shift 2 ;;
    --connections) connections="${2:?}"; shift 2 ;;
    --server-threads) server_threads="${2:?}"; shift 2 ;;
    --pg-clients) pg_clients="${2:?}"; shift 2 ;;
    --seed) seed="${2:?}"; shift 2 ;;
    --skip-no-log) no_log_run=0; shift ;;
    --db) db="${2:?}"; shift 2 ;;
    --build) build=1; shift ;;
    --keep-tmp) keep_tmp=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
for v in points duration wrk_threads connections pg_clients seed; do
  is_count "${!v}" || { echo "lost.sh: --${v//_/-} wants a positive integer, not '${!v}'" >&2; exit 2; }
done
[[ "$warmup" =~ ^[0-9]+$ ]] || { echo "lost.sh: --warmup wants an integer" >&2; exit 2; }
[ -z "$server_threads" ] || [[ "$server_threads" =~ ^[0-9]+$ ]] || { echo "lost.sh: --server-threads wants an integer" >&2; exit 2; }
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "lost.sh: --db wants a plain lower-case name" >&2; exit 2; }
[ "$db" != ng911 ] || { echo "lost.sh: --db ng911 is the demo database; the scratch database is dropped at the end" >&2; exit 2; }
[ "$connections" -ge "$wrk_threads" ] || { echo "lost.sh: --connections must be at least --wrk-threads" >&2; exit 2; }

for tool in wrk pgbench psql curl; do
  command -v "$tool" >/dev/null || die "bench: $tool is missing (scripts/install-deps.sh installs it)"
done

pg_host=127.0.0.1 pg_port=55432
conninfo="host=$pg_host port=$pg_port dbname=$db user=postgres"
psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U postgres -d postgres "$@"; }
psql_db() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U postgres -d "$db" "$@"; }

# --- cleanup, also on failure and interruption ----------------------------------------------
tmp="" server_pid="" server_rc="" db_created=0 pgbench_pid=""
alive() {  # a process that exists and is not a zombie
  local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  s="${s##*) }"; [ "${s%% *}" != Z ]
}
stop_server() {
  [ -n "$server_pid" ] || return 0
  local pid="$server_pid"; server_pid=""
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then log "bench: ng911-lost (pid $pid) still runs 10 s after SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  server_rc=0; wait "$pid" 2>/dev/null || server_rc=$?
}
cleanup() {
  local rc=$?
  set +e
  stop_server
  if [ -n "$pgbench_pid" ] && alive "$pgbench_pid"; then kill -TERM "$pgbench_pid"; wait "$pgbench_pid"; fi
  drop_scratch
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ng911-bench-lost.XXXXXX")"

# --- CPU accounting from /proc (scripts/bench/cpu.sh) -------------------------------------------
per_op_us() { awk -v t="$1" -v hz="$clk_tck" -v n="$2" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }'; }
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<" $2" | head -1; }

# --- 1. binaries, database, data -------------------------------------------------------------
lost_bin="$NG911_BUILD/bin/ng911-lost" gis_bin="$NG911_BUILD/bin/ng911-gis"
# Builds only when asked or when a binary is missing: someone else may be building in the same
# build directory, and two builds at once in one directory step on each other.
if [ "$build" = 0 ] && [ -x "$lost_bin" ] && [ -x "$gis_bin" ]; then
  newer="$(find "$NG911_ROOT/lost" -newer "$lost_bin" \( -name '*.cpp' -o -name '*.h' -o -name CMakeLists.txt \) -print -quit)"
  [ -z "$newer" ] || log "bench: warning: $lost_bin is older than $newer: measuring the binary as it is (--build rebuilds it)"
else
  [ -f "$NG911_BUILD/build.ninja" ] || [ -f "$NG911_BUILD/Makefile" ] || die "bench: no build in $NG911_BUILD (scripts/build.sh)"
  log "bench: building ng911-lost and ng911-gis (incremental)"
  cmake --build "$NG911_BUILD" --target ng911-lost ng911-gis >"$tmp/build.log" 2>&1 \
    || { tail -30 "$tmp/build.log" >&2; die "bench: build failed (above)"; }
fi
[ -x "$lost_bin" ] && [ -x "$gis_bin" ] || die "bench: $lost_bin or $gis_bin missing (scripts/build.sh)"

"$NG911_ROOT/scripts/db.sh" start
"$NG911_ROOT/scripts/sample-data/build.sh" "$NG911_VAR/sample"
file="$NG911_VAR/sample/us-counties-psap.geojson"

log "bench: scratch database $db"
db_created=1
psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
"$NG911_ROOT/scripts/db.sh" --db "$db" migrate
log "bench: publishing all US counties into $db"
"$gis_bin" load --db "$conninfo" --layer PsapPolygon --tolerance-m2 400000 --max-lines 0 "$file" \
  >"$tmp/gis-load.out" 2>"$tmp/gis-load.err" \
  || { tail -20 "$tmp/gis-load.err" "$tmp/gis-load.out" >&2; die "bench: ng911-gis load failed (above)"; }
boundaries="$(psql_db -tAc "SELECT count(*) FROM gis.current_service_boundary")"
log "bench: published $boundaries boundaries: $(tail -1 "$tmp/gis-load.out" | cut -c1-120)"

# --- 2. random points inside the counties ----------------------------------------------------
log "bench: drawing $points random points inside the counties"
per_boundary=$(( (points + boundaries - 1) / boundaries ))
psql_db >/dev/null <<SQL
SELECT setseed(1.0 / $seed);
CREATE TABLE bench_point AS
  SELECT row_number() OVER ()::int AS id, ST_Y(g) AS lat, ST_X(g) AS lon, g
  FROM (SELECT d.geom AS g
        FROM (SELECT geom FROM gis.current_service_boundary ORDER BY es_nguid) b,
             ST_Dump(ST_GeneratePoints(b.geom, $per_boundary, $seed)) d
        ORDER BY random() LIMIT $points) s;
ALTER TABLE bench_point ADD PRIMARY KEY (id);
ANALYZE bench_point;
SQL
got="$(psql_db -tAc "SELECT count(*) FROM bench_point")"
[ "$got" = "$points" ] || die "bench: drew $got points, not $points"
uncovered="$(psql_db -tAc "SELECT count(*) FROM bench_point p WHERE NOT EXISTS
  (SELECT 1 FROM gis.current_service_boundary b WHERE ST_Covers(b.geom, p.g))")"
[ "$uncovered" = 0 ] || log "bench: warning: PostGIS finds $uncovered of the points outside every boundary"
points_file="$tmp/points.tsv"
psql_db -tAc "COPY (SELECT lat, lon FROM bench_point ORDER BY id) TO STDOUT" >"$points_file"
log "bench: $(wc -l <"$points_file") points in $points_file (lat<TAB>lon)"

# --- 3./4. the LoST server under wrk ---------------------------------------------------------
failed=0
server_log=""
start_server() {  # NAME [ng911-lost options...]; sets server_pid, server_log, url
  local name="$1"; shift
  server_log="$tmp/ng911-lost-$name.log"
  local args=(--listen 127.0.0.1:0 --db "$conninfo")
  [ -z "$server_threads" ] || args+=(--threads "$server_threads")
  log "bench: starting ng911-lost ($name): ${args[*]} $*"
  "$lost_bin" "${args[@]}" "$@" </dev/null >"$tmp/ng911-lost-$name.stdout" 2>"$server_log" &
  server_pid=$!
  # The port it bound is in its "starting" log line; the log is written every 200 ms.
  local port="" deadline=$((SECONDS + 15))
  while [ -z "$port" ]; do
    alive "$server_pid" || { tail -20 "$server_log" >&2; die "bench: ng911-lost exited at start (log above)"; }
    [ "$SECONDS" -lt "$deadline" ] || die "bench: ng911-lost logged no listen address in 15 s ($server_log)"
    port="$(grep -m1 -o '"event":"starting".*"listen":"127\.0\.0\.1:[0-9]*"' "$server_log" 2>/dev/null | grep -o '[0-9]*"$' | tr -d '"')" || true
    [ -n "$port" ] || sleep 0.05
  done
  url="http://127.0.0.1:$port/"
  local code="" started=$SECONDS deadline=$((SECONDS + 60))
  while :; do
    code="$(curl -s -o "$tmp/healthz" -w '%{http_code}' --max-time 2 "${url}healthz" || true)"
    [ "$code" = 200 ] && break
    alive "$server_pid" || { tail -20 "$server_log" >&2; die "bench: ng911-lost exited before it was ready (log above)"; }
    [ "$SECONDS" -lt "$deadline" ] || die "bench: ${url}healthz not 200 after 60 s (last: $code $(cat "$tmp/healthz" 2>/dev/null))"
    sleep 0.1
  done
  log "bench: ng911-lost ready on $url in $((SECONDS - started)) s: $(head -1 "$tmp/healthz")"
}

run_wrk() {  # SECONDS OUTFILE [--latency]
  local secs="$1" out="$2"; shift 2
  LOST_BENCH_POINTS="$points_file" timeout --signal=INT $((secs + 30)) \
    wrk -t "$wrk_threads" -c "$connections" -d "${secs}s" --timeout 5s "$@" \
    -s "$bench/lost-findservice.lua" "$url" >"$out" 2>"$out.err" \
    || { cat "$out" "$out.err" >&2; die "bench: wrk failed (above)"; }
  [ ! -s "$out.err" ] || sed 's/^/  wrk: /' "$out.err" >&2
  grep -q '^wrk_result ' "$out" || { cat "$out" >&2; die "bench: no result from wrk (above)"; }
}

check_wrk() {  # NAME RESULTLINE: marks the run failed on bad responses or socket errors
  local name="$1" r="$2" k bad=0
  for k in failures errors_connect errors_read errors_write errors_status errors_timeout; do
    [ "$(field "$k" "$r")" = 0 ] || bad=1
  done
  [ "$(field responses "$r")" != 0 ] || bad=1
  if [ "$bad" = 1 ]; then
    failed=1
    log "bench: FAILED requests in the $name run: $r"
  fi
}

declare -A res
lost_run() {  # NAME [ng911-lost options...]
  local name="$1"; shift
  start_server "$name" "$@"
  if [ "$warmup" -gt 0 ]; then
    log "bench: warm-up, $warmup s of wrk"
    run_wrk "$warmup" "$tmp/wrk-$name-warmup.txt"
    check_wrk "$name warm-up" "$(grep '^wrk_result ' "$tmp/wrk-$name-warmup.txt")"
  fi
  log "bench: findService with wrk for $duration s: $wrk_threads threads, $connections connections, $points points in rotation"
  local t0 t1 s0 s1 c0 c1 m0 m1
  t0="$(now_s)"; s0="$(own_ticks "$server_pid")"; c0="$(child_ticks $$)"; m0="$(machine_ticks)"
  run_wrk "$duration" "$tmp/wrk-$name.txt" --latency
  t1="$(now_s)"; s1="$(own_ticks "$server_pid")"; c1="$(child_ticks $$)"; m1="$(machine_ticks)"
  local secs r
  secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  grep -v '^wrk_result ' "$tmp/wrk-$name.txt" | sed 's/^/  /' >&2
  r="$(grep '^wrk_result ' "$tmp/wrk-$name.txt")"
  check_wrk "$name" "$r"
  alive "$server_pid" || { failed=1; log "bench: ng911-lost is gone after the $name run"; tail -5 "$server_log" >&2; }
  res[$name.rps]="$(field rps "$r")"; res[$name.p50]="$(field p50_ms "$r")"; res[$name.p99]="$(field p99_ms "$r")"
  res[$name.requests]="$(field requests "$r")"; res[$name.failures]="$(field failures "$r")"
  res[$name.errors]="$(awk -v r=" $r" 'BEGIN { n = split(r, a, " "); s = 0; for (i = 1; i <= n; i++) if (a[i] ~ /^errors_/) { sub(/^[^=]*=/, "", a[i]); s += a[i] } print s }')"
  res[$name.server_cpu]="$(pct $((s1 - s0)) "$secs")"
  res[$name.server_cpu_us]="$(per_op_us $((s1 - s0)) "${res[$name.requests]}")"
  res[$name.wrk_cpu]="$(pct $((c1 - c0)) "$secs")"
  # shellcheck disable=SC2086
  res[$name.machine_cpu]="$(machine_pct $m0 $m1)"
  res[$name.other_cpu]=$(( res[$name.machine_cpu] - res[$name.server_cpu] - res[$name.wrk_cpu] ))
  # what the server counted, before it stops
  local metrics
  metrics="$(curl -s --max-time 5 "${url}metrics" || true)"
  res[$name.server_queries]="$(awk '/^ng911_lost_queries_total\{/ { s += $NF } END { print s + 0 }' <<<"$metrics")"
  res[$name.server_mean_us]="$(awk '/^ng911_lost_query_seconds_sum / { s = $2 } /^ng911_lost_query_seconds_count / { c = $2 } END { printf "%.1f", (c > 0 ? s / c * 1e6 : 0) }' <<<"$metrics")"
  res[$name.server_results]="$(awk '/^ng911_lost_queries_total\{/ { match($0, /result="[^"]*"/); r = substr($0, RSTART + 8, RLENGTH - 9); printf "%s%s:%s", sep, r, $NF; sep = "," }' <<<"$metrics")"
  log "bench: ng911-lost counted ${res[$name.server_queries]} queries (${res[$name.server_results]}), ${res[$name.server_mean_us]} us each on average inside the server; CPU: ng911-lost ${res[$name.server_cpu]}%, wrk ${res[$name.wrk_cpu]}%, rest ${res[$name.other_cpu]}%, machine ${res[$name.machine_cpu]}% (100% = one core)"
  stop_server
  res[$name.server_rc]="$server_rc"
  [ "$server_rc" = 0 ] || log "bench: warning: ng911-lost ended with status $server_rc on SIGTERM (143: killed by the signal, no orderly stop)"
  local log_lines log_mb other
  log_lines="$(grep -c '"event":"lost_query"' "$server_log" || true)"
  log_mb="$(awk -v b="$(stat -c %s "$server_log")" 'BEGIN { printf "%.1f", b / 1048576 }')"
  res[$name.log_lines]="$log_lines"; res[$name.log_mb]="$log_mb"
  log "bench: server log: $log_lines lost_query lines, $log_mb MiB"
  other="$(grep -v '"event":"lost_query"' "$server_log" | grep -v '"level":"info"' || true)"
  if [ -n "$other" ]; then
    log "bench: the server logged warnings or errors:"; head -20 <<<"$other" >&2
  fi
  rm -f "$server_log"  # can be large
}

lost_run logging
if [ "$no_log_run" = 1 ]; then lost_run nolog --log-queries false; fi

# --- 5. bare PostGIS point-in-polygon with pgbench -------------------------------------------
log "bench: bare PostGIS point-in-polygon with pgbench for $duration s: $pg_clients clients"
postmaster="$(head -1 "$NG911_VAR/pg/data/postmaster.pid")"
t0="$(now_s)"; c0="$(child_ticks $$)"; p0="$(child_ticks "$postmaster")"; m0="$(machine_ticks)"
timeout --signal=INT $((duration + 60)) \
  pgbench -h "$pg_host" -p "$pg_port" -U postgres -n -M prepared -c "$pg_clients" -j "$pg_clients" -T "$duration" \
  -D npoints="$points" -f "$bench/lost-postgis-pip.sql" "$db" >"$tmp/pgbench.txt" 2>"$tmp/pgbench.err" &
pgbench_pid=$!
# Its backends, so that their CPU can be counted once the postmaster has reaped them.
backends="" deadline=$((SECONDS + 10))
while alive "$pgbench_pid" && [ "$SECONDS" -lt "$deadline" ]; do
  backends="$(psql_admin -tAc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND datname = '$db'" || true)"
  [ "$(wc -w <<<"$backends")" -lt "$pg_clients" ] || break
  sleep 0.05
done
pg_rc=0; wait "$pgbench_pid" || pg_rc=$?
pgbench_pid=""
t1="$(now_s)"; c1="$(child_ticks $$)"; m1="$(machine_ticks)"
[ "$pg_rc" = 0 ] || { cat "$tmp/pgbench.txt" "$tmp/pgbench.err" >&2; die "bench: pgbench failed with status $pg_rc (above)"; }
deadline=$((SECONDS + 10))
for b in $backends; do
  while [ -e "/proc/$b" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.02; done
done
p1="$(child_ticks "$postmaster")"
[ "$(wc -w <<<"$backends")" = "$pg_clients" ] || log "bench: warning: saw $(wc -w <<<"$backends") of $pg_clients pgbench backends; their CPU figure may be off"
secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
sed 's/^/  /' "$tmp/pgbench.txt" >&2
pg_tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$tmp/pgbench.txt" | head -1)"
pg_lat="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$tmp/pgbench.txt" | head -1)"
pg_count="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$tmp/pgbench.txt" | head -1)"
pg_failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$tmp/pgbench.txt" | head -1)"
[ -n "$pg_tps" ] || die "bench: no tps in the pgbench output (above)"
[ "${pg_failed:-0}" = 0 ] || { failed=1; log "bench: FAILED: $pg_failed pgbench transactions failed"; }
pg_client_cpu="$(pct $((c1 - c0)) "$secs")"
pg_backend_cpu="$(pct $((p1 - p0)) "$secs")"
pg_backend_cpu_us="$(per_op_us $((p1 - p0)) "${pg_count:-0}")"
# shellcheck disable=SC2086
pg_machine_cpu="$(machine_pct $m0 $m1)"
pg_other_cpu=$(( pg_machine_cpu - pg_client_cpu - pg_backend_cpu ))
log "bench: CPU: backends ${pg_backend_cpu}%, pgbench ${pg_client_cpu}%, rest ${pg_other_cpu}%, machine ${pg_machine_cpu}% (100% = one core)"

# --- 6. summary ------------------------------------------------------------------------------
ratio="$(awk -v a="${res[logging.rps]}" -v b="$pg_tps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
if awk -v r="$ratio" 'BEGIN { exit !(r >= 1) }'; then
  higher="ng911-lost findService (${ratio}x the bare PostGIS rate)"
else
  higher="bare PostGIS (ng911-lost findService is ${ratio}x its rate)"
fi
echo "== ng911-lost findService vs bare PostGIS point-in-polygon =="
echo "lost_findservice_rps=${res[logging.rps]}"
echo "lost_p50_ms=${res[logging.p50]}"
echo "lost_p99_ms=${res[logging.p99]}"
echo "lost_requests=${res[logging.requests]}"
echo "lost_failures=${res[logging.failures]}"
echo "lost_socket_errors=${res[logging.errors]}"
echo "lost_server_side_mean_us=${res[logging.server_mean_us]}"
echo "lost_server_cpu_pct=${res[logging.server_cpu]}"
echo "lost_server_cpu_us_per_request=${res[logging.server_cpu_us]}"
echo "lost_wrk_cpu_pct=${res[logging.wrk_cpu]}"
echo "lost_other_cpu_pct=${res[logging.other_cpu]}"
echo "lost_machine_cpu_busy_pct=${res[logging.machine_cpu]}"
echo "lost_query_log_lines=${res[logging.log_lines]}"
echo "lost_query_log_mib=${res[logging.log_mb]}"
echo "lost_server_exit_status=${res[logging.server_rc]}"
if [ "$no_log_run" = 1 ]; then
  echo "lost_nolog_findservice_rps=${res[nolog.rps]}"
  echo "lost_nolog_p50_ms=${res[nolog.p50]}"
  echo "lost_nolog_p99_ms=${res[nolog.p99]}"
  echo "lost_nolog_failures=${res[nolog.failures]}"
  echo "lost_nolog_socket_errors=${res[nolog.errors]}"
  echo "lost_nolog_server_cpu_pct=${res[nolog.server_cpu]}"
  echo "lost_nolog_server_cpu_us_per_request=${res[nolog.server_cpu_us]}"
  echo "lost_nolog_wrk_cpu_pct=${res[nolog.wrk_cpu]}"
  echo "lost_nolog_other_cpu_pct=${res[nolog.other_cpu]}"
  echo "lost_nolog_machine_cpu_busy_pct=${res[nolog.machine_cpu]}"
  echo "log_queries_cost_pct=$(awk -v a="${res[logging.rps]}" -v b="${res[nolog.rps]}" 'BEGIN { printf "%.1f", (b > 0 ? (1 - a / b) * 100 : 0) }')"
fi
echo "postgis_bare_qps=$pg_tps"
echo "postgis_queries=${pg_count:-0}"
echo "postgis_latency_avg_ms=$pg_lat"
echo "postgis_failed=${pg_failed:-0}"
echo "postgis_pgbench_cpu_pct=$pg_client_cpu"
echo "postgis_backend_cpu_pct=$pg_backend_cpu"
echo "postgis_backend_cpu_us_per_query=$pg_backend_cpu_us"
echo "postgis_other_cpu_pct=$pg_other_cpu"
echo "postgis_machine_cpu_busy_pct=$pg_machine_cpu"
echo "ratio=$ratio"
echo "cpu_per_request_ratio=$(awk -v a="${res[logging.server_cpu_us]}" -v b="$pg_backend_cpu_us" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
echo "higher=\"$higher\""
echo "points=$points duration_s=$duration warmup_s=$warmup wrk_threads=$wrk_threads connections=$connections server_threads=${server_threads:-default} pg_clients=$pg_clients"
busy_runs=""
for v in "logging:${res[logging.other_cpu]}" "nolog:${res[nolog.other_cpu]:-0}" "postgis:$pg_other_cpu"; do
  [ "${v#*:}" -le 25 ] || busy_runs+="${busy_runs:+ }${v%%:*}"
done
if [ -n "$busy_runs" ]; then
  echo "interference=\"other work took over 25% of a core during: $busy_runs; those figures are low\""
fi
echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$cores"
echo "note=\"wrk and ng911-lost share the $cores cores (as do pgbench and PostgreSQL): each rate includes its client's CPU; cpu_pct: 100 = one core\""
if [ "$failed" = 1 ]; then
  echo "result=FAILED"
  exit 1
fi
echo "result=ok"
