// The ECRF/LVF logic against a hand-built snapshot: every request type, every shape, civic
// matching and validation, errors, recursion decisions. Every LoST document produced is
// validated against the RFC 5222 RELAX NG schema with xmllint.
#define BOOST_TEST_MODULE ng911 ECRF tests
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "ecrf/ecrf.h"

using namespace ng911::ecrf;

namespace {

constexpr double kLon0 = -97.75, kLat0 = 30.26, kCell = 0.01;

Boundary cell(int i, int col, int row, const std::string& urn, const std::string& prefix = "psap") {
  Boundary b;
  b.layer = "PsapPolygon";
  b.service_urn = urn;
  b.es_nguid = "urn:emergency:uid:gis:" + prefix + ":" + std::to_string(i) + ":test.example.net";
  b.display_name = prefix + " " + std::to_string(i);
  b.uri = "sip:" + prefix + "-" + std::to_string(i) + "@test.example.net";
  b.service_number = "911";
  b.agency_id = prefix + std::to_string(i) + ".test.example.net";
  b.last_updated = "2026-03-01T12:00:00Z";
  double x0 = kLon0 + col * kCell, y0 = kLat0 + row * kCell;
  Polygon p;
  p.outer() = {{x0, y0}, {x0, y0 + kCell}, {x0 + kCell, y0 + kCell}, {x0 + kCell, y0}, {x0, y0}};
  b.geom.push_back(p);
  return b;
}

MultiPolygon box(double x0, double y0, double x1, double y1) {
  Polygon p;
  p.outer() = {{x0, y0}, {x0, y1}, {x1, y1}, {x1, y0}, {x0, y0}};
  return {p};
}

CivicIndex civic_data() {
  CivicIndex c;
  auto n = normalize_civic;
  c.add(AddressPoint{n("US"), n("TX"), n("Travis"), n("Austin"), "", "", "78701", "", n("Congress Avenue"), 100, "",
                     {-97.7431, 30.2672}});
  c.add(AddressPoint{n("US"), n("TX"), n("Travis"), n("Austin"), "", "", "78701", "", n("Congress Avenue"), 102, "",
                     {-97.7430, 30.2672}});
  c.add(RoadSegment{n("US"), n("TX"), n("Travis"), n("Congress Avenue"), n("Austin"), n("Austin"), "78701", "78701",
                    101, 199, 100, 198, "O", "E", {{-97.7431, 30.2660}, {-97.7431, 30.2680}}});
  c.add(AdminArea{1, n("US"), n("TX"), "", "", "", "", box(-98, 30, -97, 31)});
  c.add(AdminArea{2, n("US"), n("TX"), n("Travis"), "", "", "", box(-97.76, 30.25, -97.72, 30.29)});
  c.add(AdminArea{3, n("US"), n("TX"), n("Travis"), n("Austin"), "", "", box(-97.7499, 30.2601, -97.7401, 30.2699)});
  return c;
}

std::shared_ptr<const Snapshot> test_snapshot() {
  std::vector<Boundary> b;
  for (int i = 0; i < 4; ++i) b.push_back(cell(i, i % 2, i / 2, "urn:emergency:service:sos.psap"));
  // Police cover the west column only.
  b.push_back(cell(10, 0, 0, "urn:emergency:service:responder.police", "police"));
  b.push_back(cell(11, 0, 1, "urn:emergency:service:responder.police", "police"));
  return Snapshot::from(std::move(b), civic_data());
}

EcrfConfig test_config() {
  EcrfConfig c;
  c.server_id = "ecrf-a.test.example";
  c.service_aliases["urn:service:sos.police"] = "urn:emergency:service:responder.police";
  Peer peer{"ecrf-b.test.example", "http://127.0.0.1:9/", box(-96.8, 30.2, -96.6, 30.4)};
  c.peers.push_back(peer);
  return c;
}

bool valid_lost(const std::string& xml) {
  char path[] = "/tmp/ng911-ecrf-test-XXXXXX";
  int fd = mkstemp(path);
  BOOST_REQUIRE(fd >= 0);
  { std::ofstream(path) << xml; }
  close(fd);
  std::string cmd = std::string("xmllint --noout --relaxng '") + NG911_LOST_RNG + "' " + path + " 2>/dev/null";
  int rc = std::system(cmd.c_str());
  std::remove(path);
  return rc == 0;
}

struct Fixture {
  std::shared_ptr<const Snapshot> snap = test_snapshot();
  EcrfConfig config = test_config();

