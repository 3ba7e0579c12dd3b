// Integration tests of loading, validating, publishing and rolling back on a real PostGIS
// database (the test_db fixture; each test case gets a database of its own).
#define BOOST_TEST_MODULE ng911 GIS store integration tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>

#include <pqxx/pqxx>

#include "gis/gis_store.h"
#include "support/test_database.h"

using namespace ng911::gis;
using ng911::test::TestDatabase;

namespace {

std::string data(const std::string& name) { return std::string(NG911_TEST_DATA_DIR) + "/gis/" + name; }

// Area of the WGS 84 quadrangle between two meridians and two parallels, by the closed form
// for the ellipsoid: independent of PostGIS, which computed the loader's figure.
double quadrangle_area_m2(double lon1, double lon2, double lat1, double lat2) {
  const double a = 6378137.0, f = 1 / 298.257223563;
  const double b = a * (1 - f), e2 = f * (2 - f), e = std::sqrt(e2);
  auto q = [&](double lat) {
    double s = std::sin(lat * M_PI / 180);
    return s / (1 - e2 * s * s) + std::log((1 + e * s) / (1 - e * s)) / (2 * e);
  };
  return b * b * (lon2 - lon1) * M_PI / 180 / 2 * (q(lat2) - q(lat1));
}

struct Fixture {
  TestDatabase db;
  GisStore store{db.conninfo()};

  LoadResult load(const std::string& file, LoadOptions options = {}, const std::string& layer = "PsapPolygon") {
    SourceOptions source;
    source.path = data(file);
    SourceReader reader(*find_layer(layer), source);
    if (options.loaded_by.empty()) options.loaded_by = "test";
    return store.load(*find_layer(layer), reader, source.path, options);
  }

