#!/usr/bin/env bash
# Complete emergency calls per second through an ESRP: ng911-esrp, then Kamailio 5.6 configured
# as an ESRP (lost + tm modules), in the same run with the same LoST server and PSAP queues.
# About 5 to 10 minutes with the defaults.
#
#   scripts/bench/esrp.sh [OPTIONS]          (NG911_BUILD picks the build directory, default build)
#
# A call: SIPp caller -> INVITE (urn:service:sos, SDP + PIDF-LO by value, Geolocation cid:) -> the
# ESRP asks ng911-lost (findService) for the PSAP queue of the caller's position -> forwards the
# call there (Route to the queue, Record-Route) -> the PSAP queue (a SIPp UAS) answers 180/200 ->
# ACK -> BYE -> 200, ACK and BYE passing through the ESRP. A call counts as complete only when the
# caller saw the 200 to its INVITE and to its BYE.
#
# What it does, on the local cluster (scripts/db.sh, 127.0.0.1:55432):
#   1. builds ng911-esrp, ng911-lost and ng911-gis if missing (see --build), starts the cluster,
#      builds the sample data (all US counties, as scripts/bench/lost.sh);
#   2. starts --psaps SIPp UASs (esrp/uas-psap.xml) as the PSAP queues (over TCP by default: the INVITE is over 1300
#      bytes, so RFC 3261 §18.1.1 has a proxy send it over TCP; see --psap-transport);
#   3. publishes the counties into the scratch database ng911_bench_esrp with each county's
#      ServiceURI pointing at one of those queues (sip:psap-FIPS@127.0.0.1:PORT, counties dealt to
#      the queues in turn), and draws --points random caller positions inside the counties
#      (ST_GeneratePoints, every county equally likely) into a SIPp injection file;
#   4. starts one ng911-lost (default threads, --log-queries false);
#   5. for each ESRP, for each rate of --rates in order: a fresh ESRP (so every step starts with
#      the same cold state, ng911-esrp's ECRF cache included), --callers SIPp callers placing
#      min(--calls, RATE x --step-seconds) calls at RATE calls/s between them, each call from
#      the next position; prints the step; stops at the first step with a call that failed
#      (at a caller or at a queue) or where the calls completed per second fall below 90% of
#      the rate (a caller, the ESRP or the machine cannot keep up; --keep-going runs on).
#      ng911-esrp runs as deployed: its call log into the scratch database, no default route
#      (a call the ECRF cannot route fails, as through Kamailio);
#   6. with --perf S, profiles ng911-esrp with perf record -g for S seconds at its highest clean
#      rate (with none, at the first rate) and prints where the cycles went;
#   7. prints a summary on stdout; progress goes to stderr.
# Everything runs on 127.0.0.1 and is stopped on exit, failures included; the scratch database
# and the temporary directory are removed.
#
# Options:
#   --rates "R1 R2 ..."      calls/s to step through (default "500 750 1000 1250 1500 2000 2500 2800 3200 4000")
#   --calls N                most calls per step (default 20000)
#   --step-seconds S         calls per step are RATE x S when fewer than --calls (default 8)
#   --points N               distinct caller positions (default: --calls, so that within a step no
#                            position repeats and ng911-esrp's cache of LoST answers, keyed on the
#                            exact location, never answers; fewer points show what the cache buys)
#   --psaps N                PSAP queues, SIPp UAS processes (default 2)
#   --callers N              SIPp callers sharing each step's rate and calls (default 1, at most
#                            8): one SIPp, a single thread, is the first peer to fall behind
#                            when answers come in bursts; several show the ESRP's own edge
#   --sipp-buffer-mb N       SIPp's socket buffers (-buff_size), callers and queues (default 16).
#                            The kernel caps them at net.core.rmem_max/wmem_max: when those are
#                            lower the bench raises them for its run and puts them back at the
#                            end. A caller descheduled for a few hundred ms at 2,800 calls/s
#                            gets ~1,000 answers meanwhile; with 4 MB (8 MB in the kernel) its
#                            socket overflowed and calls failed that the ESRP had answered
#                            (scripts/bench/esrp/README.md)
#   --psap-transport T       tcp (default) or udp: with udp, ng911-esrp first tries TCP for the
#                            large INVITE (§18.1.1), is refused and falls back to UDP per call
#   --kamailio-children N    Kamailio UDP workers (default 8: each blocks on its LoST query)
#   --kamailio-tcp-children N  Kamailio TCP workers (default 4)
#   --kamailio-shm-mb N      Kamailio shared memory, -m (default 512; -M 32 private per process)
#   --only NAME              run only ng911-esrp or only kamailio
#   --keep-going             run every rate even after a step that was not clean (to repeat one
#                            rate: --rates "2000 2000 2000"); the highest clean rate is still the
#                            last of the clean steps before the first that was not
#   --esrp-args "..."        more ng911-esrp options (e.g. "--call-log-db off" to leave the call log out)
#   --perf S                 profile ng911-esrp for S seconds (perf record -g) at its best rate
#   --esrp-wrapper "CMD"     run ng911-esrp under CMD, e.g. "valgrind --tool=callgrind
#                            --callgrind-out-file=/tmp/cg.%p" to count instructions per call (two
#                            low rates give two call counts: the difference per call is the cost
#                            of a call without the start-up; see scripts/bench/esrp/README.md)
#   --seed N                 seed of the random positions (default 42)
#   --db NAME                scratch database (default ng911_bench_esrp; dropped at the end)
#   --build                  build the three binaries first (incremental, in $NG911_BUILD)
#   --keep-tmp               keep the temporary directory (logs, SIPp statistics, perf data)
#
# CPU figures are from /proc (utime+stime) over each step, in percent of one core (100 = one
# core busy): the ESRP (all of Kamailio's processes), ng911-lost, the PostgreSQL backends of the
# scratch database, the SIPp caller, the SIPp PSAP queues, and the whole machine (at most
# 100 x cores). Everything shares the machine's cores,
# so each rate includes the cost of the caller, the queues, the LoST server and PostgreSQL.
# Exit status: 0 done (whatever the rates); 1 a step could not run; 2 bad usage.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cpu.sh"  # own_ticks, machine_pct, drop_scratch, ...
here="$NG911_ROOT/scripts/bench/esrp"

