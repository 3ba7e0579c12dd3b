#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <ogr_geometry.h>

#include "gis/source_reader.h"

using namespace ng911::gis;

namespace {

std::string data(const std::string& name) { return std::string(NG911_TEST_DATA_DIR) + "/gis/" + name; }

struct ReadAll {
  std::vector<SourceFeature> features;
  ValidationReport report;
};

ReadAll read_all(const std::string& file, const std::string& layer = "PsapPolygon", SourceOptions options = {}) {
  options.path = data(file);
  SourceReader reader(*find_layer(layer), options);
  ReadAll out;
  while (auto f = reader.next(out.report)) out.features.push_back(std::move(*f));
  return out;
}

OGREnvelope envelope_of(const std::string& wkb_hex) {
  std::vector<unsigned char> wkb(wkb_hex.size() / 2);
  for (std::size_t i = 0; i < wkb.size(); ++i) wkb[i] = static_cast<unsigned char>(std::stoi(wkb_hex.substr(2 * i, 2), nullptr, 16));
  OGRGeometry* g = nullptr;
  BOOST_REQUIRE(OGRGeometryFactory::createFromWkb(wkb.data(), nullptr, &g, wkb.size()) == OGRERR_NONE);
  OGREnvelope env;
  g->getEnvelope(&env);
  BOOST_TEST(std::string(g->getGeometryName()) == "MULTIPOLYGON");
  OGRGeometryFactory::destroyGeometry(g);
  return env;
}

std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const GisError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(source_reader)

BOOST_AUTO_TEST_CASE(reads_nena_geojson) {
  auto r = read_all("psap-grid4.geojson");
  BOOST_TEST(r.features.size() == 4u);
  BOOST_TEST(r.report.errors() == 0u);
  const LayerSpec& psap = *find_layer("PsapPolygon");
  std::size_t name = 0;
  for (std::size_t i = 0; i < psap.fields.size(); ++i)
    if (psap.fields[i].name == "DsplayName") name = i;
  BOOST_TEST(*r.features[0].values[name] == "Grid4 PSAP 0");
  BOOST_TEST(r.features[0].label == "feature 0 (Grid4 PSAP 0)");
  auto env = envelope_of(*r.features[0].wkb_hex);
  BOOST_TEST(env.MinX == -97.75, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(env.MinY == 30.26, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(reprojects_to_wgs84) {
  auto r = read_all("psap-grid4-3857.geojson");
  BOOST_TEST(r.report.errors() == 0u);
  BOOST_TEST_REQUIRE(r.features.size() == 4u);
  auto env = envelope_of(*r.features[3].wkb_hex);
  BOOST_TEST(env.MinX == -97.74, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(env.MinY == 30.27, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(env.MaxY == 30.28, boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(catches_a_file_that_misstates_its_crs) {
  auto r = read_all("psap-wrong-crs.geojson");
  BOOST_TEST(r.report.count("wrong_crs") == 4u);
  BOOST_TEST(!r.features[0].wkb_hex.has_value());
  SourceOptions o;
  o.source_srs = "EPSG:3857";
  auto fixed = read_all("psap-wrong-crs.geojson", "PsapPolygon", o);
  BOOST_TEST(fixed.report.errors() == 0u);
}

BOOST_AUTO_TEST_CASE(maps_differently_named_fields) {
  SourceOptions o;
  o.mapping = parse_field_mapping(*find_layer("PsapPolygon"),
                                  {"DsplayName=AGENCY_NAME", "ServiceURI=ROUTE_URI", "ES_NGUID=NGUID",
                                   "Agency_ID=AGENCY", "DateUpdate=UPDATED"},
                                  {"ServiceURN=urn:emergency:service:sos.psap", "DiscrpAgID=gis.example.net"});
  auto r = read_all("psap-renamed-fields.geojson", "PsapPolygon", o);
  BOOST_TEST_REQUIRE(r.features.size() == 4u);
  const auto& v = r.features[2].values;
  const LayerSpec& psap = *find_layer("PsapPolygon");
  for (std::size_t i = 0; i < psap.fields.size(); ++i) {
    if (psap.fields[i].name == "DsplayName") BOOST_TEST(*v[i] == "Renamed PSAP 2");
    if (psap.fields[i].name == "ServiceURI") BOOST_TEST(*v[i] == "sip:psap-2@test.example.net");
    if (psap.fields[i].name == "ServiceURN") BOOST_TEST(*v[i] == "urn:emergency:service:sos.psap");
    if (psap.fields[i].name == "State") BOOST_TEST(*v[i] == "TX");  // same name, other case
    if (psap.fields[i].name == "DateUpdate") BOOST_TEST(*v[i] == "2026-03-01");
    if (psap.fields[i].name == "Expire") BOOST_TEST(!v[i].has_value());
  }
}

BOOST_AUTO_TEST_CASE(refuses_unusable_input_with_a_clear_message) {
  BOOST_TEST(message([] { read_all("no-such-file.geojson"); }).find("cannot open the file") != std::string::npos);
  BOOST_TEST(message([] { read_all("not-gis.geojson"); }).find("not a GIS vector format") != std::string::npos);
  BOOST_TEST(message([] { read_all("empty.geojson"); }).find("contains no features") != std::string::npos);
  BOOST_TEST(message([] {
               SourceOptions o;
               o.mapping.source_field["DsplayName"] = "NO_SUCH";
               read_all("psap-grid4.geojson", "PsapPolygon", o);
             }).find("the source has no field 'NO_SUCH'") != std::string::npos);
  BOOST_TEST(message([] {
               SourceOptions o;
               o.source_layer = "other";
               read_all("psap-grid4.geojson", "PsapPolygon", o);
             }).find("no layer 'other'") != std::string::npos);
  BOOST_TEST(message([] {
               SourceOptions o;
               o.source_srs = "EPSG:nonsense";
               read_all("psap-grid4.geojson", "PsapPolygon", o);
             }).find("not a CRS") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_geometry_type_is_an_error) {
  auto r = read_all("points.geojson");
  BOOST_TEST(r.report.count("wrong_geometry_type") == 1u);
  auto as_points = read_all("points.geojson", "SiteStructureAddressPoint");
  BOOST_TEST(as_points.report.count("wrong_geometry_type") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(validation_report)

BOOST_AUTO_TEST_CASE(counts_and_prints) {
  ValidationReport r;
  r.error("missing_field", "feature 1 (A)", "DsplayName is required but empty");
  r.add(Issue{Severity::warning, "gap", "between feature 1, feature 2", "area covered by no boundary", 12.5,
              LonLat{-97.7, 30.2}});
  BOOST_TEST(r.errors() == 1u);
  BOOST_TEST(r.warnings() == 1u);
  std::ostringstream s;
  r.print(s);
  BOOST_TEST(s.str().find("ERROR missing_field (1)") != std::string::npos);
  BOOST_TEST(s.str().find("area 12.5 m²; at 30.200000, -97.700000") != std::string::npos);
  auto j = r.to_json();
  BOOST_TEST(j["issues"][1]["area_m2"].get<double>() == 12.5);
}

BOOST_AUTO_TEST_SUITE_END()