  std::string ask(const std::string& request, QueryOutcome* outcome = nullptr) {
    Ecrf ecrf(config, [this] { return snap; });
    QueryOutcome local;
    auto result = ecrf.handle(request, outcome ? *outcome : local);
    BOOST_REQUIRE(std::holds_alternative<Answer>(result));
    std::string body = std::get<Answer>(result).body;
    BOOST_TEST(valid_lost(body), "schema-invalid response: " << body);
    return body;
  }
};

std::string point(double lat, double lon, const std::string& id = "loc1", const std::string& srs = "urn:ogc:def:crs:EPSG::4326") {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "<location id=\"%s\" profile=\"geodetic-2d\"><gml:Point xmlns:gml=\"http://www.opengis.net/gml\" "
                "srsName=\"%s\"><gml:pos>%.7f %.7f</gml:pos></gml:Point></location>",
                id.c_str(), srs.c_str(), lat, lon);
  return buf;
}

std::string find(const std::string& location, const std::string& service = "urn:service:sos",
                 const std::string& attrs = "", const std::string& extra = "") {
  return "<findService xmlns=\"urn:ietf:params:xml:ns:lost1\"" + attrs + ">" + location + "<service>" + service +
         "</service>" + extra + "</findService>";
}

std::string shape(const std::string& inner) {
  return "<location id=\"s1\" profile=\"geodetic-2d\">" + inner + "</location>";
}

std::string circle(double lat, double lon, double radius) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "<gs:Circle xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:gml=\"http://www.opengis.net/gml\" "
                "srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>%.7f %.7f</gml:pos>"
                "<gs:radius uom=\"urn:ogc:def:uom:EPSG::9001\">%g</gs:radius></gs:Circle>",
                lat, lon, radius);
  return buf;
}

std::string civic(const std::string& elements, const std::string& id = "c1") {
  return "<location id=\"" + id + "\" profile=\"civic\"><civicAddress xmlns=\"urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr\">" +
         elements + "</civicAddress></location>";
}

bool has(const std::string& body, const std::string& text) { return body.find(text) != std::string::npos; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(find_service_geodetic, Fixture)

BOOST_AUTO_TEST_CASE(point_maps_to_its_psap) {
  auto r = ask(find(point(30.275, -97.735)));
  BOOST_TEST(has(r, "<uri>sip:psap-3@test.example.net</uri>"));
  BOOST_TEST(has(r, "<displayName xml:lang=\"en\">psap 3</displayName>"));
  BOOST_TEST(has(r, "<service>urn:service:sos</service>"));
  BOOST_TEST(has(r, "<serviceBoundaryReference source=\"ecrf-a.test.example\" key=\"urn:emergency:uid:gis:psap:3:test.example.net\"/>"));
  BOOST_TEST(has(r, "<serviceNumber>911</serviceNumber>"));
  BOOST_TEST(has(r, "lastUpdated=\"2026-03-01T12:00:00Z\""));
  BOOST_TEST(has(r, "sourceId=\"urn:emergency:uid:gis:psap:3:test.example.net\""));
  BOOST_TEST(has(r, "<path><via source=\"ecrf-a.test.example\"/></path><locationUsed id=\"loc1\"/>"));
}

BOOST_AUTO_TEST_CASE(point_on_a_shared_edge_or_vertex_is_deterministic) {
  // West/east edge between psap 0 and psap 1; the vertex shared by all four.
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(has(ask(find(point(30.265, -97.74))), "sip:psap-0@"));
    BOOST_TEST(has(ask(find(point(30.27, -97.74))), "sip:psap-0@"));
    BOOST_TEST(has(ask(find(point(30.27, -97.735))), "sip:psap-1@"));  // edge of 1 and 3
  }
}

BOOST_AUTO_TEST_CASE(circle_goes_to_the_largest_overlap) {
  // 48 m east of the 0|1 edge, radius 200 m: most of it lies in psap 1.
  BOOST_TEST(has(ask(find(shape(circle(30.265, -97.7395, 200)))), "sip:psap-1@"));
  BOOST_TEST(has(ask(find(shape(circle(30.265, -97.7405, 200)))), "sip:psap-0@"));
}