rates="500 750 1000 1250 1500 2000 2500 2800 3200 4000" calls=20000 step_seconds=8 points="" psaps=2 callers=1 sipp_buffer_mb=16
psap_transport=tcp kam_children=8 kam_tcp_children=4 kam_shm=512 only="" keep_going=0 perf_seconds=0 seed=42 esrp_args="" esrp_wrapper=""
db=ng911_bench_esrp build=0 keep_tmp=0
# NG911_BENCH_ESRP_TRACE=1 (with --keep-tmp and few calls): SIPp message traces, for debugging.
trace="${NG911_BENCH_ESRP_TRACE:-}"
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) rates="${2:?}"; shift 2 ;;
    --calls) calls="${2:?}"; shift 2 ;;
    --step-seconds) step_seconds="${2:?}"; shift 2 ;;
    --points) points="${2:?}"; shift 2 ;;
    --psaps) psaps="${2:?}"; shift 2 ;;
    --callers) callers="${2:?}"; shift 2 ;;
    --sipp-buffer-mb) sipp_buffer_mb="${2:?}"; shift 2 ;;
    --psap-transport) psap_transport="${2:?}"; shift 2 ;;
    --kamailio-children) kam_children="${2:?}"; shift 2 ;;
    --kamailio-tcp-children) kam_tcp_children="${2:?}"; shift 2 ;;
    --kamailio-shm-mb) kam_shm="${2:?}"; shift 2 ;;
    --only) only="${2:?}"; shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    --esrp-args) esrp_args="${2:?}"; shift 2 ;;
    --esrp-wrapper) esrp_wrapper="${2:?}"; shift 2 ;;
    --perf) perf_seconds="${2:?}"; shift 2 ;;
    --seed) seed="${2:?}"; shift 2 ;;
    --db) db="${2:?}"; shift 2 ;;
    --build) build=1; shift ;;
    --keep-tmp) keep_tmp=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
points="${points:-$calls}"
bad_usage() { echo "esrp.sh: $*" >&2; exit 2; }
is_count() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
for v in calls step_seconds points psaps callers sipp_buffer_mb kam_children kam_tcp_children kam_shm seed; do
  is_count "${!v}" || bad_usage "--${v//_/-} wants a positive integer, not '${!v}'"
done
for r in $rates; do is_count "$r" || bad_usage "--rates wants positive integers, not '$r'"; done
[ -n "${rates// /}" ] || bad_usage "--rates is empty"
[[ "$perf_seconds" =~ ^[0-9]+$ ]] || bad_usage "--perf wants seconds"
[ "$callers" -le 8 ] || bad_usage "--callers wants at most 8"
[ "$sipp_buffer_mb" -le 256 ] || bad_usage "--sipp-buffer-mb wants at most 256"
sipp_buffer=$((sipp_buffer_mb * 1024 * 1024))
[ "$psaps" -ge 2 ] || bad_usage "--psaps wants at least 2 queues: the calls must be routed, not sent to one place"
case "$psap_transport" in tcp|udp) ;; *) bad_usage "--psap-transport is tcp or udp" ;; esac
case "$only" in ""|ng911-esrp|kamailio) ;; *) bad_usage "--only is ng911-esrp or kamailio" ;; esac
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || bad_usage "--db wants a plain lower-case name"
[ "$db" != ng911 ] || bad_usage "--db ng911 is the demo database; the scratch database is dropped at the end"

tools=(sipp psql curl python3 setsid)
[ "$only" = ng911-esrp ] || tools+=(kamailio)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || die "bench: $tool is missing (scripts/install-deps.sh installs it)"
done
[ "$perf_seconds" = 0 ] || command -v perf >/dev/null || die "bench: --perf needs perf (apt-get install linux-perf)"
if [ "$only" != ng911-esrp ]; then
  modules="$(kamailio -h 2>&1 | sed -n 's/.*Modules search path (default: \(.*\))/\1/p' || true)"
  for mod in lost http_client tm tmx rr sl maxfwd siputils textops; do
    [ -f "$modules/$mod.so" ] || die "bench: Kamailio module $mod not in '$modules' (apt-get install kamailio kamailio-utils-modules)"
  done
fi

pg_host=127.0.0.1 pg_port=55432
conninfo="host=$pg_host port=$pg_port dbname=$db user=postgres"
psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U postgres -d postgres "$@"; }
psql_db() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U postgres -d "$db" "$@"; }

