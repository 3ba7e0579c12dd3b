#!/usr/bin/env bash
# Builds the sample GIS data into DIR (default var/sample):
#   us-counties-psap.geojson        PsapPolygon per US county, from the npm package us-atlas,
#                                   geometry repaired with GDAL's MakeValid; every county's
#                                   ServiceURI is made up (sip:psap-FIPS@psap.example.net).
#   us-counties-psap-local.geojson  the same, but three Texas counties served by the sample
#                                   appliance's PSAP queues on this machine: Travis County
#                                   (Austin) and Williamson County (Round Rock) by the SIPp
#                                   queues (scripts/service.sh psaps), Hays County (San Marcos)
#                                   by ng911-psap and its call-takers' console (scripts/service.sh
#                                   psap); this is what scripts/up.sh publishes.
# Rebuilds only when the inputs (this script included) changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../lib.sh"
out="${1:-$NG911_VAR/sample}"
mkdir -p "$out"

# COUNTY_FIPS=QUEUE_URI. The made-up URIs of the other counties need DNS, which the ESRP does
# not do: their calls take the ESRP's default route, and the call log says why.
local_queues=(
  "48453=sip:psap-a@127.0.0.1:5071"
  "48491=sip:psap-b@127.0.0.1:5072"
  "48209=sip:psap-c@127.0.0.1:5070"
)

if [ ! -d "$here/node_modules/us-atlas" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  log "sample: installing npm packages (us-atlas, topojson-client)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

final="$out/us-counties-psap.geojson"
if [ ! -f "$final" ] || [ ! "$final" -nt "$here/make-us-counties.mjs" ] || [ ! "$final" -nt "$here/package-lock.json" ]; then
  raw="$out/us-counties-psap.raw.geojson"
  log "sample: converting us-atlas counties to NENA PsapPolygon GeoJSON"
  node "$here/make-us-counties.mjs" "$raw" >&2
  # TopoJSON simplification leaves self-intersecting rings; repair them as a GIS admin would
  # before publishing.
  rm -f "$final.tmp"
  ogr2ogr -makevalid -f GeoJSON -nln PsapPolygon "$final.tmp" "$raw"
  mv "$final.tmp" "$final"
  log "sample: wrote $final"
fi

local_file="$out/us-counties-psap-local.geojson"
if [ -f "$local_file" ] && [ "$local_file" -nt "$final" ] && [ "$local_file" -nt "${BASH_SOURCE[0]}" ]; then
  exit 0
fi
# Same bytes for the same inputs, so that `ng911-gis load --if-changed` skips a republish.
python3 - "$final" "$local_file.tmp" "${local_queues[@]}" <<'PY'
import json, sys
src, dst, pairs = sys.argv[1], sys.argv[2], dict(p.split("=", 1) for p in sys.argv[3:])
data = json.load(open(src))
for feature in data["features"]:
    props = feature["properties"]
    uri = pairs.pop(props["CountyFIPS"], None)
    if uri:
        props["ServiceURI"] = uri
if pairs:
    sys.exit("sample: no county with FIPS " + ", ".join(sorted(pairs)))
json.dump(data, open(dst, "w"), separators=(",", ":"))
PY
mv "$local_file.tmp" "$local_file"
log "sample: wrote $local_file (${local_queues[*]})"
