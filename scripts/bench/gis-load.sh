#!/usr/bin/env bash
# How long publishing all US counties takes: RUNS loads (default 3) of the sample PsapPolygon
# file into a scratch database (ng911_bench) of the local cluster, each a full read, validation
# (validity, overlaps, gaps) and publish. Prints each run and the median.
#   scripts/bench/gis-load.sh [RUNS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
runs="${1:-3}"
"$NG911_ROOT/scripts/db.sh" start
"$NG911_ROOT/scripts/sample-data/build.sh" "$NG911_VAR/sample"
file="$NG911_VAR/sample/us-counties-psap.geojson"
db="ng911_bench"
psql_admin() { psql -X -q -h 127.0.0.1 -p 55432 -U postgres -d postgres "$@"; }
times=()
for i in $(seq 1 "$runs"); do
  psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  "$NG911_ROOT/scripts/db.sh" --db "$db" migrate
  start=$(date +%s.%N)
  summary="$("$NG911_BUILD/bin/ng911-gis" load --db "host=127.0.0.1 port=55432 dbname=$db user=postgres" \
    --layer PsapPolygon --tolerance-m2 400000 --max-lines 0 "$file" 2>/dev/null | tail -1)"
  end=$(date +%s.%N)
  t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
  times+=("$t")
  log "bench: run $i/$runs: ${t}s: $summary"
done
psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "us_counties_publish_seconds_median=$median runs=$runs features=$(grep -o '"ES_NGUID"' "$file" | wc -l) cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\" cores=$(nproc)"