# --- cleanup, also on failure and interruption ----------------------------------------------
tmp="" db_created=0 lost_pid="" esrp_pid="" kam_pid="" uac_pid="" uac_pids=() uas_pids=() restore_sysctl=()
alive() {  # a process that exists and is not a zombie
  local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  s="${s##*) }"; [ "${s%% *}" != Z ]
}
stop_pid() {  # PID [SIGNAL-TARGET]: TERM, up to 10 s, then KILL; reaps it
  local pid="$1" target="${2:-$1}"
  [ -n "$pid" ] || return 0
  if alive "$pid"; then
    kill -TERM -- "$target" 2>/dev/null || true
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then log "bench: pid $pid still runs 10 s after SIGTERM; SIGKILL"; kill -KILL -- "$target" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  set +e
  [ -z "$uac_pid" ] || stop_pid "$uac_pid"
  for p in "${uac_pids[@]}"; do stop_pid "$p"; done
  stop_pid "$esrp_pid" "-$esrp_pid"; esrp_pid=""
  [ -z "$kam_pid" ] || stop_pid "$kam_pid" "-$kam_pid"; kam_pid=""
  for p in "${uas_pids[@]}"; do stop_pid "$p"; done
  stop_pid "$lost_pid"; lost_pid=""
  drop_scratch
  local kv
  for kv in "${restore_sysctl[@]}"; do sysctl -qw "$kv" || log "bench: could not put back $kv"; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ng911-bench-esrp.XXXXXX")"
chmod 755 "$tmp"

# SIPp asks for its buffers with SO_RCVBUF/SO_SNDBUF, which the kernel caps at these limits.
sipp_buffer_note="${sipp_buffer_mb} MB"
for key in net.core.rmem_max net.core.wmem_max; do
  now="$(sysctl -n "$key")"
  [ "$now" -lt "$sipp_buffer" ] || continue
  if [ "$(id -u)" = 0 ] && sysctl -qw "$key=$sipp_buffer"; then
    restore_sysctl+=("$key=$now")
    sipp_buffer_note+=", $key raised from $now for the run"
  else
    log "bench: $key is $now and cannot be raised here: SIPp's buffers stay at that"
    sipp_buffer_note+=", capped by $key=$now"
  fi
done

# --- CPU accounting from /proc (scripts/bench/cpu.sh) -------------------------------------------
# utime+stime of every process in a process group (Kamailio's main process and its workers).
group_ticks() { local t=0 p; for p in $(pgrep -g "$1"); do t=$((t + $(own_ticks "$p"))); done; echo "$t"; }
# "pid ticks" of the PostgreSQL backends connected to the scratch database (ng911-lost's, and
# ng911-esrp's call log): their CPU over a step is the difference for the pids alive at its end.
db_backends() {
  local p
  for p in $(psql_admin -tAc "SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" 2>/dev/null); do
    echo "$p $(own_ticks "$p")"
  done
}
db_delta() {  # BEFORE AFTER (db_backends outputs)
  awk 'NR == FNR { t0[$1] = $2; next } { d += $2 - ($1 in t0 ? t0[$1] : 0) } END { print d + 0 }' <(echo "$1") <(echo "$2")
}
esrp_ticks() { if [ -n "$kam_pid" ]; then group_ticks "$kam_pid"; else own_ticks "$esrp_pid"; fi; }
# Datagrams the kernel dropped because a UDP socket's receive buffer was full (any socket: the
# ESRP's, the caller's; RcvbufErrors of /proc/net/snmp). Under CPU starvation a socket fills; a
# lost ACK to a queue that answered over TCP loses its call (SIPp retransmits no 2xx over TCP).
udp_drops() { awk '/^Udp:/ { if (!n++) for (i = 2; i <= NF; i++) col[$i] = i; else print $col["RcvbufErrors"] }' /proc/net/snmp; }
# Autovacuum and autoanalyze runs finished in the scratch database, and workers running now.
autovacuum_runs() {
  psql_db -tAc "SELECT (SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_all_tables)
                 || ' ' || (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database())" 2>/dev/null || echo "0 0"
}
# Before each step: the previous step's call log rows (and, before the first, the loaded
# counties) vacuumed and analysed and the dirty pages written out, so that this maintenance,
# which shares the machine's cores, lands between steps instead of at a random moment inside
# one (where it starved the ESRP and the caller of CPU until their sockets overflowed). What the
# step's own writes start later is reported (autovacuum_runs).
settle_db() { psql_db -c "VACUUM (ANALYZE)" && psql_db -c "CHECKPOINT"; }
uas_ticks() { local t=0 p; for p in "${uas_pids[@]}"; do t=$((t + $(own_ticks "$p"))); done; echo "$t"; }
# A loopback port free for both UDP and TCP right now (SIP listens on both).
free_port() {
  python3 - <<'PY'
import socket
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
PY
}
# The last line of a SIPp statistics file (-trace_stat), one "name=value" per column: the
# cumulative counters (C) and the elapsed time in seconds.
sipp_stats() {
  python3 - "$1" <<'PY'
import sys
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="latin-1") if l.strip()]
if len(lines) < 2:
    sys.exit(0)
head, last = lines[0].split(";"), lines[-1].split(";")
row = dict(zip(head, last))
def epoch(v):  # "date<TAB>time<TAB>seconds.micro"
    try:
        return float(v.split()[-1])
    except (ValueError, IndexError):
        return 0.0
out = {
    "elapsed": "%.3f" % (epoch(row.get("CurrentTime", "")) - epoch(row.get("StartTime", ""))),
    "created": row.get("TotalCallCreated", "0"),
    "incoming": row.get("IncomingCall(C)", "0"),
    "ok": row.get("SuccessfulCall(C)", "0"),
    "failed": row.get("FailedCall(C)", "0"),
    "retrans": row.get("Retransmissions(C)", "0"),
    "current": row.get("CurrentCall", "0"),
}
print(" ".join("%s=%s" % kv for kv in out.items()))
PY
}
# The callers' statistics of step KEY as one: counts added up, the longest elapsed time.
callers_stats() {
  local f s all=""
  for f in "$tmp/uac-$1-"*.csv; do
    s="$(sipp_stats "$f")"
    [ -n "$s" ] || return 1
    all+="$s"$'\n'
  done
  [ -n "$all" ] || return 1
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); k = kv[1]; v = kv[2] + 0
           if (!(k in sum)) order[++n] = k
           if (k == "elapsed") { if (v > sum[k]) sum[k] = v } else sum[k] += v } }
       END { for (i = 1; i <= n; i++) printf "%s%s=%s", (i > 1 ? " " : ""), order[i], sum[order[i]]; print "" }' <<<"$all"
}
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<" $2" | head -1; }

# --- 1. binaries, database, sample data ------------------------------------------------------
esrp_bin="$NG911_BUILD/bin/ng911-esrp" lost_bin="$NG911_BUILD/bin/ng911-lost" gis_bin="$NG911_BUILD/bin/ng911-gis"
# Builds only when asked or when a binary is missing: someone else may be building in the same
# build directory, and two builds at once in one directory step on each other.
if [ "$build" = 0 ] && [ -x "$esrp_bin" ] && [ -x "$lost_bin" ] && [ -x "$gis_bin" ]; then
  newer="$(find "$NG911_ROOT/esrp" "$NG911_ROOT/lost" -newer "$esrp_bin" \( -name '*.cpp' -o -name '*.h' -o -name CMakeLists.txt \) -print -quit)"
  [ -z "$newer" ] || log "bench: warning: $esrp_bin is older than $newer: measuring the binary as it is (--build rebuilds it)"
else
  [ -f "$NG911_BUILD/build.ninja" ] || [ -f "$NG911_BUILD/Makefile" ] || die "bench: no build in $NG911_BUILD (scripts/build.sh)"
  log "bench: building ng911-esrp, ng911-lost and ng911-gis in $NG911_BUILD (incremental)"
  cmake --build "$NG911_BUILD" --target ng911-esrp ng911-lost ng911-gis >"$tmp/build.log" 2>&1 \
    || { tail -30 "$tmp/build.log" >&2; die "bench: build failed (above)"; }
