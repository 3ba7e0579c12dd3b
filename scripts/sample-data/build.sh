#!/usr/bin/env bash
# Builds the sample GIS data into DIR (default var/sample):
#   us-counties-psap.geojson  PsapPolygon per US county, from the npm package us-atlas,
#                             geometry repaired with GDAL's MakeValid (see README.md here).
# Rebuilds only when the inputs changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
out="${1:-$NG911_VAR/sample}"
mkdir -p "$out"

if [ ! -d "$here/node_modules/us-atlas" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  log "sample: installing npm packages (us-atlas, topojson-client)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

final="$out/us-counties-psap.geojson"
if [ -f "$final" ] && [ "$final" -nt "$here/make-us-counties.mjs" ] && [ "$final" -nt "$here/package-lock.json" ]; then
  exit 0
fi
raw="$out/us-counties-psap.raw.geojson"
log "sample: converting us-atlas counties to NENA PsapPolygon GeoJSON"
node "$here/make-us-counties.mjs" "$raw" >&2
# TopoJSON simplification leaves self-intersecting rings; repair them as a GIS admin would
# before publishing.
rm -f "$final.tmp"
ogr2ogr -makevalid -f GeoJSON -nln PsapPolygon "$final.tmp" "$raw"
mv "$final.tmp" "$final"
log "sample: wrote $final"
