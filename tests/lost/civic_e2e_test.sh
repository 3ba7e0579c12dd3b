#!/usr/bin/env bash
# Civic routing and the LVF end to end: NENA address points, road centerlines and A2 areas
# published with ng911-gis, read by a running ng911-lost, queried over HTTP.
#   civic_e2e_test.sh PATH/TO/ng911-lost PATH/TO/ng911-gis
source "$(dirname "$0")/../support/testlib.sh"
lost_bin="$1" gis="$2"
data="$(cd "$(dirname "$0")/../data/gis" && pwd)"
rng="$(cd "$(dirname "$0")/../.." && pwd)/../shared/standards/lost.rng"
use_test_db civic
tmp="$(mktemp -d)"
lost_pid=""
cleanup() {
  [ -n "$lost_pid" ] && kill "$lost_pid" 2>/dev/null && wait "$lost_pid" 2>/dev/null
  rm -rf "$tmp"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $PGDATABASE WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$gis" load --layer PsapPolygon "$data/psap-grid4.geojson" >/dev/null 2>&1
"$gis" load --layer A2 "$data/a2-counties.geojson" >/dev/null 2>&1
"$gis" load --layer SiteStructureAddressPoint "$data/address-points.geojson" >/dev/null 2>&1
"$gis" load --layer RoadCenterLine "$data/road-centerlines.geojson" >/dev/null 2>&1

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$lost_bin" --listen "127.0.0.1:$port" --db "dbname=$PGDATABASE" --server-id ecrf.civic.test 2>"$tmp/lost.log" &
lost_pid=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

ask() {  # ask CIVIC_ELEMENTS: findService with validateLocation, body in $out, schema-checked
  printf '<findService xmlns="urn:ietf:params:xml:ns:lost1" validateLocation="true"><location id="c" profile="civic"><civicAddress xmlns="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr">%s</civicAddress></location><service>urn:service:sos</service></findService>' "$1" > "$tmp/req.xml"
  out="$(curl -s -H 'Content-Type: application/lost+xml' --data-binary @"$tmp/req.xml" "http://127.0.0.1:$port/")"
  printf '%s' "$out" > "$tmp/resp.xml"
  if xmllint --noout --relaxng "$rng" "$tmp/resp.xml" 2>/dev/null; then pass "schema-valid: $1"; else fail "schema-invalid: $out"; fi
}

ask '<country>US</country><A1>TX</A1><A2>Travis</A2><A3>Austin</A3><RD>Congress</RD><STS>Avenue</STS><HNO>100</HNO><FLR>3</FLR>'
expect_out '<uri>sip:psap-0@test.example.net</uri>' "address point routes to PSAP 0"
expect_out '<valid>civ:country civ:A1 civ:A2 civ:A3 civ:RD civ:STS civ:HNO</valid>' "address point elements valid"
expect_out '<unchecked>civ:FLR</unchecked>' "floor unchecked"
ask '<country>us</country><A1>tx</A1><A3>AUSTIN</A3><RD>congress ave.</RD><HNO>102</HNO>'
expect_out '<valid>civ:country civ:A1 civ:A3 civ:RD civ:HNO</valid>' "normalised address matches"
ask '<country>US</country><A1>TX</A1><A3>Austin</A3><RD>Congress</RD><STS>Ave</STS><HNO>251</HNO>'
expect_out 'civ:HNO</valid>' "house number inside a road range is valid"
expect_out '<uri>sip:psap-0@test.example.net</uri>' "road range interpolation routes"
ask '<country>US</country><A1>TX</A1><A3>Austin</A3><RD>Congress</RD><STS>Ave</STS><HNO>999</HNO>'
expect_out '<invalid>civ:HNO</invalid>' "house number outside every range is invalid"
ask '<country>US</country><A1>TX</A1><A2>Travis</A2><RD>Nowhere</RD><HNO>5</HNO>'
expect_out '<invalid>civ:RD</invalid>' "unknown street invalid"
expect_out '<uri>sip:psap-' "routed on the A2 area"
# The query log is flushed within 200 ms.
for _ in $(seq 30); do grep -q '"civic_method":"A2"' "$tmp/lost.log" && break; sleep 0.1; done
expect_eq "$(grep -c '"civic_method":"A2"' "$tmp/lost.log")" 1 "the log says it was placed by A2"
ask '<country>US</country><A1>ZZ</A1><RD>Nowhere</RD>'
expect_out '<notFound' "an address nowhere is notFound"
finish