fi
for b in "$esrp_bin" "$lost_bin" "$gis_bin"; do [ -x "$b" ] || die "bench: $b missing (scripts/build.sh)"; done
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$NG911_BUILD/CMakeCache.txt" 2>/dev/null || true)"
[ "$build_type" = Release ] || log "bench: warning: $NG911_BUILD is a '${build_type:-unknown}' build, not Release"

"$NG911_ROOT/scripts/db.sh" start
"$NG911_ROOT/scripts/sample-data/build.sh" "$NG911_VAR/sample"
counties="$NG911_VAR/sample/us-counties-psap.geojson"

# --- 2. the PSAP queues ----------------------------------------------------------------------
# SIPp UASs (esrp/uas-psap.xml: INVITE -> 180, 200 -> ACK -> BYE -> 200). They take the calls of
# both ESRPs; their statistics files give the calls each received and any that failed there.
sipp_transport=t1; [ "$psap_transport" = udp ] && sipp_transport=u1
uas_ports=()
for i in $(seq "$psaps"); do
  port="$(free_port)"
  [ -n "$port" ] || die "bench: no free loopback port"
  (cd "$tmp" && exec sipp -sf "$here/uas-psap.xml" -t "$sipp_transport" -i 127.0.0.1 -p "$port" -buff_size "$sipp_buffer" -nostdin \
     -default_behaviors all,-abortunexp -trace_stat -stf "$tmp/uas-$i.csv" -fd 1 ${trace:+-trace_msg -message_file "$tmp/uas-$i.msg"} >/dev/null 2>"$tmp/uas-$i.err") &
  uas_pids+=($!)
  uas_ports+=("$port")
done
deadline=$((SECONDS + 10))
for i in $(seq "$psaps"); do
  port="${uas_ports[$((i - 1))]}" hex="$(printf '0100007F:%04X' "${uas_ports[$((i - 1))]}")"
  table=/proc/net/tcp; [ "$psap_transport" = udp ] && table=/proc/net/udp
  until awk -v want="$hex" 'NR > 1 && $2 == want { found = 1 } END { exit !found }' "$table"; do
    alive "${uas_pids[$((i - 1))]}" || { cat "$tmp/uas-$i.err" >&2; die "bench: the SIPp PSAP queue on port $port exited at start (above)"; }
    [ "$SECONDS" -lt "$deadline" ] || die "bench: the SIPp PSAP queue on port $port is not listening after 10 s"
    sleep 0.1
  done
done
log "bench: $psaps PSAP queues (SIPp UAS, $psap_transport) on 127.0.0.1 ports ${uas_ports[*]}"

# --- 3. the boundaries, pointing at the queues, and the callers' positions --------------------
log "bench: scratch database $db"
db_created=1
psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
"$NG911_ROOT/scripts/db.sh" --db "$db" migrate
# The published data names PSAPs that exist nowhere (sip:psap-FIPS@psap.example.net): the bench's
# copy keeps each county's boundary and user part and deals the counties to the queues in turn.
uri_params=""; [ "$psap_transport" = tcp ] && uri_params=";transport=tcp"
python3 - "$counties" "$tmp/counties-bench.geojson" "$uri_params" "${uas_ports[@]}" <<'PY'
import json, sys
src, dst, params, ports = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
d = json.load(open(src))
for i, f in enumerate(d["features"]):
    p = f["properties"]
    user = p["ServiceURI"].split(":", 1)[1].split("@", 1)[0]
    p["ServiceURI"] = "sip:%s@127.0.0.1:%s%s" % (user, ports[i % len(ports)], params)
json.dump(d, open(dst, "w"))
PY
log "bench: publishing all US counties into $db, each county's PSAP one of the $psaps queues"
"$gis_bin" load --db "$conninfo" --layer PsapPolygon --tolerance-m2 400000 --max-lines 0 "$tmp/counties-bench.geojson" \
  >"$tmp/gis-load.out" 2>"$tmp/gis-load.err" \
  || { tail -n 20 "$tmp/gis-load.err" "$tmp/gis-load.out" >&2; die "bench: ng911-gis load failed (above)"; }
rm -f "$tmp/counties-bench.geojson"
boundaries="$(psql_db -tAc "SELECT count(*) FROM gis.current_service_boundary")"
log "bench: published $boundaries boundaries"

log "bench: drawing $points random caller positions inside the counties"
per_boundary=$(( (points + boundaries - 1) / boundaries ))
positions="$tmp/positions.csv"
{
  echo SEQUENTIAL
  psql_db -tA -F ';' <<SQL
SELECT setseed(1.0 / $seed);
SELECT round(ST_Y(g)::numeric, 6), round(ST_X(g)::numeric, 6)
FROM (SELECT d.geom AS g
      FROM (SELECT geom FROM gis.current_service_boundary ORDER BY es_nguid) b,
           ST_Dump(ST_GeneratePoints(b.geom, $per_boundary, $seed)) d
      ORDER BY random() LIMIT $points) s;
SQL
} | grep -v '^$' >"$positions"
got=$(( $(wc -l <"$positions") - 1 ))
[ "$got" = "$points" ] || die "bench: drew $got positions, not $points"
# With several callers each takes every Nth position, so that no two calls of a step share one.
for i in $(seq "$callers"); do
  awk -v n="$callers" -v i="$i" 'NR == 1 || (NR - 2) % n == i - 1' "$positions" >"$tmp/positions-$i.csv"
done

# --- 4. the LoST server ----------------------------------------------------------------------
# Query logging off: both ESRPs pay the same LoST server, and the bench is about the ESRPs.
"$lost_bin" --listen 127.0.0.1:0 --db "$conninfo" --log-queries false </dev/null >"$tmp/lost.stdout" 2>"$tmp/lost.log" &
lost_pid=$!
lost_port="" deadline=$((SECONDS + 15))
while [ -z "$lost_port" ]; do
  alive "$lost_pid" || { tail -20 "$tmp/lost.log" >&2; die "bench: ng911-lost exited at start (log above)"; }
  [ "$SECONDS" -lt "$deadline" ] || die "bench: ng911-lost logged no listen address in 15 s"
  lost_port="$(grep -m1 -o '"event":"starting".*"listen":"127\.0\.0\.1:[0-9]*"' "$tmp/lost.log" 2>/dev/null | grep -o '[0-9]*"$' | tr -d '"')" || true
  [ -n "$lost_port" ] || sleep 0.05