  pqxx::result query(const std::string& sql) {
    pqxx::connection c(db.conninfo());
    pqxx::read_transaction tx(c);
    return tx.exec(sql);
  }
  std::int64_t scalar(const std::string& sql) { return query(sql)[0][0].as<std::int64_t>(); }
};

const Issue* first(const ValidationReport& r, const std::string& code) {
  for (const auto& i : r.issues())
    if (i.code == code) return &i;
  return nullptr;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(publish, Fixture)

BOOST_AUTO_TEST_CASE(publishes_a_valid_layer) {
  auto r = load("psap-grid4.geojson");
  BOOST_TEST(r.report.errors() == 0u);
  BOOST_TEST(r.report.warnings() == 0u);
  BOOST_TEST((r.outcome == LoadOutcome::published));
  BOOST_TEST(r.features_published == 4);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.current_service_boundary WHERE layer = 'PsapPolygon'") == 4);
  auto row = query("SELECT dsplayname, serviceuri, to_char(dateupdate AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), "
                   "ST_AsText(ST_PointOnSurface(geom)) FROM gis.current_service_boundary "
                   "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(-97.735, 30.275), 4326))");
  BOOST_TEST_REQUIRE(row.size() == 1u);
  BOOST_TEST(row[0][0].as<std::string>() == "Grid4 PSAP 3");
  BOOST_TEST(row[0][1].as<std::string>() == "sip:psap-3@test.example.net");
  BOOST_TEST(row[0][2].as<std::string>() == "2026-03-01 12:00");
  auto v = query("SELECT state, feature_count, loaded_by, source_sha256 IS NOT NULL FROM gis.layer_version");
  BOOST_TEST(v[0][0].as<std::string>() == "published");
  BOOST_TEST(v[0][1].as<int>() == 4);
  BOOST_TEST(v[0][2].as<std::string>() == "test");
  BOOST_TEST(v[0][3].as<bool>());
  BOOST_TEST(scalar("SELECT count(*) FROM gis.publish_event WHERE action = 'publish'") == 1);
}

BOOST_AUTO_TEST_CASE(reprojected_source_lands_in_place) {
  auto r = load("psap-grid4-3857.geojson");
  BOOST_TEST((r.outcome == LoadOutcome::published));
  BOOST_TEST(query("SELECT dsplayname FROM gis.current_service_boundary WHERE "
                   "ST_Contains(geom, ST_SetSRID(ST_MakePoint(-97.745, 30.275), 4326))")[0][0]
                 .as<std::string>() == "Mercator PSAP 2");
}

BOOST_AUTO_TEST_CASE(dry_run_writes_nothing) {
  LoadOptions o;
  o.dry_run = true;
  auto r = load("psap-grid4.geojson", o);
  BOOST_TEST((r.outcome == LoadOutcome::validated));
  BOOST_TEST(scalar("SELECT count(*) FROM gis.layer_version") == 0);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.service_boundary") == 0);
}

BOOST_AUTO_TEST_CASE(unchanged_file_is_skipped_when_asked) {
  load("psap-grid4.geojson");
  LoadOptions o;
  o.if_changed = true;
  auto r = load("psap-grid4.geojson", o);
  BOOST_TEST((r.outcome == LoadOutcome::unchanged));
  BOOST_TEST(scalar("SELECT count(*) FROM gis.layer_version") == 1);
  auto changed = load("psap-grid9.geojson", o);
  BOOST_TEST((changed.outcome == LoadOutcome::published));
}

BOOST_AUTO_TEST_CASE(layers_are_versioned_independently) {
  load("psap-grid4.geojson");
  load("psap-grid9.geojson", {}, "PolicePolygon");
  BOOST_TEST(scalar("SELECT count(*) FROM gis.current_service_boundary WHERE layer = 'PsapPolygon'") == 4);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.current_service_boundary WHERE layer = 'PolicePolygon'") == 9);
}

BOOST_AUTO_TEST_CASE(export_round_trip) {
  load("psap-grid4.geojson");
  auto path = std::filesystem::temp_directory_path() / ("ng911-export-" + db.name() + ".geojson");
  std::filesystem::remove(path);
  auto e = store.export_layer(*find_layer("PsapPolygon"), std::nullopt, path.string());
  BOOST_TEST(e.features == 4);
  SourceOptions source;
  source.path = path.string();
  SourceReader reader(*find_layer("PsapPolygon"), source);
  ValidationReport report;
  int n = 0;
  while (auto f = reader.next(report)) {
    ++n;
    BOOST_TEST(f->label.find("Grid4 PSAP") != std::string::npos);
  }
  BOOST_TEST(n == 4);
  BOOST_TEST(report.errors() == 0u);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(civic_layers_load_into_their_tables) {
  BOOST_TEST((load("a2-counties.geojson", {}, "A2").outcome == LoadOutcome::published));
  BOOST_TEST((load("address-points.geojson", {}, "SiteStructureAddressPoint").outcome == LoadOutcome::published));
  BOOST_TEST((load("road-centerlines.geojson", {}, "RoadCenterLine").outcome == LoadOutcome::published));
  BOOST_TEST(query("SELECT county FROM gis.current_admin_area WHERE layer = 'CountyOrEquivalent' AND "
                   "ST_Contains(geom, ST_SetSRID(ST_MakePoint(-97.7431, 30.2672), 4326))")[0][0]
                 .as<std::string>() == "Travis");
  BOOST_TEST(scalar("SELECT sum(add_number) FROM gis.current_address_point WHERE st_name = 'Congress'") == 202);
  BOOST_TEST(scalar("SELECT toaddr_r FROM gis.current_road_centerline ORDER BY fromaddr_l DESC LIMIT 1") == 298);
  BOOST_TEST(query("SELECT GeometryType(geom) FROM gis.current_road_centerline LIMIT 1")[0][0].as<std::string>() ==
             "MULTILINESTRING");
  // The same points as PSAP boundaries are the wrong geometry type.
  BOOST_TEST(load("address-points.geojson").report.count("wrong_geometry_type") == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(validation, Fixture)

BOOST_AUTO_TEST_CASE(finds_the_gap_with_its_area_and_a_point_inside) {
  auto r = load("psap-gap.geojson");
  BOOST_TEST((r.outcome == LoadOutcome::refused));
  BOOST_TEST(r.report.count("gap") == 1u);
  BOOST_TEST(r.report.count("overlap") == 0u);
  const Issue* gap = first(r.report, "gap");
  BOOST_TEST_REQUIRE(gap != nullptr);
  BOOST_TEST((gap->severity == Severity::error));
  double expected = quadrangle_area_m2(-97.74, -97.73, 30.27, 30.28);
  BOOST_TEST(*gap->area_m2 == expected, boost::test_tools::tolerance(0.001));
  BOOST_TEST(gap->where->lon > -97.74);
  BOOST_TEST(gap->where->lon < -97.73);
  BOOST_TEST(gap->where->lat > 30.27);
  BOOST_TEST(gap->where->lat < 30.28);
  BOOST_TEST(gap->feature.find("Frame PSAP") != std::string::npos);
  // Nothing was published, and the refusal is on record.
  BOOST_TEST(scalar("SELECT count(*) FROM gis.published_layer") == 0);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.service_boundary") == 0);
  BOOST_TEST(query("SELECT state FROM gis.layer_version")[0][0].as<std::string>() == "refused");
}

BOOST_AUTO_TEST_CASE(tolerance_turns_small_gaps_into_warnings) {
  LoadOptions o;
  o.tolerance_m2 = 2e6;
  auto r = load("psap-gap.geojson", o);
  BOOST_TEST((r.outcome == LoadOutcome::published));
  BOOST_TEST(r.report.errors() == 0u);
  BOOST_TEST(r.report.warnings() == 1u);
  BOOST_TEST((first(r.report, "gap")->severity == Severity::warning));
}

BOOST_AUTO_TEST_CASE(finds_overlaps_within_one_service_urn_only) {
  auto r = load("psap-overlap.geojson");
  BOOST_TEST((r.outcome == LoadOutcome::refused));
  BOOST_TEST_REQUIRE(r.report.count("overlap") == 1u);
  const Issue* o = first(r.report, "overlap");
  BOOST_TEST(o->feature.find("West PSAP") != std::string::npos);
  BOOST_TEST(o->feature.find("East PSAP") != std::string::npos);
  BOOST_TEST(*o->area_m2 == quadrangle_area_m2(-97.74, -97.738, 30.26, 30.27), boost::test_tools::tolerance(0.001));
  BOOST_TEST(o->where->lon > -97.74);
  BOOST_TEST(o->where->lon < -97.738);
}

BOOST_AUTO_TEST_CASE(reports_each_attribute_error) {
  auto r = load("psap-bad-attributes.geojson");
  BOOST_TEST((r.outcome == LoadOutcome::refused));
  BOOST_TEST(r.report.count("missing_field") == 1u);
  BOOST_TEST(r.report.count("bad_value") == 5u);
  BOOST_TEST(r.report.count("duplicate_id") == 1u);
  std::ostringstream s;
  r.report.print(s);
  for (const char* text : {"DsplayName is required", "ServiceURI 'psap one at example'", "ServiceURN 'urn:service:'",
                           "ES_NGUID 'PSAP-3'", "DateUpdate '03/01/2026'", "State 'Texas'"})
    BOOST_TEST(s.str().find(text) != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(force_publishes_without_the_bad_features) {
  LoadOptions o;
  o.force = true;
  auto r = load("psap-bad-attributes.geojson", o);
  BOOST_TEST((r.outcome == LoadOutcome::published));
  BOOST_TEST(r.features_published == 1);
  BOOST_TEST(query("SELECT dsplayname FROM gis.current_service_boundary")[0][0].as<std::string>() == "Good PSAP");
  BOOST_TEST(query("SELECT forced FROM gis.layer_version")[0][0].as<bool>());
}

BOOST_AUTO_TEST_CASE(invalid_geometry_has_reason_and_location) {
  auto r = load("psap-bowtie.geojson");
  BOOST_TEST((r.outcome == LoadOutcome::refused));
  const Issue* bad = first(r.report, "invalid_geometry");
  BOOST_TEST_REQUIRE(bad != nullptr);
  BOOST_TEST(bad->message.find("Self-intersection") != std::string::npos);
  BOOST_TEST(bad->where->lon == -97.745, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(bad->where->lat == 30.265, boost::test_tools::tolerance(1e-6));
  LoadOptions o;
  o.force = true;
  auto forced = load("psap-bowtie.geojson", o);
  BOOST_TEST(forced.features_published == 2);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.current_service_boundary WHERE ST_IsValid(geom)") == 2);
}

BOOST_AUTO_TEST_CASE(refused_load_leaves_published_data_untouched) {
  auto v1 = load("psap-grid4.geojson");
  auto bad = load("psap-overlap.geojson");
  BOOST_TEST((bad.outcome == LoadOutcome::refused));
  BOOST_TEST(scalar("SELECT version_id FROM gis.published_layer") == v1.version_id);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.current_service_boundary") == 4);
}

BOOST_AUTO_TEST_CASE(schema_matches_the_layer_catalogue) {
  for (const auto& layer : all_layers()) {
    std::string table(layer.table.substr(layer.table.find('.') + 1));
    auto cols = query("SELECT column_name, is_nullable FROM information_schema.columns "
                      "WHERE table_schema = 'gis' AND table_name = '" + table + "'");
    std::map<std::string, bool> nullable;
    for (const auto& c : cols) nullable[c[0].as<std::string>()] = c[1].as<std::string>() == "YES";
    for (const auto& f : layer.fields) {
      BOOST_TEST_CONTEXT(layer.name << "." << f.name) {
        BOOST_TEST_REQUIRE(nullable.contains(f.column()));
        // A column may be NOT NULL only where every layer stored in the table requires it.
        if (!nullable[f.column()]) BOOST_TEST(f.required);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(versions, Fixture)

BOOST_AUTO_TEST_CASE(rollback_returns_to_the_previous_version) {
  auto v1 = load("psap-grid4.geojson");
  auto v2 = load("psap-grid9.geojson");
  BOOST_TEST(v2.previous_version_id == v1.version_id);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.current_service_boundary") == 9);
  const LayerSpec& psap = *find_layer("PsapPolygon");
  BOOST_TEST(store.rollback(psap, std::nullopt, "test") == v1.version_id);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.current_service_boundary") == 4);
  BOOST_TEST(query("SELECT state FROM gis.layer_version WHERE version_id = " + std::to_string(v2.version_id))[0][0]
                 .as<std::string>() == "rolled_back");
  // Nothing was published before v1.
  BOOST_CHECK_THROW(store.rollback(psap, std::nullopt, "test"), GisError);
  // Forward again to v2 by number.
  BOOST_TEST(store.rollback(psap, v2.version_id, "test") == v2.version_id);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.current_service_boundary") == 9);
  BOOST_TEST(scalar("SELECT count(*) FROM gis.publish_event WHERE action = 'rollback'") == 2);
  auto history = store.versions(&psap);
  BOOST_TEST(history.size() == 2u);
  BOOST_TEST(history[0].state == "published");
}

BOOST_AUTO_TEST_CASE(rollback_refuses_what_was_never_published) {
  const LayerSpec& psap = *find_layer("PsapPolygon");
  BOOST_CHECK_THROW(store.rollback(psap, std::nullopt, "test"), GisError);
  load("psap-grid4.geojson");
  auto refused = load("psap-gap.geojson");
  BOOST_CHECK_THROW(store.rollback(psap, refused.version_id, "test"), GisError);
  BOOST_CHECK_THROW(store.rollback(psap, 999999, "test"), GisError);
  BOOST_CHECK_THROW(store.rollback(*find_layer("PolicePolygon"), std::nullopt, "test"), GisError);
}

// A reader querying throughout a publish sees exactly one version, whole: never a mix, never a
// half-loaded layer.
BOOST_AUTO_TEST_CASE(publish_is_atomic_for_a_concurrent_reader) {
  auto v1 = load("psap-grid4.geojson");
  std::atomic<bool> done{false};
  std::atomic<int> saw_old{0}, saw_new{0}, saw_mixed{0};
  std::atomic<std::int64_t> v2_id{0};
  std::thread reader([&] {
    pqxx::connection c(db.conninfo());
    // Bounded: the publish takes well under a second; stop after 60 s whatever happens.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      bool last = done.load();
      pqxx::nontransaction tx(c);
      auto r = tx.exec("SELECT count(*), count(DISTINCT version_id), min(version_id) "
                       "FROM gis.current_service_boundary WHERE layer = 'PsapPolygon'");
      auto n = r[0][0].as<int>(), versions = r[0][1].as<int>();
      auto v = r[0][2].as<std::int64_t>();
      if (versions == 1 && v == v1.version_id && n == 4) ++saw_old;
      else if (versions == 1 && v != v1.version_id && n == 9) ++saw_new;
      else ++saw_mixed;
      if (last) break;
    }
  });
  auto v2 = load("psap-grid9.geojson");
  v2_id = v2.version_id;
  done = true;
  reader.join();
  BOOST_TEST(saw_mixed.load() == 0);
  BOOST_TEST(saw_old.load() > 0);
  BOOST_TEST(saw_new.load() > 0);
  BOOST_TEST(scalar("SELECT version_id FROM gis.published_layer") == v2_id.load());
}

BOOST_AUTO_TEST_SUITE_END()
