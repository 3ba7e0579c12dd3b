#include "gis/gis_store.h"
#include "gis/store_connection.h"

#include <set>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "gis/field_checks.h"

namespace ng911::gis {
namespace {

std::string quote_ident_list(const LayerSpec& layer, std::string_view prefix) {
  std::string out;
  for (const auto& f : layer.fields) {
    out += ", ";
    out += prefix;
    out += f.column();
  }
  return out;
}

// Attribute checks that need nothing but the feature: presence, syntax, uniqueness.
bool check_attributes(const LayerSpec& layer, const SourceFeature& f, std::set<std::string>& ids,
                      ValidationReport& report) {
  bool ok = true;
  for (std::size_t i = 0; i < layer.fields.size(); ++i) {
    const FieldSpec& spec = layer.fields[i];
    const auto& v = f.values[i];
    if (!v) {
      if (spec.required) {
        report.error("missing_field", f.label, std::string(spec.name) + " is required but empty");
        ok = false;
      }
      continue;
    }
    if (auto problem = check_field(spec, *v)) {
      report.error("bad_value", f.label, std::string(spec.name) + " '" + *v + "': " + *problem);
      ok = false;
    }
    if (spec.name == layer.id_field && !ids.insert(*v).second) {
      report.error("duplicate_id", f.label, std::string(spec.name) + " '" + *v + "' is used by an earlier feature");
      ok = false;
    }
  }
  return ok;
}

std::string group_of(const LayerSpec& layer, const SourceFeature& f) {
  if (layer.group_field.empty()) return {};
  for (std::size_t i = 0; i < layer.fields.size(); ++i)
    if (layer.fields[i].name == layer.group_field && f.values[i]) return *f.values[i];
  return {};
}

nlohmann::json attributes_json(const LayerSpec& layer, const SourceFeature& f) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < layer.fields.size(); ++i)
    if (f.values[i]) j[layer.fields[i].column()] = *f.values[i];
  return j;
}

void note_geometry_problems(pqxx::work& tx, ValidationReport& report) {
  auto rows = tx.exec(
      "SELECT s.label, d.reason, ST_X(d.location), ST_Y(d.location) "
      "FROM stage s CROSS JOIN LATERAL ST_IsValidDetail(s.geom) d "
      "WHERE s.geom IS NOT NULL AND NOT d.valid ORDER BY s.fid");
  for (const auto& r : rows) {
    Issue i{Severity::error, "invalid_geometry", r[0].as<std::string>(),
            "invalid geometry: " + r[1].as<std::string>(""), {}, {}};
    if (!r[2].is_null()) i.where = LonLat{r[2].as<double>(), r[3].as<double>()};
    report.add(std::move(i));
  }
}

// Overlaps: pairs of features of one service URN whose interiors share area.
void note_overlaps(pqxx::work& tx, const LoadOptions& options, ValidationReport& report) {
  auto rows = tx.exec(
      "SELECT a.label, b.label, ST_Area(i::geography), ST_X(p), ST_Y(p), a.grp "
      "FROM stage a JOIN stage b ON a.fid < b.fid AND a.grp = b.grp AND a.fixed && b.fixed "
      "  AND ST_Relate(a.fixed, b.fixed, '2********') "
      "CROSS JOIN LATERAL ST_CollectionExtract(ST_Intersection(a.fixed, b.fixed), 3) AS i "
      "CROSS JOIN LATERAL ST_PointOnSurface(i) AS p "
      "WHERE NOT ST_IsEmpty(i) ORDER BY 3 DESC");
  for (const auto& r : rows) {
    double area = r[2].as<double>();
    std::string group = r[5].as<std::string>();
    Issue i{area < options.tolerance_m2 ? Severity::warning : Severity::error, "overlap",
            r[0].as<std::string>() + " and " + r[1].as<std::string>(),
            "boundaries overlap" + (group.empty() ? std::string() : " (" + group + ")"), area,
            LonLat{r[3].as<double>(), r[4].as<double>()}};
    report.add(std::move(i));
  }
}