done
lost_url="http://127.0.0.1:$lost_port/"
deadline=$((SECONDS + 60))
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${lost_url}healthz" || true)" = 200 ]; do
  alive "$lost_pid" || { tail -20 "$tmp/lost.log" >&2; die "bench: ng911-lost exited before it was ready (log above)"; }
  [ "$SECONDS" -lt "$deadline" ] || die "bench: ${lost_url}healthz not 200 after 60 s"
  sleep 0.1
done
log "bench: ng911-lost ready on $lost_url"

# --- 5. the ESRPs under SIPp -----------------------------------------------------------------
# ng911-esrp as deployed, on free ports, its ECRF the bench's ng911-lost. No --default-route:
# a call the ECRF cannot route fails, as it does through Kamailio. Options that not every
# version has are given when its --help names them: /metrics on a free port, no queue-state
# SUBSCRIBEs (the SIPp queues do not serve the event package), the call log into the scratch
# database, its spool in the temporary directory.
esrp_help="$("$esrp_bin" --help 2>&1 || true)"
# (and that --esrp-args does not give itself)
has_option() { grep -q -- "--$1 " <<<"$esrp_help" && ! grep -q -- "--$1\b" <<<"$esrp_args"; }
esrp_cmd=(--lost "$lost_url")
! has_option http || esrp_cmd+=(--http 127.0.0.1:0)
! has_option no-queue-subscriptions || esrp_cmd+=(--no-queue-subscriptions)
! has_option call-log-db || esrp_cmd+=(--call-log-db "$conninfo")
! has_option spool-dir || esrp_cmd+=(--spool-dir "$tmp/esrp-spool")
# shellcheck disable=SC2206  # --esrp-args is split into words on purpose
esrp_cmd+=($esrp_args)
esrp_port="" esrp_http=""
start_esrp() {  # ng911-esrp | kamailio; sets esrp_port and esrp_pid or kam_pid
  local start_limit=30
  [ -z "$esrp_wrapper" ] || start_limit=120  # under valgrind, start-up is slow
  local log_file="$tmp/$1.log" deadline=$((SECONDS + start_limit))
  : >"$log_file"
  if [ "$1" = ng911-esrp ]; then
    local try
    esrp_port="" esrp_http=""
    # A port free for UDP and TCP (free_port binds without SO_REUSEADDR, so that it also steers
    # clear of the thousands of client sockets in TIME-WAIT a step leaves); the ESRP may still
    # find an address taken at start ("Address already in use"): a few tries.
    for try in $(seq 10); do
      # In its own session, so that a wrapper (strace -f) and the ESRP stop together.
      # shellcheck disable=SC2086  # the wrapper is a command line, split into words on purpose
      setsid $esrp_wrapper "$esrp_bin" --listen "127.0.0.1:$(free_port)" "${esrp_cmd[@]}" </dev/null >/dev/null 2>"$log_file" &
      esrp_pid=$!
      while [ -z "$esrp_port" ] && alive "$esrp_pid"; do
        [ "$SECONDS" -lt "$deadline" ] || die "bench: ng911-esrp not listening after $start_limit s"
        esrp_port="$(grep -m1 -o '"event":"listening".*"port":[0-9]*' "$log_file" | grep -o '[0-9]*$')" || true
        [ -n "$esrp_port" ] || sleep 0.05
      done
      [ -z "$esrp_port" ] || break
      wait "$esrp_pid" 2>/dev/null || true
      grep -q 'Address already in use' "$log_file" && [ "$try" -lt 10 ] \
        || { tail -20 "$log_file" >&2; die "bench: ng911-esrp exited at start (log above)"; }
      log "bench: ng911-esrp stopped at start: $(tail -1 "$log_file"); again"
    done
    esrp_http="$(grep -m1 '"event":"listening"' "$log_file" | grep -o '"http":"[^"]*"' | sed 's/"http":"\(.*\)"/\1/')" || true
  else
    esrp_port="$(free_port)"
    sed -e "s|@SIP_PORT@|$esrp_port|g" -e "s|@LOST_URL@|$lost_url|g" -e "s|@CHILDREN@|$kam_children|g" \
      -e "s|@TCP_CHILDREN@|$kam_tcp_children|g" "$here/kamailio.cfg.in" >"$tmp/kamailio.cfg"
    mkdir -p "$tmp/kamailio-run"
    kamailio -c -f "$tmp/kamailio.cfg" -Y "$tmp/kamailio-run" >"$tmp/kamailio-check.log" 2>&1 \
      || { tail -20 "$tmp/kamailio-check.log" >&2; die "bench: kamailio -c refuses the configuration (above)"; }
    # In its own session, so that the process group is Kamailio and its workers: counted and
    # stopped together.
    setsid kamailio -DD -E -x tlsf -m "$kam_shm" -M 32 -f "$tmp/kamailio.cfg" -Y "$tmp/kamailio-run" -w "$tmp" \
      </dev/null >"$log_file" 2>&1 &
    kam_pid=$!
    local hex; hex="$(printf '0100007F:%04X' "$esrp_port")"
    until awk -v want="$hex" 'NR > 1 && $2 == want { found = 1 } END { exit !found }' /proc/net/udp; do
      alive "$kam_pid" || { tail -20 "$log_file" >&2; die "bench: kamailio exited at start (log above)"; }
      [ "$SECONDS" -lt "$deadline" ] || die "bench: kamailio not listening after 30 s"
      sleep 0.1
    done
    sleep 0.5  # the workers fork after the socket is bound
  fi
}
stop_esrp() {
  if [ -n "$esrp_pid" ]; then stop_pid "$esrp_pid" "-$esrp_pid"; esrp_pid=""; fi
  if [ -n "$kam_pid" ]; then stop_pid "$kam_pid" "-$kam_pid"; kam_pid=""; fi
}
uas_totals() {  # "received failed" over all queues, from their statistics files
  local i r=0 f=0 s
  for i in $(seq "$psaps"); do
    s="$(sipp_stats "$tmp/uas-$i.csv")"
    r=$((r + $(field incoming "$s"))); f=$((f + $(field failed "$s")))
  done
  echo "$r $f"
}
uas_received() { local i; for i in $(seq "$psaps"); do field incoming "$(sipp_stats "$tmp/uas-$i.csv")"; done | paste -sd/; }

# Events in ng911-esrp's call log (the scratch database), where its version keeps one.
call_events() { psql_db -tAc "SELECT CASE WHEN to_regclass('esrp.call_event') IS NULL THEN '-' ELSE (SELECT count(*)::text FROM esrp.call_event) END" 2>/dev/null || echo -; }

# A SIPp caller (uac-emergency.xml) against the ESRP, in the background ($! is its pid):
# POSITIONS CALLS RATE SIPP_TIMEOUT_S STATS OUT [more SIPp options]. SIPp stops itself after
# SIPP_TIMEOUT_S, and timeout(1) stops it 30 s later.
start_caller() {
  local inf="$1" n="$2" rate="$3" limit="$4" stf="$5" out="$6" port; shift 6
  port="$(free_port)"
  (cd "$tmp" && exec timeout -k 5 $((limit + 30)) sipp -sf "$here/uac-emergency.xml" -inf "$inf" \
     -i 127.0.0.1 -p "$port" -t u1 -m "$n" -r "$rate" -l $((rate * 4)) -buff_size "$sipp_buffer" -nostdin \
     -timeout "${limit}s" -trace_stat -stf "$stf" -fd 1 "$@" "127.0.0.1:$esrp_port" >"$out" 2>&1) &
}

declare -A res
steps=()
step_key=""
run_step() {  # NAME RATE [CALLS]: the SIPp callers against a fresh ESRP; fills res[NAME.RATE#STEP.*], sets step_key
  local name="$1" rate="$2" n="${3:-}" k="$1.$2#${#steps[@]}"
  step_key="$k"
  [ -n "$n" ] || n=$(( rate * step_seconds < calls ? rate * step_seconds : calls ))
  local t_settle="$SECONDS"
  settle_db || die "bench: VACUUM or CHECKPOINT of $db failed"
  log "bench: $db vacuumed, analysed and checkpointed in $((SECONDS - t_settle)) s"
  start_esrp "$name"
  local u0 uf0; read -r u0 uf0 <<<"$(uas_totals)"
  local ev0=-; [ "$name" != ng911-esrp ] || ev0="$(call_events)"
  local t0 t1 e0 e1 l0 l1 q0 q1 c0 c1 m0 m1 rc=0 i
  log "bench: $name: $n calls at $rate calls/s from $callers SIPp caller(s)"
  local d0 d1; d0="$(db_backends)"
  local drops0 av0 av1; drops0="$(udp_drops)"; av0="$(autovacuum_runs)"
  t0="$(now_s)"; e0="$(esrp_ticks)"; l0="$(own_ticks "$lost_pid")"; q0="$(uas_ticks)"; c0="$(child_ticks $$)"; m0="$(machine_ticks)"
  # Bounded (start_caller). Caller i of N places calls i, i+N, ... of the step at RATE/N
  # calls/s (the first ones take the rest).
  local limit=$(( n / rate + 30 ))
  uac_pids=()
  for i in $(seq "$callers"); do
    local r_i=$(( rate / callers + (i <= rate % callers ? 1 : 0) )) n_i=$(( n / callers + (i <= n % callers ? 1 : 0) ))
    [ "$r_i" -gt 0 ] && [ "$n_i" -gt 0 ] || continue
    start_caller "$tmp/positions-$i.csv" "$n_i" "$r_i" "$limit" "$tmp/uac-$k-$i.csv" "$tmp/uac-$k-$i.out" \
      ${trace:+-trace_msg -message_file "$tmp/uac-$k-$i.msg"}
    # In the background and waited for, so that a signal to this script is handled at once.
    uac_pids+=($!)
  done
  for i in "${!uac_pids[@]}"; do wait "${uac_pids[$i]}" || rc=$?; done
  uac_pids=()
  t1="$(now_s)"; e1="$(esrp_ticks)"; l1="$(own_ticks "$lost_pid")"; q1="$(uas_ticks)"; c1="$(child_ticks $$)"; m1="$(machine_ticks)"
  d1="$(db_backends)"; av1="$(autovacuum_runs)"
  res[$k.drops]=$(( $(udp_drops) - drops0 ))
  res[$k.autovacuum]="$(( ${av1%% *} - ${av0%% *} ))+${av1##* }"
  local secs s
  secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  s="$(callers_stats "$k")" || { tail -20 "$tmp/uac-$k-"*.out >&2; die "bench: no statistics from a SIPp caller (exit $rc, output above)"; }
  local alive_after=1 metrics=""
  if [ "$name" = ng911-esrp ]; then alive "$esrp_pid" || alive_after=0; else alive "$kam_pid" || alive_after=0; fi
  [ -z "${esrp_http:-}" ] || [ -n "$kam_pid" ] || metrics="$(curl -s --max-time 5 "http://$esrp_http/metrics" || true)"
  # A queue counts a call when its 1 s time-wait after the BYE ends; stopping the ESRP closes
  # its TCP connections to the queues, which fails the calls still on them: wait for the
  # time-waits first (a call still there after that is a real failure). The queues write their
  # statistics once a second: let them catch up before reading.
  sleep 1.3
  stop_esrp
  sleep 1.1
  local u1 uf1; read -r u1 uf1 <<<"$(uas_totals)"
  res[$k.events]=""
  [ "$ev0" = - ] || res[$k.events]=$(( $(call_events) - ev0 ))
  res[$k.calls]="$n"
  res[$k.ok]="$(field ok "$s")"
  res[$k.failed]="$(field failed "$s")"
  res[$k.unfinished]=$(( n - res[$k.ok] - res[$k.failed] ))
  res[$k.retrans]="$(field retrans "$s")"
  res[$k.elapsed]="$(field elapsed "$s")"
  res[$k.cps]="$(awk -v ok="${res[$k.ok]}" -v s="${res[$k.elapsed]}" 'BEGIN { printf "%.0f", (s > 0 ? ok / s : 0) }')"
  res[$k.psap_got]=$(( u1 - u0 ))
  res[$k.psap_failed]=$(( uf1 - uf0 ))
  res[$k.esrp_cpu]="$(pct $((e1 - e0)) "$secs")"
  res[$k.lost_cpu]="$(pct $((l1 - l0)) "$secs")"
  res[$k.db_cpu]="$(pct "$(db_delta "$d0" "$d1")" "$secs")"
  res[$k.uas_cpu]="$(pct $((q1 - q0)) "$secs")"
  res[$k.uac_cpu]="$(pct $((c1 - c0)) "$secs")"
  # shellcheck disable=SC2086
  res[$k.machine_cpu]="$(machine_pct $m0 $m1)"
  # ng911-esrp's ECRF figures: from /metrics (answers by result) where it serves them, else
  # from its "stopped" log line (queries and cache hits).
  res[$k.queries]="-" res[$k.cache_hits]="-" res[$k.ecrf]=""
  if [ "$name" = ng911-esrp ]; then
    if grep -q '^ng911_esrp_lost_queries_total{' <<<"$metrics"; then
      res[$k.queries]="$(awk '/^ng911_esrp_lost_queries_total\{/ { s += $NF } END { print s + 0 }' <<<"$metrics")"
      res[$k.ecrf]="$(awk '/^ng911_esrp_lost_queries_total\{/ { match($0, /result="[^"]*"/); printf "%s%s:%s", sep, substr($0, RSTART + 8, RLENGTH - 9), $NF; sep = "," }' <<<"$metrics")"
    else
      local stopped; stopped="$(grep -m1 '"event":"stopped"' "$tmp/$name.log" || true)"
      res[$k.queries]="$(grep -o '"ecrf_queries":[0-9]*' <<<"$stopped" | grep -o '[0-9]*$' || echo '?')"
      res[$k.cache_hits]="$(grep -o '"ecrf_cache_hits":[0-9]*' <<<"$stopped" | grep -o '[0-9]*$' || echo '?')"
    fi
  fi
  # Clean: every call complete, the queues saw no failure, the ESRP survived, and the calls
  # completed at 90% of the rate or more (below, the caller or the ESRP fell behind).
  local verdict=clean why=""
  [ "${res[$k.failed]}" = 0 ] || why+=", ${res[$k.failed]} failed at the caller"
  [ "${res[$k.unfinished]}" = 0 ] || why+=", ${res[$k.unfinished]} unfinished"
  [ "${res[$k.psap_failed]}" = 0 ] || why+=", ${res[$k.psap_failed]} failed at the queues"
  if [ -n "$why" ]; then
    verdict=failed
  elif [ "$alive_after" = 0 ]; then
    verdict=crashed
  elif awk -v a="${res[$k.cps]}" -v r="$rate" 'BEGIN { exit !(a < 0.9 * r) }'; then
    verdict=behind
  fi
  res[$k.verdict]="$verdict"
  steps+=("$k")
  # Whatever the ESRP logged besides its per-call route lines: warnings and errors.
  local other
  if [ "$name" = ng911-esrp ]; then
    other="$(grep -v '"level":"info"\|"event":"route"\|"event":"listening"\|"event":"stopped"' "$tmp/$name.log" | head -5 || true)"
  else
    other="$(grep -E 'WARNING:|ERROR:|CRITICAL:|BUG:' "$tmp/$name.log" | head -5 || true)"
  fi
  [ -z "$other" ] || { log "bench: $name logged:"; sed 's/^/  /' <<<"$other" >&2; }
  [ "$verdict" = clean ] || [ "$verdict" = behind ] || { log "bench: the caller's last screen:"; cat "$tmp/uac-$k-"*.out | grep -E 'Successful call|Failed call|Unexpected|Timeout|Call-rate' | tail -8 | sed 's/^/  /' >&2 || true; }
  log "bench: $name $rate calls/s: ${res[$k.ok]}/$n complete, ${res[$k.failed]} failed, ${res[$k.cps]} calls/s achieved, ${res[$k.retrans]} retransmissions; CPU: $name ${res[$k.esrp_cpu]}%, ng911-lost ${res[$k.lost_cpu]}%, PostgreSQL ${res[$k.db_cpu]}%, caller ${res[$k.uac_cpu]}%, queues ${res[$k.uas_cpu]}%, machine ${res[$k.machine_cpu]}%; UDP receive-buffer drops ${res[$k.drops]}; autovacuum runs in $db ${res[$k.autovacuum]%+*} finished, ${res[$k.autovacuum]#*+} at the end${res[$k.ecrf]:+; ECRF answers ${res[$k.ecrf]}}${res[$k.events]:+; ${res[$k.events]} call log events} -> $verdict${why:+ (${why#, })}"
  # The per-call route log can be large; the caller's screen dump too.
  rm -f "$tmp/$name.log"
  [ "$keep_tmp" = 1 ] || rm -f "$tmp/uac-$k-"*.out
}

