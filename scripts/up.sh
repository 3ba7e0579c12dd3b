#!/usr/bin/env bash
# Runs the appliance: installs what is missing, builds, starts the project-local
# PostgreSQL/PostGIS cluster, applies the schema, publishes the sample boundaries (all US
# counties as PSAP boundaries) and starts the services that exist, in the background. Returns
# when everything is ready: the database, the LoST server (ng911-lost) and the ESRP (ng911-esrp). Safe to run again: it reuses what is built, running and published.
# Stop it all with scripts/down.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

"$NG911_ROOT/scripts/install-deps.sh"
"$NG911_ROOT/scripts/build.sh"
"$NG911_ROOT/scripts/db.sh" up
"$NG911_ROOT/scripts/sample-data/build.sh" "$NG911_VAR/sample"

# us-atlas is generalised for 1:10,000,000 maps; its simplification leaves a few overlaps of
# up to 0.31 km² at three-county corners, below what that scale can draw. They are reported
# as warnings; anything larger would refuse the publish.
log "gis: publishing the sample PSAP boundaries (skipped if already published)"
"$NG911_BUILD/bin/ng911-gis" load --layer PsapPolygon --if-changed --tolerance-m2 400000 --max-lines 3 \
  "$NG911_VAR/sample/us-counties-psap.geojson"

"$NG911_ROOT/scripts/service.sh" lost start
"$NG911_ROOT/scripts/service.sh" esrp start

cat <<INFO

NG9-1-1 appliance is up.
  PostgreSQL/PostGIS  127.0.0.1:55432, database ng911 ($NG911_VAR/pg, log $NG911_VAR/pg/postgresql.log)
  LoST server (ECRF)  http://127.0.0.1:8180/  /metrics /healthz (log $NG911_VAR/log/ng911-lost.log)
  ESRP                sip:127.0.0.1:5060 (UDP, TCP), routes by location via the LoST server
                      (log $NG911_VAR/log/ng911-esrp.log; default routes in $NG911_VAR/ng911-esrp.args)

Try: which PSAP serves downtown Austin, TX?
  curl -s -H 'Content-Type: application/lost+xml' http://127.0.0.1:8180/ --data-binary \\
    '<findService xmlns="urn:ietf:params:xml:ns:lost1"><location id="1" profile="geodetic-2d">
     <Point xmlns="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::4326"><pos>30.2672 -97.7431</pos></Point>
     </location><service>urn:service:sos</service></findService>'
  build/bin/ng911-gis status                                   published GIS layers and versions
  build/bin/ng911-gis layers                                   NENA layers and their fields
  build/bin/ng911-gis load --layer PsapPolygon FILE            validate and publish your boundaries
  scripts/db.sh psql -c "SELECT dsplayname, serviceuri FROM gis.current_service_boundary
      WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(-97.7431, 30.2672), 4326))"
Stop:
  scripts/down.sh
INFO