// Gaps: areas enclosed by a service URN's boundaries that none of them covers (holes of their
// union, less any boundary lying inside the hole).
void note_gaps(pqxx::work& tx, const LoadOptions& options, ValidationReport& report) {
  auto rows = tx.exec(
      "WITH u AS (SELECT grp, ST_Union(fixed) AS g FROM stage WHERE fixed IS NOT NULL GROUP BY grp), "
      "holes AS (SELECT u.grp, u.g, ST_MakePolygon(ST_InteriorRingN(d.geom, n)) AS hole "
      "          FROM u CROSS JOIN LATERAL ST_Dump(u.g) d "
      "          CROSS JOIN LATERAL generate_series(1, ST_NumInteriorRings(d.geom)) n), "
      "gaps AS (SELECT grp, (ST_Dump(ST_CollectionExtract(ST_Difference(hole, g), 3))).geom AS gap "
      "         FROM holes) "
      "SELECT grp, ST_Area(gap::geography), ST_X(p), ST_Y(p), "
      "  (SELECT string_agg(label, ', ') FROM (SELECT s.label FROM stage s WHERE s.grp = gaps.grp "
      "     AND s.fixed && gap AND ST_Intersects(s.fixed, gap) ORDER BY s.fid LIMIT 4) n) "
      "FROM gaps CROSS JOIN LATERAL ST_PointOnSurface(gap) p WHERE NOT ST_IsEmpty(gap) ORDER BY 2 DESC");
  for (const auto& r : rows) {
    double area = r[1].as<double>();
    std::string group = r[0].as<std::string>();
    Issue i{area < options.tolerance_m2 ? Severity::warning : Severity::error, "gap",
            r[4].is_null() ? std::string() : "between " + r[4].as<std::string>(),
            "area covered by no boundary" + (group.empty() ? std::string() : " (" + group + ")"), area,
            LonLat{r[2].as<double>(), r[3].as<double>()}};
    report.add(std::move(i));
  }
}

std::string as_text(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

}  // namespace

GisStore::GisStore(const std::string& conninfo) {
  try {
    db_ = std::make_unique<Connection>(conninfo);
  } catch (const std::exception& e) {
    throw GisError("cannot connect to the database (" + (conninfo.empty() ? std::string("PG* environment") : conninfo) +
                   "): " + e.what() + "is it running? (scripts/db.sh start) or name another with --db");
  }
  try {
    pqxx::nontransaction tx(db_->conn);
    tx.exec("SELECT 1 FROM gis.published_layer LIMIT 0");
  } catch (const pqxx::sql_error&) {
    throw GisError("the database has no GIS schema: apply the migrations (scripts/db.sh migrate)");
  }
}

GisStore::~GisStore() = default;

