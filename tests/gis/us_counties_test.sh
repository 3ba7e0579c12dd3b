#!/usr/bin/env bash
# Every US county from the sample data (us-atlas), validated, published and queried.
#   us_counties_test.sh PATH/TO/ng911-gis SAMPLE_DIR
source "$(dirname "$0")/../support/testlib.sh"
gis="$1" sample="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
use_test_db counties
"$root/scripts/sample-data/build.sh" "$sample"
file="$sample/us-counties-psap.geojson"

expect_rc 0 "publish all US counties" -- "$gis" load --layer PsapPolygon --tolerance-m2 400000 "$file"
printf '%s\n' "$out" | tail -20
expect_out "^published layer=PsapPolygon features=3230 errors=0" "3230 counties published without errors"
expect_eq "$(sql "SELECT count(*) FROM gis.current_service_boundary")" 3230 "3230 PSAP boundaries readable"
expect_eq "$(sql "SELECT serviceuri FROM gis.current_service_boundary WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(-97.7431, 30.2672), 4326))")" \
  "sip:psap-48453@psap.example.net" "Austin, TX is Travis County's PSAP"
expect_eq "$(sql "SELECT dsplayname FROM gis.current_service_boundary WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(-157.8583, 21.3069), 4326))")" \
  "Honolulu, Hawaii PSAP" "Honolulu resolves"
expect_eq "$(sql "SELECT count(*) FROM gis.current_service_boundary WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(-40, 30), 4326))")" \
  0 "mid-Atlantic is no county"
finish