BOOST_AUTO_TEST_CASE(circles_are_metres_on_the_ground) {
  auto poly = to_polygon(GeoCircle{{10.0, 60.0}, 1000.0});
  double min_lon = 1e9, max_lon = -1e9, min_lat = 1e9, max_lat = -1e9;
  for (auto& p : poly.exterior) {
    min_lon = std::min(min_lon, p.lon), max_lon = std::max(max_lon, p.lon);
    min_lat = std::min(min_lat, p.lat), max_lat = std::max(max_lat, p.lat);
  }
  // At 60°N a degree of longitude is about half a degree of latitude on the ground.
  BOOST_TEST((max_lat - min_lat) / 2 == 1000.0 / 111412.0, boost::test_tools::tolerance(0.005));
  BOOST_TEST((max_lon - min_lon) / 2 == 1000.0 / 55800.0, boost::test_tools::tolerance(0.005));
}

BOOST_AUTO_TEST_CASE(ellipse_orientation_is_clockwise_from_north) {
  auto extent = [](const GeoPolygon& p) {
    double lon = 0, lat = 0;
    for (auto& v : p.exterior) lon = std::max(lon, std::abs(v.lon - 10.0)), lat = std::max(lat, std::abs(v.lat - 45.0));
    return std::pair{lon * 78847.0, lat * 111132.0};  // metres per degree at 45°
  };
  auto [x0, y0] = extent(to_polygon(GeoEllipse{{10.0, 45.0}, 1000, 200, 0}));
  BOOST_TEST(y0 == 1000.0, boost::test_tools::tolerance(0.01));
  BOOST_TEST(x0 == 200.0, boost::test_tools::tolerance(0.02));
  auto [x90, y90] = extent(to_polygon(GeoEllipse{{10.0, 45.0}, 1000, 200, 90}));
  BOOST_TEST(x90 == 1000.0, boost::test_tools::tolerance(0.01));
  BOOST_TEST(y90 == 200.0, boost::test_tools::tolerance(0.02));
  // East-west ellipse across the 0|1 edge, centred a little east: psap 1.
  auto r = ask(find(shape(
      "<gs:Ellipse xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:gml=\"http://www.opengis.net/gml\" "
      "srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>30.265 -97.7398</gml:pos>"
      "<gs:semiMajorAxis uom=\"urn:ogc:def:uom:EPSG::9001\">300</gs:semiMajorAxis>"
      "<gs:semiMinorAxis uom=\"urn:ogc:def:uom:EPSG::9001\">50</gs:semiMinorAxis>"
      "<gs:orientation uom=\"urn:ogc:def:uom:EPSG::9102\">90</gs:orientation></gs:Ellipse>")));
  BOOST_TEST(has(r, "sip:psap-1@"));
}

BOOST_AUTO_TEST_CASE(arcband_lies_in_its_sector) {
  // From the shared vertex, 100..300 m, from 0° through 90°: the north-east quadrant (psap 3).
  auto r = ask(find(shape(
      "<gs:ArcBand xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:gml=\"http://www.opengis.net/gml\" "
      "srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>30.27 -97.74</gml:pos>"
      "<gs:innerRadius uom=\"urn:ogc:def:uom:EPSG::9001\">100</gs:innerRadius>"
      "<gs:outerRadius uom=\"urn:ogc:def:uom:EPSG::9001\">300</gs:outerRadius>"
      "<gs:startAngle uom=\"urn:ogc:def:uom:EPSG::9102\">5</gs:startAngle>"
      "<gs:openingAngle uom=\"urn:ogc:def:uom:EPSG::9102\">80</gs:openingAngle></gs:ArcBand>")));
  BOOST_TEST(has(r, "sip:psap-3@"));
  // 180..270: south-west quadrant (psap 0).
  auto sw = ask(find(shape(
      "<gs:ArcBand xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:gml=\"http://www.opengis.net/gml\" "
      "srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>30.27 -97.74</gml:pos>"
      "<gs:innerRadius uom=\"urn:ogc:def:uom:EPSG::9001\">0</gs:innerRadius>"
      "<gs:outerRadius uom=\"urn:ogc:def:uom:EPSG::9001\">300</gs:outerRadius>"
      "<gs:startAngle uom=\"urn:ogc:def:uom:EPSG::9102\">185</gs:startAngle>"
      "<gs:openingAngle uom=\"urn:ogc:def:uom:EPSG::9102\">80</gs:openingAngle></gs:ArcBand>")));
  BOOST_TEST(has(sw, "sip:psap-0@"));
}

