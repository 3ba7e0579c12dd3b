-- pgbench script for scripts/bench/lost.sh: the bare PostGIS point-in-polygon lookup that a
-- findService for a point amounts to, on the same boundaries and points as the LoST run.
-- One transaction = one statement = one lookup of a random point of bench_point (id 1..npoints).
--   pgbench -n -M prepared -c 2 -j 2 -T 15 -D npoints=10000 -f scripts/bench/lost-postgis-pip.sql DB
\set id random(1, :npoints)
SELECT b.serviceuri FROM bench_point p JOIN gis.current_service_boundary b ON ST_Covers(b.geom, p.g) WHERE p.id = :id;
