#!/usr/bin/env bash
# Runs the appliance: installs what is missing, builds its programs, starts the project-local
# PostgreSQL/PostGIS cluster, applies the schema, publishes the sample boundaries (all US
# counties as PSAP boundaries; Travis, Williamson and Hays County, TX served by the sample PSAP
# queues) and starts, in the background and in this order, the LoST server (ng911-lost), the
# sample PSAP queues psap-a and psap-b (SIPp), the PSAP endpoint ng911-psap with its
# call-takers' console (queue psap-c) and the ESRP (ng911-esrp; last, so that its queue state
# subscriptions find the queues up). Returns when everything is ready. Safe to run again: it
# reuses what is built, running and published.
# Stop it all with scripts/down.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

"$NG911_ROOT/scripts/install-deps.sh"
# Only what the appliance runs: the tests are scripts/test.sh's business, and a test that does
# not compile must not keep the appliance from starting.
if [ ! -f "$NG911_BUILD/build.ninja" ]; then
  log "build: configuring $NG911_BUILD"
  cmake -S "$NG911_ROOT" -B "$NG911_BUILD" -G Ninja >/dev/null
fi
log "build: compiling the appliance's programs"
cmake --build "$NG911_BUILD" --parallel "$(nproc)" --target ng911-gis ng911-lost ng911-esrp ng911-calllog \
  ng911-psap psap_console
"$NG911_ROOT/scripts/db.sh" up
"$NG911_ROOT/scripts/sample-data/build.sh" "$NG911_VAR/sample"

# us-atlas is generalised for 1:10,000,000 maps; its simplification leaves a few overlaps of
# up to 0.31 km² at three-county corners, below what that scale can draw. They are reported
# as warnings; anything larger would refuse the publish.
log "gis: publishing the sample PSAP boundaries (skipped if already published)"
"$NG911_BUILD/bin/ng911-gis" load --layer PsapPolygon --if-changed --tolerance-m2 400000 --max-lines 3 \
  "$NG911_VAR/sample/us-counties-psap-local.geojson"

"$NG911_ROOT/scripts/service.sh" lost start
"$NG911_ROOT/scripts/service.sh" psaps start
"$NG911_ROOT/scripts/service.sh" psap start
"$NG911_ROOT/scripts/service.sh" esrp start

cat <<INFO

NG9-1-1 appliance is up.
  PostgreSQL/PostGIS  127.0.0.1:55432, database ng911 ($NG911_VAR/pg, log $NG911_VAR/pg/postgresql.log)
  LoST server (ECRF)  http://127.0.0.1:8180/  /metrics /healthz (log $NG911_VAR/log/ng911-lost.log)
  PSAP queues (SIPp)  sip:psap-a@127.0.0.1:5071  Travis County, TX (Austin)
                      sip:psap-b@127.0.0.1:5072  Williamson County, TX (Round Rock), and the
                      default route of every other county (their PSAPs are made-up names)
                      (statistics $NG911_VAR/log/psap-a.stat.csv, psap-b.stat.csv)
  PSAP (ng911-psap)   sip:psap-c@127.0.0.1:5070  Hays County, TX (San Marcos): calls ring in the
                      call-takers' console until someone answers
                      console http://127.0.0.1:8280/  accounts (call-taker, supervisor) and
                      their passwords in $NG911_VAR/psap-accounts.txt:
$(sed -n 's/^\([^#][^ ]*\) \([^ ]*\) \(.*\)$/                        \1 (\2)  password \3/p' "$NG911_VAR/psap-accounts.txt")
                      (log $NG911_VAR/log/ng911-psap.log; calls in the database, schema psap)
  ESRP                sip:127.0.0.1:5060 (UDP, TCP), http://127.0.0.1:8190/metrics /healthz
                      routes by location via the LoST server, the policy rules in
                      scripts/esrp/policy.json (psap-a and psap-b overflow into each other when
                      full or down) and the queues' state; ring-no-answer 65 s; last resort psap-a
                      (log $NG911_VAR/log/ng911-esrp.log; extra options in $NG911_VAR/ng911-esrp.args)

Place an emergency call (SIPp: INVITE urn:service:sos with a PIDF-LO, ACK, BYE) and see its story:
  scripts/esrp/call.sh                          downtown Austin     -> psap-a
  scripts/esrp/call.sh 30.5083 -97.6789         Round Rock          -> psap-b
  scripts/esrp/call.sh 39.7392 -104.9903        Denver: no queue    -> default route psap-b
  scripts/esrp/call.sh 29.8833 -97.9414         San Marcos          -> psap-c: rings in the console;
                      log in at http://127.0.0.1:8280/, press R (ready) and answer with N; unanswered, call.sh
                      cancels it after 60 s (--ring-s N) and the console lists it as abandoned
  build/bin/ng911-calllog recent                the latest calls
  build/bin/ng911-calllog story --call-id ID    one call's events (location, LoST, rules, routes)
  curl -s http://127.0.0.1:8190/metrics         calls by outcome, latencies, queue states
Change the routing rules: edit scripts/esrp/policy.json (docs/policy.md); the ESRP reloads it
within 2 s, or at once with: kill -HUP \$(cat $NG911_VAR/run/ng911-esrp.pid)
(a file that does not validate is refused, the running rules stay; see the ESRP's log).

Which PSAP serves downtown Austin, TX? Ask the LoST server:
  curl -s -H 'Content-Type: application/lost+xml' http://127.0.0.1:8180/ --data-binary \\
    '<findService xmlns="urn:ietf:params:xml:ns:lost1"><location id="1" profile="geodetic-2d">
     <Point xmlns="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::4326"><pos>30.2672 -97.7431</pos></Point>
     </location><service>urn:service:sos</service></findService>'
  build/bin/ng911-gis status                                   published GIS layers and versions
  build/bin/ng911-gis load --layer PsapPolygon FILE            validate and publish your boundaries
Stop:
  scripts/down.sh
INFO