declare -A best best_key
step_through() {  # NAME
  local name="$1" rate ended=0
  best[$name]=""
  for rate in $rates; do
    run_step "$name" "$rate"
    if [ "${res[$step_key.verdict]}" != clean ]; then
      ended=1
      [ "$keep_going" = 1 ] || break
    fi
    [ "$ended" = 1 ] || best[$name]="$rate" best_key[$name]="$step_key"
  done
}

if [ "$only" != kamailio ]; then
  log "bench: === A: ng911-esrp --listen 127.0.0.1:FREE_PORT ${esrp_cmd[*]} (rates: $rates) ==="
  step_through ng911-esrp
fi

perf_top="" perf_rate=""
if [ "$perf_seconds" -gt 0 ] && [ "$only" != kamailio ]; then
  # At the highest clean rate; with none, at the first rate, which is then said.
  rate="${best[ng911-esrp]:-}"
  [ -n "$rate" ] || { rate="${rates%% *}"; log "bench: no clean rate: profiling at the first rate, $rate calls/s, instead"; }
  perf_rate="$rate"
  log "bench: profiling ng911-esrp at $rate calls/s: perf record -g for $perf_seconds s"
  n=$(( rate * (perf_seconds + 4) ))
  start_esrp ng911-esrp
  start_caller "$positions" "$n" "$rate" $((perf_seconds + 60)) "$tmp/uac-perf.csv" /dev/null
  perf_uac=$! uac_pid=$!
  sleep 2
  perf_cmd=(perf record -g -p "$esrp_pid" -o "$tmp/perf.data" -- sleep "$perf_seconds")
  "${perf_cmd[@]}" >"$tmp/perf.out" 2>&1 || { tail -5 "$tmp/perf.out" >&2; log "bench: perf record failed"; }
  wait "$perf_uac" || true
  uac_pid=""
  s="$(sipp_stats "$tmp/uac-perf.csv")"
  log "bench: profiled run: $(field ok "$s")/$n complete, $(field failed "$s") failed"
  sleep 1.3  # the queues' time-waits, as after a step
  stop_esrp
  sleep 1.1
  rm -f "$tmp/ng911-esrp.log"
  if [ -s "$tmp/perf.data" ]; then
    # Self time per function and per object (kernel, libc, the binary); C++ names cut short.
    perf_top="$(perf report -i "$tmp/perf.data" --no-children --stdio --sort dso -g none --percent-limit 2 2>/dev/null \
      | grep -v '^#' | grep -v '^ *$' | sed 's/[[:space:]]*$//' | head -8)"
    perf_top+=$'\n'"$(perf report -i "$tmp/perf.data" --no-children --stdio --sort dso,symbol -g none --percent-limit 0.7 2>/dev/null \
      | grep -v '^#' | grep -v '^ *$' | sed 's/[[:space:]-]*$//' | cut -c1-150 | head -30)"
    perf_cmd_text="${perf_cmd[*]}"
  fi