BOOST_AUTO_TEST_CASE(polygon_goes_to_the_largest_overlap) {
  // Mostly in psap 2 (north-west), a sliver in psap 3.
  auto r = ask(find(shape(
      "<gml:Polygon xmlns:gml=\"http://www.opengis.net/gml\" srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:exterior>"
      "<gml:LinearRing><gml:posList>30.272 -97.748 30.278 -97.748 30.278 -97.738 30.272 -97.738 30.272 -97.748"
      "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>")));
  BOOST_TEST(has(r, "sip:psap-2@"));
  // The same ring written as gml:pos elements.
  auto r2 = ask(find(shape(
      "<gml:Polygon xmlns:gml=\"http://www.opengis.net/gml\" srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:exterior>"
      "<gml:LinearRing><gml:pos>30.272 -97.739</gml:pos><gml:pos>30.278 -97.739</gml:pos><gml:pos>30.278 -97.731</gml:pos>"
      "<gml:pos>30.272 -97.731</gml:pos><gml:pos>30.272 -97.739</gml:pos></gml:LinearRing></gml:exterior></gml:Polygon>")));
  BOOST_TEST(has(r2, "sip:psap-3@"));
}

BOOST_AUTO_TEST_CASE(three_dimensional_forms_are_reduced_to_two) {
  BOOST_TEST(has(ask(find("<location id=\"p3\" profile=\"geodetic-2d\"><gml:Point xmlns:gml=\"http://www.opengis.net/gml\" "
                          "srsName=\"urn:ogc:def:crs:EPSG::4979\"><gml:pos>30.275 -97.735 150</gml:pos></gml:Point></location>")),
                 "sip:psap-3@"));
  BOOST_TEST(has(ask(find(shape("<gs:Sphere xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:gml=\"http://www.opengis.net/gml\" "
                                "srsName=\"urn:ogc:def:crs:EPSG::4979\"><gml:pos>30.275 -97.735 150</gml:pos>"
                                "<gs:radius uom=\"urn:ogc:def:uom:EPSG::9001\">20</gs:radius></gs:Sphere>"))),
                 "sip:psap-3@"));
}

BOOST_AUTO_TEST_CASE(boundary_by_value) {
  auto r = ask(find(point(30.275, -97.735), "urn:service:sos", " serviceBoundary=\"value\""));
  BOOST_TEST(has(r, "<serviceBoundary profile=\"geodetic-2d\"><gml:Polygon xmlns:gml=\"http://www.opengis.net/gml\" srsName=\"urn:ogc:def:crs:EPSG::4326\">"));
  BOOST_TEST(has(r, "30.2700000 -97.7400000"));  // latitude first
  BOOST_TEST(!has(r, "serviceBoundaryReference"));
}

BOOST_AUTO_TEST_CASE(first_supported_location_is_used) {
  std::string other = "<location id=\"x1\" profile=\"geodetic-3d\"><foo xmlns=\"urn:example:foo\"/></location>";
  auto r = ask(find(other + point(30.265, -97.745, "second")));
  BOOST_TEST(has(r, "<locationUsed id=\"second\"/>"));
  BOOST_TEST(has(r, "sip:psap-0@"));
  auto none = ask(find(other + "<location id=\"x2\" profile=\"made-up\"><foo xmlns=\"urn:example:foo\"/></location>"));
  BOOST_TEST(has(none, "<locationProfileUnrecognized unsupportedProfiles=\"geodetic-3d made-up\""));
}

