-- PostGIS for geometry, btree_gist so that one GiST index can serve "this layer version,
-- this point" lookups (version_id + geom).
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SCHEMA IF NOT EXISTS gis;