LoadResult GisStore::load(const LayerSpec& layer, SourceReader& source, const std::string& source_file,
                          const LoadOptions& options, Progress* progress) {
  LoadResult result;
  const std::string layer_name(layer.name);
  const std::string sha = file_sha256(source_file);

  if (!options.dry_run) {
    pqxx::work tx(db_->conn);
    if (options.if_changed && !sha.empty()) {
      auto same = tx.exec_params(
          "SELECT v.version_id FROM gis.published_layer p JOIN gis.layer_version v USING (version_id) "
          "WHERE p.layer = $1 AND v.source_sha256 = $2", layer_name, sha);
      if (!same.empty()) {
        result.outcome = LoadOutcome::unchanged;
        result.version_id = same[0][0].as<std::int64_t>();
        return result;
      }
    }
    result.version_id = tx.exec_params1(
        "INSERT INTO gis.layer_version (layer, source_file, source_sha256, loaded_by) "
        "VALUES ($1, $2, $3, $4) RETURNING version_id",
        layer_name, source_file, sha.empty() ? std::optional<std::string>() : sha, options.loaded_by)[0]
        .as<std::int64_t>();
    tx.commit();
  }

  auto record_end = [&](const std::string& state) {
    pqxx::work tx(db_->conn);
    tx.exec_params(
        "UPDATE gis.layer_version SET state = $2, feature_count = $3, error_count = $4, "
        "warning_count = $5, report = $6::jsonb WHERE version_id = $1",
        result.version_id, state, result.features_read, static_cast<std::int64_t>(result.report.errors()),
        static_cast<std::int64_t>(result.report.warnings()), result.report.to_json().dump());
    tx.commit();
  };

  try {
    pqxx::work tx(db_->conn);
    // One publish per layer at a time; readers are never blocked.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('ng911-gis:' || $1))", layer_name);
    tx.exec("SET LOCAL timezone = 'UTC'");
    tx.exec("CREATE TEMP TABLE stage (fid bigint PRIMARY KEY, label text NOT NULL, grp text NOT NULL, "
            "attrs jsonb NOT NULL, attrs_ok boolean NOT NULL, geom geometry(Geometry, 4326), "
            "fixed geometry(Geometry, 4326)) ON COMMIT DROP");
    db_->conn.prepare("ng911_stage_feature",
                   "INSERT INTO stage (fid, label, grp, attrs, attrs_ok, geom) "
                   "VALUES ($1, $2, $3, $4::jsonb, $5, ST_GeomFromWKB(decode($6, 'hex'), 4326))");

    if (progress) progress->phase("reading");
    std::set<std::string> ids;
    std::int64_t seq = 0;
    while (auto f = source.next(result.report)) {
      ++seq;
      bool ok = check_attributes(layer, *f, ids, result.report);
      // OGR FIDs are not unique in every format; our own sequence keys the stage.
      tx.exec_prepared("ng911_stage_feature", seq, f->label, group_of(layer, *f),
                       attributes_json(layer, *f).dump(), ok, f->wkb_hex);
      if (progress) progress->advance(seq, source.feature_count());
    }
    db_->conn.unprepare("ng911_stage_feature");
    result.features_read = seq;

    if (progress) progress->phase("validating geometry");
    note_geometry_problems(tx, result.report);
    const char* extract = layer.geometry == GeometryKind::polygon ? "3" : layer.geometry == GeometryKind::line ? "2" : "1";
    std::string fixed = layer.geometry == GeometryKind::point ? "g" : "ST_Multi(g)";
    tx.exec("UPDATE stage SET fixed = (SELECT NULLIF(" + fixed + ", 'GEOMETRYCOLLECTION EMPTY'::geometry) FROM "
            "(SELECT CASE WHEN ST_IsValid(geom) THEN geom ELSE ST_CollectionExtract(ST_MakeValid(geom), " +
            extract + ") END AS g) x) WHERE geom IS NOT NULL");
    tx.exec("UPDATE stage SET fixed = NULL WHERE ST_IsEmpty(fixed)");
    tx.exec("CREATE INDEX ON stage USING gist (fixed)");
    tx.exec("ANALYZE stage");

    if (layer.geometry == GeometryKind::polygon) {
      if (progress) progress->phase("checking overlaps");
      note_overlaps(tx, options, result.report);
      if (progress) progress->phase("checking gaps");
      note_gaps(tx, options, result.report);
    }

    if (options.dry_run) {
      result.outcome = LoadOutcome::validated;
      return result;  // tx rolls back: nothing was written
    }
    if (result.report.errors() > 0 && !options.force) {
      tx.abort();
      result.outcome = LoadOutcome::refused;
      record_end("refused");
      return result;
    }

    if (progress) progress->phase("publishing");
    const std::string table(layer.table);
    auto inserted = tx.exec_params(
        "INSERT INTO " + table + " (version_id, layer" + quote_ident_list(layer, "") + ", geom) "
        "SELECT $1, $2" + quote_ident_list(layer, "r.") + ", s.fixed FROM stage s "
        "CROSS JOIN LATERAL jsonb_populate_record(NULL::" + table + ", s.attrs) r "
        "WHERE s.attrs_ok AND s.fixed IS NOT NULL",
        result.version_id, layer_name);
    result.features_published = static_cast<std::int64_t>(inserted.affected_rows());
    if (result.features_published == 0) {
      tx.abort();
      result.report.error("nothing_to_publish", "", "no feature is fit to publish");
      result.outcome = LoadOutcome::refused;
      record_end("refused");
      return result;
    }
    if (result.features_published < result.features_read)
      result.report.warning("left_out", "",
                            std::to_string(result.features_read - result.features_published) +
                                " features with errors were left out (--force)");

    auto previous = tx.exec_params(
        "SELECT version_id FROM gis.published_layer WHERE layer = $1 FOR UPDATE", layer_name);
    if (!previous.empty()) {
      result.previous_version_id = previous[0][0].as<std::int64_t>();
      tx.exec_params("UPDATE gis.layer_version SET state = 'superseded' WHERE version_id = $1",
                     result.previous_version_id);
    }
    tx.exec_params(
        "INSERT INTO gis.published_layer (layer, version_id) VALUES ($1, $2) "
        "ON CONFLICT (layer) DO UPDATE SET version_id = EXCLUDED.version_id, published_at = now()",
        layer_name, result.version_id);
    tx.exec_params(
        "UPDATE gis.layer_version SET state = 'published', feature_count = $2, error_count = $3, "
        "warning_count = $4, forced = $5, published_at = now(), report = $6::jsonb WHERE version_id = $1",
        result.version_id, result.features_published, static_cast<std::int64_t>(result.report.errors()),
        static_cast<std::int64_t>(result.report.warnings()), options.force && result.report.errors() > 0,
        result.report.to_json().dump());
    tx.exec_params(
        "INSERT INTO gis.publish_event (layer, version_id, action, by_user) VALUES ($1, $2, 'publish', $3)",
        layer_name, result.version_id, options.loaded_by);
    tx.commit();
    result.outcome = LoadOutcome::published;
    return result;
  } catch (...) {
    try {
      db_->conn.unprepare("ng911_stage_feature");
    } catch (...) {
      // Never prepared, or the connection is gone.
    }
    if (!options.dry_run && result.version_id != 0) {
      try {
        record_end("failed");
      } catch (...) {
        // The connection itself is gone; the version stays 'loading' and status shows it.
      }
    }
    throw;
  }
}