BOOST_AUTO_TEST_CASE(expires_follows_configuration_and_boundary) {
  config.expires = "NO-CACHE";
  BOOST_TEST(has(ask(find(point(30.275, -97.735))), "expires=\"NO-CACHE\""));
  config.expires = "NO-EXPIRATION";
  BOOST_TEST(has(ask(find(point(30.275, -97.735))), "expires=\"NO-EXPIRATION\""));
  std::vector<Boundary> b{cell(0, 0, 0, "urn:emergency:service:sos.psap")};
  b[0].expires = "2027-01-01T00:00:00Z";
  snap = Snapshot::from(b);
  config.expires = "315360000";  // ten years: the boundary's Expire is earlier
  BOOST_TEST(has(ask(find(point(30.265, -97.745))), "expires=\"2027-01-01T00:00:00Z\""));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(services, Fixture)

BOOST_AUTO_TEST_CASE(sub_service_with_its_own_boundaries) {
  auto r = ask(find(point(30.265, -97.745), "urn:service:sos.police"));
  BOOST_TEST(has(r, "<uri>sip:police-10@test.example.net</uri>"));
  BOOST_TEST(has(r, "<service>urn:service:sos.police</service>"));
  BOOST_TEST(!has(r, "serviceSubstitution"));
}

BOOST_AUTO_TEST_CASE(sub_service_without_boundaries_falls_back_to_its_parent) {
  QueryOutcome o;
  auto r = ask(find(point(30.275, -97.735), "urn:service:sos.fire"), &o);
  BOOST_TEST(has(r, "<uri>sip:psap-3@test.example.net</uri>"));
  BOOST_TEST(has(r, "<service>urn:service:sos</service>"));
  BOOST_TEST(has(r, "<warnings source=\"ecrf-a.test.example\"><serviceSubstitution"));
  BOOST_TEST(o.substituted);
}

BOOST_AUTO_TEST_CASE(nena_service_urns) {
  BOOST_TEST(has(ask(find(point(30.275, -97.735), "urn:emergency:service:sos.psap")), "sip:psap-3@"));
  BOOST_TEST(has(ask(find(point(30.265, -97.745), "urn:emergency:service:responder.police")), "sip:police-10@"));
}

BOOST_AUTO_TEST_CASE(unknown_service_is_not_implemented) {
  BOOST_TEST(has(ask(find(point(30.275, -97.735), "urn:service:counseling")), "<serviceNotImplemented"));
  BOOST_TEST(has(ask(find(point(30.275, -97.735), "tel:911")), "<serviceNotImplemented"));
}

BOOST_AUTO_TEST_CASE(outside_every_boundary) {
  auto r = ask(find(point(40.0, -100.0)));
  BOOST_TEST(has(r, "source=\"ecrf-a.test.example\"><notFound message="));
  config.default_mappings["urn:service:sos"] = {"sip:default-psap@test.example.net", "State default PSAP"};
  auto d = ask(find(point(40.0, -100.0)));
  BOOST_TEST(has(d, "<uri>sip:default-psap@test.example.net</uri>"));
  BOOST_TEST(has(d, "<defaultMappingReturned"));
  BOOST_TEST(has(d, "State default PSAP"));
}

BOOST_AUTO_TEST_CASE(police_outside_its_column_falls_back_to_default_or_not_found) {
  BOOST_TEST(has(ask(find(point(30.265, -97.735), "urn:service:sos.police")), "<notFound"));
}

BOOST_AUTO_TEST_CASE(list_services) {
  auto all = ask("<listServices xmlns=\"urn:ietf:params:xml:ns:lost1\"/>");
  BOOST_TEST(has(all, "<serviceList>urn:emergency:service:responder urn:emergency:service:sos urn:service:sos</serviceList>"));
  auto sos = ask("<listServices xmlns=\"urn:ietf:params:xml:ns:lost1\"><service>urn:service:sos</service></listServices>");
  BOOST_TEST(has(sos, "<serviceList>urn:service:sos.police</serviceList>"));
  BOOST_TEST(has(ask("<listServices xmlns=\"urn:ietf:params:xml:ns:lost1\"><service>urn:service:counseling</service></listServices>"),
                 "serviceNotImplemented"));
}

BOOST_AUTO_TEST_CASE(list_services_by_location) {
  auto west = ask("<listServicesByLocation xmlns=\"urn:ietf:params:xml:ns:lost1\">" + point(30.265, -97.745) +
                  "<service>urn:service:sos</service></listServicesByLocation>");
  BOOST_TEST(has(west, "<serviceList>urn:service:sos.police</serviceList>"));
  BOOST_TEST(has(west, "<locationUsed id=\"loc1\"/>"));
  auto east = ask("<listServicesByLocation xmlns=\"urn:ietf:params:xml:ns:lost1\">" + point(30.265, -97.735) +
                  "<service>urn:service:sos</service></listServicesByLocation>");
  BOOST_TEST(has(east, "<serviceList"));
  BOOST_TEST(!has(east, "urn:service:sos.police"));
  auto everything = ask("<listServicesByLocation xmlns=\"urn:ietf:params:xml:ns:lost1\">" + point(30.265, -97.745) +
                        "</listServicesByLocation>");
  BOOST_TEST(has(everything, "urn:service:sos urn:service:sos.police"));
}

BOOST_AUTO_TEST_CASE(get_service_boundary) {
  auto r = ask("<getServiceBoundary xmlns=\"urn:ietf:params:xml:ns:lost1\" key=\"urn:emergency:uid:gis:psap:2:test.example.net\"/>");
  BOOST_TEST(has(r, "<getServiceBoundaryResponse"));
  BOOST_TEST(has(r, "<gml:posList>30.2700000 -97.7500000"));
  BOOST_TEST(has(ask("<getServiceBoundary xmlns=\"urn:ietf:params:xml:ns:lost1\" key=\"nope\"/>"), "<notFound"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(civic_and_lvf, Fixture)

BOOST_AUTO_TEST_CASE(address_point_match_with_validation) {
  QueryOutcome o;
  auto r = ask(find(civic("<country>US</country><A1>TX</A1><A2>Travis</A2><A3>  austin </A3><RD>Congress</RD>"
                          "<STS>Avenue</STS><HNO>100</HNO><FLR>2</FLR>"),
                    "urn:service:sos", " validateLocation=\"true\""),
               &o);
  BOOST_TEST(has(r, "<uri>sip:psap-0@test.example.net</uri>"));
  BOOST_TEST(has(r, "<valid>civ:country civ:A1 civ:A2 civ:A3 civ:RD civ:STS civ:HNO</valid>"));
  BOOST_TEST(has(r, "<unchecked>civ:FLR</unchecked>"));
  BOOST_TEST(!has(r, "<invalid>"));
  BOOST_TEST(o.method == "address point");
}

BOOST_AUTO_TEST_CASE(normalisation_of_suffixes_case_and_spacing) {
  QueryOutcome o;
  ask(find(civic("<country>us</country><A1>tx</A1><A3>AUSTIN</A3><RD>congress  ave.</RD><HNO>102</HNO>")), &o);
  BOOST_TEST(o.method == "address point");
  BOOST_TEST(o.result == "mapping");
}

BOOST_AUTO_TEST_CASE(road_range_interpolation) {
  QueryOutcome o;
  auto r = ask(find(civic("<country>US</country><A1>TX</A1><A3>Austin</A3><RD>Congress Avenue</RD><HNO>151</HNO>"),
                    "urn:service:sos", " validateLocation=\"true\""),
               &o);
  BOOST_TEST(o.method == "road centerline");
  BOOST_TEST(has(r, "civ:HNO"));
  BOOST_TEST(!has(r, "<invalid>"));
  // 152 is even: the right side's range (100-198) takes it too.
  ask(find(civic("<country>US</country><A1>TX</A1><RD>Congress Ave</RD><HNO>152</HNO>")), &o);
  BOOST_TEST(o.method == "road centerline");
}

BOOST_AUTO_TEST_CASE(wrong_house_number_and_street_are_invalid) {
  auto r = ask(find(civic("<country>US</country><A1>TX</A1><A3>Austin</A3><RD>Congress</RD><STS>Ave</STS><HNO>999</HNO>"),
                    "urn:service:sos", " validateLocation=\"true\""));
  BOOST_TEST(has(r, "<invalid>civ:HNO</invalid>"));
  BOOST_TEST(has(r, "<uri>"));  // routed on the street
  QueryOutcome o;
  auto s = ask(find(civic("<country>US</country><A1>TX</A1><A3>Austin</A3><RD>Nowhere</RD><STS>Lane</STS><HNO>1</HNO>"),
                    "urn:service:sos", " validateLocation=\"true\""),
               &o);
  BOOST_TEST(has(s, "<invalid>civ:RD civ:STS</invalid>"));
  BOOST_TEST(has(s, "civ:A3"));
  BOOST_TEST(o.method == "A3");  // routed on the municipality
  BOOST_TEST(has(s, "sip:psap-0@"));
}

BOOST_AUTO_TEST_CASE(unknown_community_is_invalid_and_routing_falls_back) {
  QueryOutcome o;
  auto r = ask(find(civic("<country>US</country><A1>TX</A1><A2>Travis</A2><A3>Atlantis</A3><RD>Main</RD><HNO>1</HNO>"),
                    "urn:service:sos", " validateLocation=\"true\""),
               &o);
  BOOST_TEST(has(r, "<invalid>civ:A3 civ:RD</invalid>"), r);
  BOOST_TEST(has(r, "<unchecked>civ:HNO</unchecked>"), r);  // no street to check it on
  BOOST_TEST(o.method == "A2");
  auto far = ask(find(civic("<country>FR</country><A1>Paris</A1>")));
  BOOST_TEST(has(far, "<notFound"));
}

BOOST_AUTO_TEST_CASE(geodetic_locations_are_not_validated) {
  auto r = ask(find(point(30.275, -97.735), "urn:service:sos", " validateLocation=\"true\""));
  BOOST_TEST(!has(r, "<locationValidation"));
  BOOST_TEST(has(r, "sip:psap-3@"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(errors_and_recursion, Fixture)

BOOST_AUTO_TEST_CASE(invalid_locations) {
  for (const auto& [location, text] : std::vector<std::pair<std::string, std::string>>{
           {point(91, -97.7), "latitude 91"},
           {point(30.2, -181), "longitude"},
           {point(30.2, -97.7, "l", "urn:ogc:def:crs:EPSG::3857"), "unsupported CRS"},
           {shape(circle(30.27, -97.74, -5)), "radius must be positive"},
           {shape(circle(30.27, -97.74, 3.6e45)), "longer than half the Earth"},
           // lost_request_fuzz: Boost.Geometry's rescaling overflowed on such an ArcBand and threw.
           {shape("<gs:ArcBand xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:gml=\"http://www.opengis.net/gml\" "
                  "srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>15.27 -97.74</gml:pos>"
                  "<gs:innerRadius uom=\"urn:ogc:def:uom:EPSG::9001\">100</gs:innerRadius>"
                  "<gs:outerRadius uom=\"urn:ogc:def:uom:EPSG::9001\">3644444444444444444444444444444444444444444440</gs:outerRadius>"
                  "<gs:startAngle uom=\"urn:ogc:def:uom:EPSG::9102\">0</gs:startAngle>"
                  "<gs:openingAngle uom=\"urn:ogc:def:uom:EPSG::9102\">80</gs:openingAngle></gs:ArcBand>"),
            "outerRadius is longer than half the Earth"},
           {shape("<gml:Point xmlns:gml=\"http://www.opengis.net/gml\" srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>north west</gml:pos></gml:Point>"), "not a number"},
           {shape("<gml:Point xmlns:gml=\"http://www.opengis.net/gml\"><gml:pos>30 -97</gml:pos></gml:Point>"), "no srsName"},
           {shape("<gml:Polygon xmlns:gml=\"http://www.opengis.net/gml\" srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:exterior><gml:LinearRing>"
                  "<gml:posList>30.27 -97.74 30.28 -97.74 30.28 -97.73 30.27 -97.73</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"),
            "not closed"},
           {shape(""), "no shape"},
       }) {
    auto r = ask(find(location));
    BOOST_TEST(has(r, "<locationInvalid"), location);
    BOOST_TEST(has(r, text), r);
  }
}

BOOST_AUTO_TEST_CASE(bad_requests) {
  for (const std::string& body : {std::string("<findService"), std::string("\x01\x02\xff garbage"),
                                  std::string("<findService xmlns=\"urn:example:other\"/>"),
                                  std::string("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><findService xmlns=\"urn:ietf:params:xml:ns:lost1\">&lol;</findService>"),
                                  std::string("<findService xmlns=\"urn:ietf:params:xml:ns:lost1\"><service>urn:service:sos</service></findService>"),
                                  std::string("<findService xmlns=\"urn:ietf:params:xml:ns:lost1\" recursive=\"maybe\">") + point(30.2, -97.7) + "<service>urn:service:sos</service></findService>",
                                  std::string("<getServiceBoundary xmlns=\"urn:ietf:params:xml:ns:lost1\"/>"),
                                  std::string(""),
                                  std::string(200, '<'),
                                  std::string("<findServic\xff\xfe xmlns=\"urn:ietf:params:xml:ns:lost1\"/>"),
                                  find(point(30.2, -97.7), "urn:service:\xc3\x28sos"),
                                  find(point(30.2, -97.7), "urn:service:\x01\x02sos")}) {
    auto r = ask(body);
    BOOST_TEST(has(r, "<badRequest"), body);
  }
  std::string deep = "<findService xmlns=\"urn:ietf:params:xml:ns:lost1\">";
  for (int i = 0; i < 5000; ++i) deep += "<a>";
  BOOST_TEST(has(ask(deep), "<badRequest"));
}

BOOST_AUTO_TEST_CASE(nena_ids_are_read) {
  QueryOutcome o;
  ask(find(point(30.275, -97.735), "urn:service:sos", "",
           "<ext:ids xmlns:ext=\"urn:nena:xml:ns:lostExt\"><ext:callId>urn:emergency:uid:callid:abc:esrp.example</ext:callId>"
           "<ext:incidentTrackingId>urn:emergency:uid:incidentid:xyz:esrp.example</ext:incidentTrackingId></ext:ids>"),
      &o);
  BOOST_TEST(o.call_id == "urn:emergency:uid:callid:abc:esrp.example");
  BOOST_TEST(o.incident_tracking_id == "urn:emergency:uid:incidentid:xyz:esrp.example");
}

BOOST_AUTO_TEST_CASE(loop_is_detected) {
  auto r = ask(find(point(30.275, -97.735), "urn:service:sos", "",
                    "<path><via source=\"ecrf-b.test.example\"/><via source=\"ecrf-a.test.example\"/></path>"));
  BOOST_TEST(has(r, "<loop"));
}

BOOST_AUTO_TEST_CASE(path_is_kept_and_extended) {
  auto r = ask(find(point(30.275, -97.735), "urn:service:sos", "", "<path><via source=\"esrp.test.example\"/></path>"));
  BOOST_TEST(has(r, "<path><via source=\"esrp.test.example\"/><via source=\"ecrf-a.test.example\"/></path>"));
}

BOOST_AUTO_TEST_CASE(iterative_request_gets_a_redirect) {
  auto r = ask(find(point(30.3, -96.7)));
  BOOST_TEST(has(r, "<redirect xmlns=\"urn:ietf:params:xml:ns:lost1\" target=\"ecrf-b.test.example\" source=\"ecrf-a.test.example\""));
}

BOOST_AUTO_TEST_CASE(recursive_request_is_forwarded_with_our_via) {
  Ecrf ecrf(config, [this] { return snap; });
  QueryOutcome o;
  auto result = ecrf.handle(find(point(30.3, -96.7), "urn:service:sos", " recursive=\"true\"",
                                 "<path><via source=\"esrp.test.example\"/></path>"),
                            o);
  BOOST_REQUIRE(std::holds_alternative<Forward>(result));
  const auto& f = std::get<Forward>(result);
  BOOST_TEST(f.peer_uri == "http://127.0.0.1:9/");
  BOOST_TEST(has(f.body, "<path><via source=\"esrp.test.example\"/><via source=\"ecrf-a.test.example\"/></path>"));
  BOOST_TEST(valid_lost(f.body));
  auto first = ecrf.handle(find(point(30.3, -96.7), "urn:service:sos", " recursive=\"true\""), o);
  BOOST_TEST(has(std::get<Forward>(first).body, "<path><via source=\"ecrf-a.test.example\"/></path>"));
  BOOST_TEST(valid_lost(std::get<Forward>(first).body));
  BOOST_TEST(valid_lost(ecrf.peer_timeout("ecrf-b.test.example")));
  BOOST_TEST(valid_lost(ecrf.peer_failed("ecrf-b.test.example", "HTTP 500")));
}

BOOST_AUTO_TEST_SUITE_END()
