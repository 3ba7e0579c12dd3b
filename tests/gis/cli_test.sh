#!/usr/bin/env bash
# ng911-gis as a GIS administrator uses it: exit codes, messages, other formats, round trips.
#   cli_test.sh PATH/TO/ng911-gis
source "$(dirname "$0")/../support/testlib.sh"
gis="$1"
data="$(cd "$(dirname "$0")/../data/gis" && pwd)"
use_test_db cli
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $PGDATABASE WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

# Bad input: a clear message, exit 2, nothing published.
expect_rc 2 "no command" -- "$gis"
expect_rc 2 "unknown command" -- "$gis" frobnicate
expect_rc 2 "unknown layer" -- "$gis" load --layer MoonPolygon "$data/psap-grid4.geojson"
expect_out "unknown layer 'MoonPolygon'; the layers are: PsapPolygon" "unknown layer names the layers"
expect_rc 2 "missing --layer" -- "$gis" load "$data/psap-grid4.geojson"
expect_out "--layer is required" "says --layer is required"
expect_rc 2 "missing file" -- "$gis" load --layer PsapPolygon "$data/nothing-here.geojson"
expect_out "cannot open the file" "missing file message"
expect_rc 2 "unreadable file" -- "$gis" load --layer PsapPolygon "$data/not-gis.geojson"
expect_out "not a GIS vector format" "unreadable file message"
expect_rc 2 "empty file" -- "$gis" load --layer PsapPolygon "$data/empty.geojson"
expect_out "contains no features" "empty file message"
expect_rc 2 "bad --map" -- "$gis" load --layer PsapPolygon --map Bogus=X "$data/psap-grid4.geojson"
expect_out "has no field 'Bogus'" "bad --map message"
expect_rc 2 "no database" -- "$gis" status --db "host=127.0.0.1 port=1 dbname=none connect_timeout=2"
expect_out "cannot connect to the database" "no database message"
expect_eq "$(sql 'SELECT count(*) FROM gis.layer_version')" 0 "bad input recorded no version"

# Validation failures: exit 1, report, nothing published.
expect_rc 1 "broken geometry refused" -- "$gis" load --layer PsapPolygon "$data/psap-bowtie.geojson"
expect_out "ERROR invalid_geometry \(1\)" "broken geometry reported"
expect_out "Self-intersection; at 30.265000, -97.745000" "broken geometry located"
expect_out "^refused layer=PsapPolygon" "summary says refused"
expect_rc 1 "wrong CRS refused" -- "$gis" load --layer PsapPolygon "$data/psap-wrong-crs.geojson"
expect_out "is the file's CRS right" "wrong CRS explained"
expect_rc 1 "missing fields refused" -- "$gis" load --layer PsapPolygon "$data/psap-renamed-fields.geojson"
expect_out "DsplayName is required" "missing field named"
expect_rc 1 "gap refused" -- "$gis" load --layer PsapPolygon "$data/psap-gap.geojson" --report-json "$tmp/report.json"
expect_out "ERROR gap \(1\)" "gap reported"
expect_eq "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["errors"], r["issues"][0]["code"])' "$tmp/report.json")" "1 gap" "JSON report written"
expect_eq "$(sql 'SELECT count(*) FROM gis.published_layer')" 0 "nothing published after refusals"
expect_rc 1 "validate finds the overlap" -- "$gis" validate --layer PsapPolygon "$data/psap-overlap.geojson"
expect_out "^invalid layer=PsapPolygon .*overlaps=1" "validate summary"

# Publishing: field mapping, other formats, reprojection.
expect_rc 0 "load with field mapping" -- "$gis" load --layer PsapPolygon "$data/psap-renamed-fields.geojson" \
  --map DsplayName=AGENCY_NAME --map ServiceURI=ROUTE_URI --map ES_NGUID=NGUID --map Agency_ID=AGENCY \
  --map DateUpdate=UPDATED --set ServiceURN=urn:emergency:service:sos.psap --set DiscrpAgID=gis.example.net
expect_out "^published layer=PsapPolygon features=4 errors=0" "published summary"
expect_eq "$(sql "SELECT dsplayname FROM gis.current_service_boundary WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(-97.735, 30.265), 4326))")" "Renamed PSAP 1" "mapped fields stored"

ogr2ogr -f "ESRI Shapefile" "$tmp/grid9.shp" "$data/psap-grid9.geojson"
rm -f "$tmp/grid9.prj"
expect_rc 2 "shapefile without .prj" -- "$gis" load --layer PsapPolygon "$tmp/grid9.shp"
expect_out "does not say its coordinate reference system" "missing CRS explained"
expect_rc 0 "shapefile with --s-srs" -- "$gis" load --layer PsapPolygon --s-srs EPSG:4326 "$tmp/grid9.shp"
expect_out "features=9 errors=0" "shapefile published"

ogr2ogr -f GPKG -t_srs EPSG:32614 "$tmp/grid4.gpkg" "$data/psap-grid4.geojson" -nln psap
expect_rc 0 "GeoPackage in UTM 14N" -- "$gis" load --layer PsapPolygon "$tmp/grid4.gpkg"
expect_out "reprojected to EPSG:4326" "reprojection announced"
expect_eq "$(sql "SELECT dsplayname FROM gis.current_service_boundary WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(-97.735, 30.275), 4326))")" "Grid4 PSAP 3" "UTM source lands in place"

expect_rc 0 "load --if-changed of the same file" -- "$gis" load --layer PsapPolygon --if-changed "$tmp/grid4.gpkg"
expect_out "^unchanged layer=PsapPolygon" "unchanged file skipped"

# Status, rollback, export.
expect_rc 0 "status" -- "$gis" status
expect_out "PsapPolygon +version [0-9]+ +4 features" "status shows the published version"
expect_out "refused" "status shows refused loads"
expect_rc 0 "rollback" -- "$gis" rollback --layer PsapPolygon
expect_out "^rolled back layer=PsapPolygon" "rollback summary"
expect_eq "$(sql "SELECT count(*) FROM gis.current_service_boundary WHERE layer = 'PsapPolygon'")" 9 "rollback restored the shapefile's 9"
expect_rc 0 "export to a file" -- "$gis" export --layer PsapPolygon -o "$tmp/out.geojson"
expect_eq "$(ogrinfo -so -al "$tmp/out.geojson" | sed -n 's/^Feature Count: //p')" 9 "export has 9 features"
expect_rc 0 "export to stdout" -- "$gis" export --layer PsapPolygon
expect_out '"DsplayName": "Grid9 PSAP 8"' "GeoJSON on stdout"
expect_rc 0 "exported file validates" -- "$gis" validate --layer PsapPolygon "$tmp/out.geojson"
expect_rc 2 "rollback of a never published layer" -- "$gis" rollback --layer FirePolygon
expect_out "never been published" "rollback message"
expect_rc 0 "layers" -- "$gis" layers
expect_out "RoadCenterLine: MultiLineString" "layers lists RoadCenterLine"

finish
