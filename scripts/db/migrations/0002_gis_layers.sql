-- NENA GIS Data Model (NENA-STA-006) layers, versioned.
--
-- Every load of a layer becomes a row of gis.layer_version; the features of all versions live
-- in the layer tables, keyed by version_id. gis.published_layer points at the one version of
-- each layer that readers see; publishing or rolling back is a single UPDATE of that pointer, so
-- a reader's statement sees the old version or the new one, never a mix. The gis.current_*
-- views are what the LoST server and everything else query.
--
-- Column names are the NENA field names, lower-cased.

CREATE TABLE gis.layer_version (
    version_id    bigserial PRIMARY KEY,
    layer         text        NOT NULL,
    state         text        NOT NULL DEFAULT 'loading'
                  CHECK (state IN ('loading', 'refused', 'failed', 'published', 'superseded',
                                   'rolled_back')),
    source_file   text        NOT NULL,
    source_sha256 text,
    feature_count integer     NOT NULL DEFAULT 0,
    error_count   integer     NOT NULL DEFAULT 0,
    warning_count integer     NOT NULL DEFAULT 0,
    forced        boolean     NOT NULL DEFAULT false,
    loaded_by     text        NOT NULL,
    db_user       text        NOT NULL DEFAULT current_user,
    started_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    report        jsonb
);
CREATE INDEX layer_version_layer_idx ON gis.layer_version (layer, version_id);

CREATE TABLE gis.published_layer (
    layer        text PRIMARY KEY,
    version_id   bigint NOT NULL REFERENCES gis.layer_version (version_id),
    published_at timestamptz NOT NULL DEFAULT now()
);

-- PsapPolygon, PolicePolygon, FirePolygon, EmsPolygon and ServiceBoundaryPolygon share the
-- service boundary fields.
CREATE TABLE gis.service_boundary (
    version_id  bigint NOT NULL REFERENCES gis.layer_version (version_id) ON DELETE CASCADE,
    layer       text   NOT NULL,
    discrpagid  text   NOT NULL,
    dateupdate  timestamptz NOT NULL,
    effective   timestamptz,
    expire      timestamptz,
    es_nguid    text   NOT NULL,
    state       text   NOT NULL,
    agency_id   text   NOT NULL,
    serviceuri  text   NOT NULL,
    serviceurn  text   NOT NULL,
    servicenum  text,
    avcard_uri  text,
    dsplayname  text   NOT NULL,
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    PRIMARY KEY (version_id, es_nguid)
);
CREATE INDEX service_boundary_geom_idx ON gis.service_boundary USING gist (version_id, geom);

-- A1..A5: StateOrEquivalent, CountyOrEquivalent, IncorporatedMunicipality,
-- UnincorporatedCommunity, NeighborhoodCommunity.
CREATE TABLE gis.admin_area (
    version_id  bigint NOT NULL REFERENCES gis.layer_version (version_id) ON DELETE CASCADE,
    layer       text   NOT NULL,
    discrpagid  text   NOT NULL,
    dateupdate  timestamptz NOT NULL,
    effective   timestamptz,
    expire      timestamptz,
    nguid       text   NOT NULL,
    country     text   NOT NULL,
    state       text   NOT NULL,
    county      text,
    addcode     text,
    inc_muni    text,
    uninc_comm  text,
    nbrhd_comm  text,
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    PRIMARY KEY (version_id, nguid)
);
CREATE INDEX admin_area_geom_idx ON gis.admin_area USING gist (version_id, geom);

CREATE TABLE gis.address_point (
    version_id  bigint NOT NULL REFERENCES gis.layer_version (version_id) ON DELETE CASCADE,
    layer       text   NOT NULL,
    discrpagid  text   NOT NULL,
    dateupdate  timestamptz NOT NULL,
    effective   timestamptz,
    expire      timestamptz,
    site_nguid  text   NOT NULL,
    country     text   NOT NULL,
    state       text   NOT NULL,
    county      text   NOT NULL,
    addcode     text,
    inc_muni    text   NOT NULL,
    uninc_comm  text,
    nbrhd_comm  text,
    st_premod   text,
    st_predir   text,
    st_pretyp   text,
    st_presep   text,
    st_name     text   NOT NULL,
    st_postyp   text,
    st_posdir   text,
    st_posmod   text,
    addnum_pre  text,
    add_number  integer,
    addnum_suf  text,
    building    text,
    floor       text,
    unit        text,
    room        text,
    seat        text,
    landmkname  text,
    post_code   text,
    post_comm   text,
    place_type  text,
    geom        geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (version_id, site_nguid)
);
CREATE INDEX address_point_geom_idx ON gis.address_point USING gist (version_id, geom);

CREATE TABLE gis.road_centerline (
    version_id  bigint NOT NULL REFERENCES gis.layer_version (version_id) ON DELETE CASCADE,
    layer       text   NOT NULL,
    discrpagid  text   NOT NULL,
    dateupdate  timestamptz NOT NULL,
    effective   timestamptz,
    expire      timestamptz,
    rcl_nguid   text   NOT NULL,
    adddatauri  text,
    fromaddr_l  integer,
    toaddr_l    integer,
    fromaddr_r  integer,
    toaddr_r    integer,
    parity_l    text,
    parity_r    text,
    st_premod   text,
    st_predir   text,
    st_pretyp   text,
    st_presep   text,
    st_name     text   NOT NULL,
    st_postyp   text,
    st_posdir   text,
    st_posmod   text,
    country_l   text   NOT NULL,
    country_r   text   NOT NULL,
    state_l     text   NOT NULL,
    state_r     text   NOT NULL,
    county_l    text   NOT NULL,
    county_r    text   NOT NULL,
    incmuni_l   text   NOT NULL,
    incmuni_r   text   NOT NULL,
    uninccom_l  text,
    uninccom_r  text,
    nbrhdcom_l  text,
    nbrhdcom_r  text,
    postcode_l  text,
    postcode_r  text,
    postcomm_l  text,
    postcomm_r  text,
    geom        geometry(MultiLineString, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    PRIMARY KEY (version_id, rcl_nguid)
);
CREATE INDEX road_centerline_geom_idx ON gis.road_centerline USING gist (version_id, geom);

CREATE VIEW gis.current_service_boundary AS
    SELECT f.* FROM gis.service_boundary f
    JOIN gis.published_layer p ON p.layer = f.layer AND p.version_id = f.version_id;
CREATE VIEW gis.current_admin_area AS
    SELECT f.* FROM gis.admin_area f
    JOIN gis.published_layer p ON p.layer = f.layer AND p.version_id = f.version_id;
CREATE VIEW gis.current_address_point AS
    SELECT f.* FROM gis.address_point f
    JOIN gis.published_layer p ON p.layer = f.layer AND p.version_id = f.version_id;
CREATE VIEW gis.current_road_centerline AS
    SELECT f.* FROM gis.road_centerline f
    JOIN gis.published_layer p ON p.layer = f.layer AND p.version_id = f.version_id;

-- Every publish and rollback, in order: what each layer showed, since when, and who did it.
CREATE TABLE gis.publish_event (
    event_id    bigserial PRIMARY KEY,
    layer       text        NOT NULL,
    version_id  bigint      NOT NULL REFERENCES gis.layer_version (version_id),
    action      text        NOT NULL CHECK (action IN ('publish', 'rollback')),
    at          timestamptz NOT NULL DEFAULT now(),
    by_user     text        NOT NULL,
    db_user     text        NOT NULL DEFAULT current_user
);