fi

if [ "$only" != ng911-esrp ]; then
  log "bench: === B: Kamailio $(kamailio -v 2>/dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p') as an ESRP (lost + tm; $kam_children UDP and $kam_tcp_children TCP workers, -x tlsf -m $kam_shm -M 32; rates: $rates) ==="
  step_through kamailio
fi

# --- 7. summary ------------------------------------------------------------------------------
stop_pid "$lost_pid"; lost_pid=""
echo "== complete emergency calls per second through an ESRP (INVITE with PIDF-LO -> LoST -> PSAP queue -> 200 -> ACK -> BYE -> 200) =="
printf '%-11s %6s %6s %6s %6s %7s %8s %7s %5s %5s %5s %5s %5s %5s %8s %6s %6s %5s  %s\n' \
  esrp rate calls ok failed cps retrans psaps esrp% lost% db% uac% uas% mach% queries cached drops avac step
for k in "${steps[@]}"; do
  rate="${k##*.}"
  printf '%-11s %6s %6s %6s %6s %7s %8s %7s %5s %5s %5s %5s %5s %5s %8s %6s %6s %5s  %s\n' \
    "${k%.*}" "${rate%#*}" "${res[$k.calls]}" "${res[$k.ok]}" "${res[$k.failed]}" "${res[$k.cps]}" "${res[$k.retrans]}" \
    "${res[$k.psap_got]}" "${res[$k.esrp_cpu]}" "${res[$k.lost_cpu]}" "${res[$k.db_cpu]}" "${res[$k.uac_cpu]}" "${res[$k.uas_cpu]}" \
    "${res[$k.machine_cpu]}" "${res[$k.queries]}" "${res[$k.cache_hits]}" "${res[$k.drops]}" "${res[$k.autovacuum]}" "${res[$k.verdict]}"
