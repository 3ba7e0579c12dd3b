// The ESRP's routing inputs: the caller's PIDF-LO found through Geolocation, and the LoST
// findService built from it, answered by the real ECRF code and read back.
#define BOOST_TEST_MODULE ng911 ESRP routing tests
#include <boost/test/unit_test.hpp>

#include "support/test_files.h"


#include "ecrf/ecrf.h"
#include "routing/lost_client.h"
#include "sip/builder.h"

using namespace ng911;
using namespace ng911::esrp;

namespace {

// One PSAP square around downtown Austin, TX, as the ECRF knows it.
std::shared_ptr<const ecrf::Snapshot> austin() {
  ecrf::Boundary b;
  b.layer = "PsapPolygon";
  b.service_urn = "urn:emergency:service:sos.psap";
  b.es_nguid = "urn:emergency:uid:gis:PSAP:48453:psap.example.net";
  b.display_name = "Travis, Texas PSAP";
  b.uri = "sip:psap-48453@psap.example.net";
  b.service_number = "911";
  b.agency_id = "psap.example.net";
  b.last_updated = "2026-01-01T00:00:00Z";
  ecrf::Polygon p;
  p.outer() = {{-97.80, 30.20}, {-97.80, 30.30}, {-97.70, 30.30}, {-97.70, 30.20}, {-97.80, 30.20}};
  b.geom.push_back(p);
  return ecrf::Snapshot::from({b});
}

std::string ask_ecrf(const std::string& request) {
  auto snap = austin();
  ecrf::Ecrf ecrf(ecrf::EcrfConfig{}, [snap] { return snap; });
  ecrf::QueryOutcome outcome;
  auto result = ecrf.handle(request, outcome);
  return std::get<ecrf::Answer>(result).body;
}

std::string with_pidf(const std::string& pidf, const std::string& geolocation = "<cid:loc@example.com>") {
  auto b = sip::MessageBuilder::request("INVITE", "urn:service:sos");
  b.add("Via", "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKr1").add("From", "<sip:c@example.com>;tag=1")
      .add("To", "<urn:service:sos>").add("Call-ID", "r1").add("CSeq", "1 INVITE").add("Max-Forwards", "70")
      .add("Geolocation", geolocation);
  std::string body = "--b\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@example.com>\r\n\r\n" + pidf + "\r\n--b--\r\n";
  b.body("multipart/mixed;boundary=b", body);
  return b.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(esrp_routing)

BOOST_AUTO_TEST_CASE(pidf_lo_point_to_psap_through_the_ecrf) {
  sip::Message invite = sip::Message::parse(ng911::test::emergency_invite());
  CallLocation where = location_of(invite);
  BOOST_TEST_REQUIRE(where.location.has_value());
  BOOST_TEST(where.location->profile == "geodetic-2d");
  BOOST_TEST(where.location->method == "GPS");
  BOOST_TEST(where.location->element == "device");
  auto& shape = std::get<ecrf::GeodeticShape>(where.location->value);
  BOOST_TEST(std::get<ecrf::GeoPoint>(shape).pos.lat == 30.2672);
  std::string request = find_service_request(*where.location, "urn:service:sos", {"urn:emergency:uid:callid:1:esrp.example", ""});
  BOOST_TEST(request.find("<ids xmlns=\"urn:nena:xml:ns:lostExt\"><callId>") != std::string::npos);
  LostAnswer answer = parse_find_service_answer(ask_ecrf(request));
  BOOST_TEST_REQUIRE(answer.mapping.has_value(), answer.error + ": " + answer.message);
  BOOST_TEST(answer.mapping->uris.front() == "sip:psap-48453@psap.example.net");
  BOOST_TEST(answer.mapping->display_name == "Travis, Texas PSAP");
  BOOST_TEST(answer.mapping->service == "urn:service:sos");
}

BOOST_AUTO_TEST_CASE(circle_and_civic_locations) {
  std::string circle =
      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" entity=\"pres:a@b\">"
      "<tuple id=\"t\"><status><gp:geopriv><gp:location-info>"
      "<gs:Circle xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:gml=\"http://www.opengis.net/gml\" "
      "srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>30.25 -97.75</gml:pos>"
      "<gs:radius uom=\"urn:ogc:def:uom:EPSG::9001\">850</gs:radius></gs:Circle>"
      "</gp:location-info><gp:usage-rules/><gp:method>Cell</gp:method></gp:geopriv></status></tuple></presence>";
  CallLocation c = location_of(sip::Message::parse(with_pidf(circle)));
  BOOST_TEST_REQUIRE(c.location.has_value());
  BOOST_TEST(c.location->element == "tuple");
  BOOST_TEST(std::holds_alternative<ecrf::GeoCircle>(std::get<ecrf::GeodeticShape>(c.location->value)));
  auto answer = parse_find_service_answer(ask_ecrf(find_service_request(*c.location, "urn:service:sos")));
  BOOST_TEST_REQUIRE(answer.mapping.has_value(), answer.error);
  BOOST_TEST(answer.mapping->uris.front() == "sip:psap-48453@psap.example.net");

  std::string civic =
      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" "
      "xmlns:ca=\"urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr\" entity=\"pres:a@b\">"
      "<tuple id=\"t\"><status><gp:geopriv><gp:location-info><ca:civicAddress><ca:country>US</ca:country>"
      "<ca:A1>TX</ca:A1><ca:A3>Austin</ca:A3><ca:RD>Congress</ca:RD><ca:STS>Ave</ca:STS><ca:HNO>100</ca:HNO>"
      "</ca:civicAddress></gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>";
  CallLocation v = location_of(sip::Message::parse(with_pidf(civic)));
  BOOST_TEST_REQUIRE(v.location.has_value());
  BOOST_TEST(v.location->profile == "civic");
  BOOST_TEST(std::get<ecrf::CivicAddress>(v.location->value).get("A3") != nullptr);
  // No civic data in this ECRF: the answer is an error, read back as such.
  auto none = parse_find_service_answer(ask_ecrf(find_service_request(*v.location, "urn:service:sos")));
  BOOST_TEST(!none.mapping.has_value());
  BOOST_TEST(none.error == "notFound");
}

// RFC 7459: a <confidence> beside the shape qualifies it; it is not a second shape, and the
// LoST query carries the shape alone.
BOOST_AUTO_TEST_CASE(confidence_beside_the_shape) {
  auto pidf = [](const std::string& confidence) {
    return "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" "
           "xmlns:con=\"urn:ietf:params:xml:ns:geopriv:conf\" entity=\"pres:a@b\">"
           "<device id=\"d\"><gp:geopriv><gp:location-info>"
           "<gs:Circle xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:gml=\"http://www.opengis.net/gml\" "
           "srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>30.25 -97.75</gml:pos>"
           "<gs:radius uom=\"urn:ogc:def:uom:EPSG::9001\">50</gs:radius></gs:Circle>" +
           confidence + "</gp:location-info><gp:usage-rules/></gp:geopriv></device></presence>";
  };
  CallLocation c = location_of(sip::Message::parse(with_pidf(pidf("<con:confidence pdf=\"normal\">68</con:confidence>"))));
  BOOST_TEST_REQUIRE(c.location.has_value());
  BOOST_TEST_REQUIRE(c.location->confidence.has_value());
  BOOST_TEST(*c.location->confidence == 68.0);
  BOOST_TEST(c.location->location_info_xml.find("confidence") == std::string::npos);
  BOOST_TEST(c.problems.empty());
  auto answer = parse_find_service_answer(ask_ecrf(find_service_request(*c.location, "urn:service:sos")));
  BOOST_TEST(answer.mapping.has_value(), answer.error);

  CallLocation odd = location_of(sip::Message::parse(with_pidf(pidf("<con:confidence>lots</con:confidence>"))));
  BOOST_TEST_REQUIRE(odd.location.has_value());  // the shape still routes the call
  BOOST_TEST(!odd.location->confidence.has_value());
  BOOST_TEST_REQUIRE(!odd.problems.empty());
  BOOST_TEST(odd.problems.front().find("RFC 7459") != std::string::npos);
  CallLocation none = location_of(sip::Message::parse(with_pidf(pidf(""))));
  BOOST_TEST_REQUIRE(none.location.has_value());
  BOOST_TEST(!none.location->confidence.has_value());
}

BOOST_AUTO_TEST_CASE(unusable_locations_are_explained) {
  CallLocation bad = location_of(sip::Message::parse(with_pidf("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"/>")));
  BOOST_TEST(!bad.location.has_value());
  BOOST_TEST(!bad.problems.empty());
  CallLocation broken = location_of(sip::Message::parse(with_pidf("<not pidf")));
  BOOST_TEST(!broken.location.has_value());
  BOOST_TEST(broken.problems.front().find("not well-formed") != std::string::npos);
  CallLocation wrong_cid = location_of(sip::Message::parse(with_pidf("<x/>", "<cid:other@example.com>")));
  BOOST_TEST(wrong_cid.problems.front().find("no body part") != std::string::npos);
  CallLocation by_ref = location_of(sip::Message::parse(with_pidf("<x/>", "<https://lis.example.net/loc/123>")));
  BOOST_TEST(by_ref.references.front() == "https://lis.example.net/loc/123");
  sip::Message forbidden = sip::Message::parse(
      sip::MessageBuilder::edit(sip::Message::parse(ng911::test::emergency_invite())).replace(sip::HeaderId::geolocation_routing, "no").str());
  BOOST_TEST(!location_of(forbidden).routing_allowed);
}

BOOST_AUTO_TEST_CASE(answers_that_are_not_mappings) {
  BOOST_TEST(parse_find_service_answer("garbage").error == "malformed");
  BOOST_TEST(parse_find_service_answer("<findServiceResponse xmlns=\"urn:ietf:params:xml:ns:lost1\"/>").error == "malformed");
  auto timeout = parse_find_service_answer(
      "<errors xmlns=\"urn:ietf:params:xml:ns:lost1\" source=\"e.example\"><serverTimeout message=\"no answer\"/></errors>");
  BOOST_TEST(timeout.error == "serverTimeout");
  BOOST_TEST(timeout.message == "no answer");
  auto redirect = parse_find_service_answer(
      "<redirect xmlns=\"urn:ietf:params:xml:ns:lost1\" target=\"ecrf-b.example\" source=\"e.example\"/>");
  BOOST_TEST(redirect.redirect_target == "ecrf-b.example");
}

BOOST_AUTO_TEST_SUITE_END()