std::int64_t GisStore::rollback(const LayerSpec& layer, std::optional<std::int64_t> to, const std::string& by) {
  const std::string layer_name(layer.name);
  pqxx::work tx(db_->conn);
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('ng911-gis:' || $1))", layer_name);
  auto current = tx.exec_params("SELECT version_id FROM gis.published_layer WHERE layer = $1 FOR UPDATE", layer_name);
  if (current.empty()) throw GisError("layer " + layer_name + " has never been published: nothing to roll back");
  const auto cur = current[0][0].as<std::int64_t>();
  std::int64_t target = 0;
  if (to) {
    auto v = tx.exec_params("SELECT layer, state FROM gis.layer_version WHERE version_id = $1", *to);
    if (v.empty()) throw GisError("there is no version " + std::to_string(*to));
    if (v[0][0].as<std::string>() != layer_name)
      throw GisError("version " + std::to_string(*to) + " is of layer " + v[0][0].as<std::string>() + ", not " + layer_name);
    auto state = v[0][1].as<std::string>();
    if (state != "superseded" && state != "rolled_back" && state != "published")
      throw GisError("version " + std::to_string(*to) + " was never published (" + state + ")");
    target = *to;
  } else {
    auto prev = tx.exec_params(
        "SELECT max(version_id) FROM gis.layer_version WHERE layer = $1 AND version_id < $2 AND state = 'superseded'",
        layer_name, cur);
    if (prev[0][0].is_null())
      throw GisError("layer " + layer_name + ": no version was published before version " + std::to_string(cur));
    target = prev[0][0].as<std::int64_t>();
  }
  if (target == cur) return cur;
  tx.exec_params("UPDATE gis.layer_version SET state = 'rolled_back' WHERE version_id = $1", cur);
  tx.exec_params("UPDATE gis.layer_version SET state = 'published' WHERE version_id = $1", target);
  tx.exec_params("UPDATE gis.published_layer SET version_id = $2, published_at = now() WHERE layer = $1",
                 layer_name, target);
  tx.exec_params("INSERT INTO gis.publish_event (layer, version_id, action, by_user) VALUES ($1, $2, 'rollback', $3)",
                 layer_name, target, by);
  tx.commit();
  return target;
}

std::vector<VersionInfo> GisStore::versions(const LayerSpec* layer, int limit) {
  pqxx::read_transaction tx(db_->conn);
  auto rows = tx.exec_params(
      "SELECT version_id, layer, state, feature_count, error_count, warning_count, forced, loaded_by, "
      "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'), "
      "to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"'), source_file "
      "FROM gis.layer_version WHERE $1::text IS NULL OR layer = $1 ORDER BY version_id DESC LIMIT $2",
      layer ? std::optional<std::string>(std::string(layer->name)) : std::nullopt, limit);
  std::vector<VersionInfo> out;
  for (const auto& r : rows)
    out.push_back(VersionInfo{r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                              r[3].as<std::int64_t>(), r[4].as<std::int64_t>(), r[5].as<std::int64_t>(),
                              r[6].as<bool>(), r[7].as<std::string>(), as_text(r[8]), as_text(r[9]),
                              r[10].as<std::string>()});
  return out;
}

std::optional<std::int64_t> GisStore::published_version(const LayerSpec& layer) {
  pqxx::read_transaction tx(db_->conn);
  auto r = tx.exec_params("SELECT version_id FROM gis.published_layer WHERE layer = $1", std::string(layer.name));
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

}  // namespace ng911::gis