done
echo "(rate: offered calls/s; cps: complete calls per second (SIPp's successful calls / its elapsed time); retrans: the"
echo " caller's retransmissions; psaps: calls the PSAP queues received; CPU in % of one core over the step: the ESRP (all"
echo " of Kamailio's processes), ng911-lost, the PostgreSQL backends of the scratch database, the SIPp caller(s), the SIPp"
echo " queues, the machine; queries: ECRF answers ng911-esrp counted (cache hits included); cached: its cache hits where"
echo " its version reports them; drops: datagrams the kernel dropped from full UDP receive buffers during the step"
echo " (any socket); avac: autovacuum runs in the scratch database during the step, finished+running at its end (each"
echo " step starts after VACUUM ANALYZE and CHECKPOINT); step: clean = every call complete at 90% of the rate or more,"
echo " failed = a call failed or did not finish, behind = under 90% of the rate, crashed = the ESRP died)"
summary() {  # NAME KEY
  local name="$1" key="$2" r="${best[$1]:-}"
  if [ -z "$r" ]; then
    echo "${key}_max_clean_rate=none"
  else
    echo "${key}_max_clean_rate=$r"
    echo "${key}_max_clean_cps=${res[${best_key[$name]}.cps]}"
    echo "${key}_cpu_pct_at_max=${res[${best_key[$name]}.esrp_cpu]}"
  fi
}
echo "== summary =="
[ "$only" = kamailio ] || summary ng911-esrp ng911_esrp
[ "$only" = ng911-esrp ] || summary kamailio kamailio
ours="${best[ng911-esrp]:-0}" theirs="${best[kamailio]:-0}"
if [ -z "$only" ]; then
  if [ "$ours" -gt "$theirs" ]; then ahead=yes; elif [ "$ours" = "$theirs" ]; then ahead=tie; else ahead=no; fi
  echo "ng911_esrp_ahead_of_kamailio=$ahead"
fi
[ "$only" = kamailio ] || { [ "${ours:-0}" -ge 2800 ] && echo "target_2800_cps_met=yes" || echo "target_2800_cps_met=no"; }
echo "sipp_buffers=\"$sipp_buffer_note\""
echo "callers=$callers psap_queues=$psaps psap_transport=$psap_transport positions=$points calls_per_step_max=$calls step_seconds=$step_seconds"
echo "psap_queue_calls=$(uas_received)"
echo "kamailio=\"children=$kam_children tcp_children=$kam_tcp_children -x tlsf -m $kam_shm -M 32; lost_query is a blocking HTTP request per call (http_client, kept-alive connection per worker), no answer cache\""
echo "ng911_esrp=\"${esrp_cmd[*]}: one SIP event loop, LoST queried asynchronously, answers cached by exact location (no position repeats within a step unless --points < its calls), restarted per step\""
echo "cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$cores"
echo "note=\"the SIPp caller(s), the SIPp queues, ng911-lost, PostgreSQL and the ESRP share the $cores cores: each rate includes their cost; cpu: 100 = one core\""
if [ -n "$perf_top" ]; then
  echo "== ng911-esrp profile at $perf_rate calls/s: $perf_cmd_text (% of samples, self) =="
  echo "$perf_top"
fi
