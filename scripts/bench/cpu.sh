# CPU accounting from /proc for the benchmarks (sourced by scripts/bench/esrp.sh and lost.sh):
# per-process ticks, the whole machine's busy ticks, and percentages of one core.
# shellcheck shell=bash
clk_tck="$(getconf CLK_TCK)"
cores="$(nproc)"
proc_fields() { local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo ""; return; }; echo "${s##*) }"; }
# utime+stime of a process (ticks); after "pid (comm) ", utime is the 12th field, stime the 13th.
own_ticks() { proc_fields "$1" | awk '{ print ($12 + $13) + 0 }'; }
# cutime+cstime: CPU of the children it has waited for (a benchmark's shell: its load generator).
child_ticks() { proc_fields "$1" | awk '{ print ($14 + $15) + 0 }'; }
# busy and total ticks of the whole machine
machine_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }
now_s() { date +%s.%N; }
pct() { awk -v t="$1" -v hz="$clk_tck" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? t / hz / s * 100 : 0) }'; }
machine_pct() {  # busy0 total0 busy1 total1 -> percent of one core
  awk -v b0="$1" -v t0="$2" -v b1="$3" -v t1="$4" -v c="$cores" 'BEGIN { printf "%.0f", (t1 > t0 ? (b1 - b0) / (t1 - t0) * 100 * c : 0) }'
}

# The end of a benchmark that made a scratch database ($db, when $db_created is 1) and a
# temporary directory ($tmp, kept when $keep_tmp is 1).
drop_scratch() {
  if [ "$db_created" = 1 ]; then
    log "bench: dropping the scratch database $db"
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  fi
  if [ -n "$tmp" ] && [ -d "$tmp" ]; then
    if [ "$keep_tmp" = 1 ]; then log "bench: kept $tmp"; else rm -rf "$tmp"; fi
  fi
}
