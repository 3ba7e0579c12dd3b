#include <boost/test/unit_test.hpp>

#include "gis/field_checks.h"
#include "gis/layer_catalog.h"

using namespace ng911::gis;

BOOST_AUTO_TEST_SUITE(field_checks)

BOOST_AUTO_TEST_CASE(service_uris) {
  BOOST_TEST(!check_service_uri("sip:psap-48453@psap.example.net"));
  BOOST_TEST(!check_service_uri("sips:queue1@psap.example.net:5061;transport=tls"));
  BOOST_TEST(!check_service_uri("sip:[2001:db8::1]:5060"));
  BOOST_TEST(!check_service_uri("sip:192.0.2.10"));
  BOOST_TEST(!check_service_uri("tel:+1-512-555-0100"));
  BOOST_TEST(check_service_uri("psap one at example").has_value());
  BOOST_TEST(check_service_uri("sip:").has_value());
  BOOST_TEST(check_service_uri("sip:@psap.example.net").has_value());
  BOOST_TEST(check_service_uri("sip:user@bad_host").has_value());
  BOOST_TEST(check_service_uri("sip:user@host:port").has_value());
  BOOST_TEST(check_service_uri("https://psap.example.net/").has_value());  // not a call route
  BOOST_TEST(check_service_uri("tel:").has_value());
  BOOST_TEST(check_service_uri("tel:abc").has_value());
  BOOST_TEST(check_service_uri("sip:a b@example.net").has_value());
}

BOOST_AUTO_TEST_CASE(absolute_uris) {
  BOOST_TEST(!check_absolute_uri("https://psap.example.net/vcard/1.vcf"));
  BOOST_TEST(!check_absolute_uri("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"));
  BOOST_TEST(check_absolute_uri("no-scheme").has_value());
  BOOST_TEST(check_absolute_uri("1http://x").has_value());
  BOOST_TEST(check_absolute_uri("http://a b").has_value());
  BOOST_TEST(check_absolute_uri("http://x/%zz").has_value());
  BOOST_TEST(check_absolute_uri("http://x/<y>").has_value());
}

BOOST_AUTO_TEST_CASE(service_urns) {
  BOOST_TEST(!check_service_urn("urn:service:sos"));
  BOOST_TEST(!check_service_urn("urn:service:sos.police"));
  BOOST_TEST(!check_service_urn("URN:Service:SOS.Fire"));
  BOOST_TEST(!check_service_urn("urn:emergency:service:sos.psap"));
  BOOST_TEST(!check_service_urn("urn:emergency:service:responder.ems"));
  BOOST_TEST(check_service_urn("urn:service:").has_value());
  BOOST_TEST(check_service_urn("urn:service:sos..police").has_value());
  BOOST_TEST(check_service_urn("urn:service:sos.-police").has_value());
  BOOST_TEST(check_service_urn("urn:nena:service:sos").has_value());
  BOOST_TEST(check_service_urn("sos.police").has_value());
}

BOOST_AUTO_TEST_CASE(nguids_and_domains) {
  BOOST_TEST(!check_nguid("urn:emergency:uid:gis:PSAP:48453:psap.example.net"));
  BOOST_TEST(check_nguid("PSAP-3").has_value());
  BOOST_TEST(check_nguid("urn:emergency:uid:gis:PSAP::psap.example.net").has_value());
  BOOST_TEST(check_nguid("urn:emergency:uid:gis:PSAP:1:not a domain").has_value());
  BOOST_TEST(!check_domain("psap.example.net"));
  BOOST_TEST(check_domain("localhost").has_value());
  BOOST_TEST(check_domain("-bad.example.net").has_value());
  BOOST_TEST(check_domain("a..b").has_value());
}

BOOST_AUTO_TEST_CASE(timestamps) {
  for (const char* ok : {"2026-03-01", "2026-03-01T12:00Z", "2026-03-01T12:00:00Z", "2026-03-01 12:00:00",
                         "2026-03-01T12:00:00.250-06:00", "2026-03-01T12:00:00+0530", "2026-03-01T12:00:00+05"})
    BOOST_TEST(!check_timestamp(ok), ok);
  for (const char* bad : {"03/01/2026", "2026-13-01", "2026-02-32", "2026-03-01T25:00", "2026-03-01T12:00:00X",
                          "2026-03-01T12", "", "yesterday", "2026-03-01T12:00:00."})
    BOOST_TEST(check_timestamp(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(integers) {
  BOOST_TEST(!check_integer("1200"));
  BOOST_TEST(!check_integer("-5"));
  BOOST_TEST(check_integer("12a").has_value());
  BOOST_TEST(check_integer("99999999999").has_value());
  BOOST_TEST(check_integer("").has_value());
}

BOOST_AUTO_TEST_CASE(field_dispatch) {
  const LayerSpec* psap = find_layer("PsapPolygon");
  BOOST_TEST_REQUIRE(psap != nullptr);
  BOOST_TEST(!check_field(*psap->field("State"), "TX"));
  BOOST_TEST(check_field(*psap->field("State"), "Texas").has_value());
  BOOST_TEST(check_field(*psap->field("DateUpdate"), "soon").has_value());
  const LayerSpec* rcl = find_layer("RoadCenterLine");
  BOOST_TEST(!check_field(*rcl->field("Parity_L"), "O"));
  BOOST_TEST(check_field(*rcl->field("Parity_L"), "X").has_value());
  BOOST_TEST(check_field(*rcl->field("FromAddr_L"), "1O0").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
