// ng911-psap units: password hashes and cookies, the call view read from an INVITE (PIDF-LO
// shapes, civic address, bad location, i3 headers), and SDP answers.
#define BOOST_TEST_MODULE psap_unit
#include <boost/test/unit_test.hpp>

#include "auth.h"
#include "call_view.h"
#include "psap.h"

using namespace ng911;
using namespace ng911::psap;

namespace {

std::string pidf(const std::string& location_info, const std::string& method = "GPS") {
  return "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
         "xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\" xmlns:gml=\"http://www.opengis.net/gml\" "
         "xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" xmlns:con=\"urn:ietf:params:xml:ns:geopriv:conf\" "
         "xmlns:ca=\"urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr\" "
         "xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" entity=\"pres:c@example.com\"><dm:device id=\"d\">"
         "<gp:geopriv><gp:location-info>" + location_info + "</gp:location-info><gp:method>" + method +
         "</gp:method></gp:geopriv></dm:device></presence>";
}

sip::Message invite(const std::string& pidf_body, const std::string& extra_headers = "") {
  std::string body = "--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=audio 4000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\n"
                     "--b\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@x>\r\n\r\n" + pidf_body + "\r\n--b--\r\n";
  std::string m = "INVITE sip:psap-a@127.0.0.1:5070 SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
                  "From: \"Ann\" <sip:+15125550100@example.com>;tag=1\r\nTo: <urn:service:sos.fire>\r\n"
                  "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:ann@127.0.0.1:5999>\r\nMax-Forwards: 69\r\n"
                  "Geolocation: <cid:loc@x>\r\n" + extra_headers +
                  "Content-Type: multipart/mixed;boundary=b\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return sip::Message::parse(m);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(psap_auth)

BOOST_AUTO_TEST_CASE(hash_verifies_only_the_right_password) {
  std::string h = hash_password("correct horse", 1000);
  BOOST_TEST(h.starts_with("pbkdf2-sha256$1000$"));
  BOOST_TEST(verify_password("correct horse", h));
  BOOST_TEST(!verify_password("correct horsE", h));
  BOOST_TEST(!verify_password("", h));
}

BOOST_AUTO_TEST_CASE(salts_differ_per_hash) {
  BOOST_TEST(hash_password("same", 1000) != hash_password("same", 1000));
}

BOOST_AUTO_TEST_CASE(malformed_stored_values_never_verify) {
  for (const char* stored : {"", "pbkdf2-sha256", "pbkdf2-sha256$x$00$00", "md5$1$00$00", "pbkdf2-sha256$1000$zz$00",
                             "pbkdf2-sha256$1000$0011$0011", "pbkdf2-sha256$99999999999$00$00", "pbkdf2-sha256$1$00$00$00"})
    BOOST_TEST(!verify_password("x", stored), stored);
}

BOOST_AUTO_TEST_CASE(tokens_and_cookies) {
  auto a = new_session_token(), b = new_session_token();
  BOOST_TEST(a.size() == 64u);
  BOOST_TEST(a != b);
  BOOST_TEST(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(cookie_value("a=1; ng911_psap_session=xyz; b=2", "ng911_psap_session").value() == "xyz");
  BOOST_TEST(!cookie_value("a=1; b", "ng911_psap_session").has_value());
  BOOST_TEST(!cookie_value("", "a").has_value());
  BOOST_TEST((parse_role("supervisor") == Role::supervisor));
  BOOST_TEST(!parse_role("admin").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(psap_call_view)

BOOST_AUTO_TEST_CASE(circle_with_confidence) {
  auto v = call_view_of(invite(pidf("<gs:Circle srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>30.5 -97.5</gml:pos>"
                                    "<gs:radius uom=\"urn:ogc:def:uom:EPSG::9001\">50</gs:radius></gs:Circle>"
                                    "<con:confidence pdf=\"normal\">68</con:confidence>")));
  BOOST_TEST(v.location["shape"] == "Circle");
  BOOST_TEST(v.location["lat"].get<double>() == 30.5);
  BOOST_TEST(v.location["lon"].get<double>() == -97.5);
  BOOST_TEST(v.location["uncertainty_m"].get<double>() == 50.0);
  BOOST_TEST(v.location["confidence"].get<double>() == 68.0);
  BOOST_TEST(v.location["method"] == "GPS");
  BOOST_TEST(v.location["source"] == "value");
  BOOST_TEST(v.location["geojson"]["type"] == "Polygon");
  BOOST_TEST(v.location["geojson"]["coordinates"][0].size() > 10u);
  BOOST_TEST(v.service == "urn:service:sos.fire");
  BOOST_TEST(v.caller_name == "Ann");
  BOOST_TEST(v.callback == "+15125550100");
}

BOOST_AUTO_TEST_CASE(point_without_uncertainty) {
  auto v = call_view_of(invite(pidf("<gml:Point srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>30.2 -97.7</gml:pos></gml:Point>")));
  BOOST_TEST(v.location["shape"] == "Point");
  BOOST_TEST(v.location["uncertainty_m"].is_null());
  BOOST_TEST(v.location["confidence"].is_null());
  BOOST_TEST(v.location["geojson"]["type"] == "Point");
}

BOOST_AUTO_TEST_CASE(civic_address) {
  auto v = call_view_of(invite(pidf("<ca:civicAddress><ca:country>US</ca:country><ca:A1>TX</ca:A1><ca:A3>Austin</ca:A3>"
                                    "<ca:HNO>100</ca:HNO><ca:RD>Congress</ca:RD><ca:STS>Avenue</ca:STS></ca:civicAddress>",
                                    "Manual")));
  BOOST_TEST(v.location["profile"] == "civic");
  BOOST_TEST(v.location["civic"]["A3"] == "Austin");
  BOOST_TEST(v.location["address"] == "100 Congress Avenue, Austin, TX, US");
  BOOST_TEST(!v.location.contains("lat"));
}

BOOST_AUTO_TEST_CASE(malformed_pidf_is_a_problem_not_a_failure) {
  auto v = call_view_of(invite("<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"><broken"));
  BOOST_TEST(!v.location.contains("lat"));
  BOOST_TEST(v.location["problems"].size() >= 1u);
  BOOST_TEST(v.caller_uri == "sip:+15125550100@example.com");  // the call itself is intact
}

BOOST_AUTO_TEST_CASE(i3_headers_and_callback) {
  auto v = call_view_of(invite(pidf("<gml:Point><gml:pos>1 2</gml:pos></gml:Point>"),
                               "P-Asserted-Identity: <tel:+15125550199>\r\n"
                               "Call-Info: <urn:emergency:uid:callid:1:e>;purpose=emergency-CallId, "
                               "<urn:emergency:uid:incidentid:2:e>;purpose=emergency-IncidentId\r\n"
                               "Call-Info: <https://adr.example/sub>;purpose=EmergencyCallData.SubscriberInfo\r\n"
                               "History-Info: <urn:service:sos>;index=1, <sip:psap-b@10.0.0.1?Reason=SIP%3Bcause%3D486>;index=1.1, "
                               "<sip:psap-a@127.0.0.1:5070>;index=1.2\r\n"));
  BOOST_TEST(v.callback == "+15125550199");
  BOOST_TEST(v.emergency_call_id == "urn:emergency:uid:callid:1:e");
  BOOST_TEST(v.incident_id == "urn:emergency:uid:incidentid:2:e");
  BOOST_TEST(v.additional_data.size() == 1u);
  BOOST_TEST(v.additional_data[0]["purpose"] == "EmergencyCallData.SubscriberInfo");
  BOOST_TEST(v.history.size() == 3u);
  BOOST_TEST(v.history[1]["reason"] == "Reason=SIP%3Bcause%3D486");
}

BOOST_AUTO_TEST_CASE(location_by_reference_is_kept_for_a_rebid) {
  std::string m = "INVITE sip:psap-a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nFrom: <sip:a@b>;tag=1\r\n"
                  "To: <urn:service:sos>\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
                  "Geolocation: <https://lis.example.net/loc/1>\r\nContent-Length: 0\r\n\r\n";
  auto v = call_view_of(sip::Message::parse(m));
  BOOST_TEST(v.location_references.size() == 1u);
  BOOST_TEST(v.location_references[0] == "https://lis.example.net/loc/1");
  BOOST_TEST(v.callback == "a");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(psap_sdp)

BOOST_AUTO_TEST_CASE(answer_takes_the_offers_first_format) {
  auto a = sdp_answer("v=0\r\nm=audio 4000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n", "127.0.0.1", 40002,
                      "sendonly", 3);
  BOOST_TEST(a.find("m=audio 40002 RTP/AVP 8\r\n") != std::string::npos);
  BOOST_TEST(a.find("a=rtpmap:8 PCMA/8000") != std::string::npos);
  BOOST_TEST(a.find("a=sendonly") != std::string::npos);
  BOOST_TEST(a.find("o=ng911-psap 1 3 IN IP4 127.0.0.1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_offer_gives_pcmu) {
  auto a = sdp_answer("", "::1", 40000, "sendrecv", 1);
  BOOST_TEST(a.find("m=audio 40000 RTP/AVP 0") != std::string::npos);
  BOOST_TEST(a.find("c=IN IP6 ::1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
