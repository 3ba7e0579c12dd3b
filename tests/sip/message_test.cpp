// SIP messages as the ESRP sees them: an emergency INVITE with a multipart PIDF-LO, NENA i3
// header fields, editing and serialising, stream framing, URIs.
#include <boost/test/unit_test.hpp>

#include "support/test_files.h"


#include "sip/body.h"
#include "sip/builder.h"
#include "sip/proxy_checks.h"

using namespace ng911::sip;

namespace {

std::string crlf(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sip_message)

BOOST_AUTO_TEST_CASE(emergency_invite_with_pidf_lo) {
  Message m = Message::parse(ng911::test::emergency_invite());
  BOOST_TEST_REQUIRE(m.ok(), m.error());
  BOOST_TEST(m.method() == "INVITE");
  BOOST_TEST((m.parsed_request_uri().scheme == Scheme::urn));
  BOOST_TEST(m.parsed_request_uri().nid == "service");
  BOOST_TEST(m.parsed_request_uri().nss == "sos");
  BOOST_TEST(!check_request(m).has_value());
  auto geo = m.geolocation();
  BOOST_TEST_REQUIRE(geo.size() == 1u);
  BOOST_TEST(geo[0].uri.scheme_name == "cid");
  auto parts = body_parts(m);
  BOOST_TEST(parts.size() == 2u);
  const BodyPart* pidf = find_by_content_id(parts, geo[0].uri.text);
  BOOST_TEST_REQUIRE(pidf != nullptr);
  BOOST_TEST(parse_media_type(pidf->content_type).is("application", "pidf+xml"));
  BOOST_TEST(pidf->body.find("<gml:pos>30.2672 -97.7431</gml:pos>") != std::string_view::npos);
  BOOST_TEST(pidf->body.ends_with("</presence>"));  // the CRLF before a delimiter is the delimiter's
  BOOST_TEST(find_by_type(parts, "application", "sdp")->body.starts_with("v=0\r\n"));
  auto info = m.call_info();
  BOOST_TEST(info[0].param("purpose")->value == "emergency-CallId");
  BOOST_TEST(info[0].uri.nss.starts_with("uid:callid:"));
  auto rp = m.resource_priority();
  BOOST_TEST(rp[0].ns == "esnet");
  BOOST_TEST(rp[0].priority == "1");
  BOOST_TEST(m.value(HeaderId::geolocation_routing) == "yes");
  BOOST_TEST(m.top_via().param("rport") != nullptr);
  BOOST_TEST(!m.top_via().param("rport")->has_value);
}

BOOST_AUTO_TEST_CASE(nested_multipart_and_bad_multipart) {
  std::string inner = crlf("--in\nContent-Type: application/pidf+xml\nContent-ID: <loc@x>\n\n<presence/>\n--in--\n");
  std::string body = crlf("preamble\n--out\nContent-Type: text/plain\n\nhello\n--out\nContent-Type: multipart/mixed; boundary=\"in\"\n\n") +
                     inner + crlf("--out--\n");
  auto parts = split_multipart(body, "out");
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(parts[0].body == "hello");
  BOOST_TEST(parts[1].parts.size() == 1u);
  BOOST_TEST(find_by_content_id(parts, "cid:loc@x")->body == "<presence/>");
  BOOST_CHECK_THROW(split_multipart("no boundary here", "out"), SyntaxError);
  BOOST_CHECK_THROW(split_multipart(crlf("--out\nContent-Type: text/plain\n\nunterminated"), "out"), SyntaxError);
  BOOST_CHECK_THROW(split_multipart(crlf("--out\nno separator"), "out"), SyntaxError);
}

BOOST_AUTO_TEST_CASE(proxy_edits_round_trip) {
  Message m = Message::parse(ng911::test::emergency_invite());
  auto b = MessageBuilder::edit(m);
  b.push_via("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKesrp1")
      .replace(HeaderId::max_forwards, std::to_string(*m.max_forwards() - 1))
      .add_top("Route", "<sip:psap-48453@psap.example.net;lr>")
      .add("History-Info", "<urn:service:sos>;index=1")
      .request_uri("urn:service:sos");
  Message out = Message::parse(b.str());
  BOOST_TEST_REQUIRE(out.ok(), out.error());
  BOOST_TEST(out.vias().size() == 2u);
  BOOST_TEST(out.top_via().branch() == "z9hG4bKesrp1");
  BOOST_TEST(*out.max_forwards() == 69u);
  BOOST_TEST(out.route().front().uri.host == "psap.example.net");
  BOOST_TEST(out.body() == m.body());  // byte-exact
  BOOST_TEST(out.history_info().size() == 1u);
  // And back: pop our Via as a response passes through.
  auto back = MessageBuilder::edit(out).pop_via();
  Message popped = Message::parse(back.str());
  BOOST_TEST(popped.vias().size() == 1u);
  BOOST_TEST(popped.top_via().branch() == "z9hG4bK74bf9");
}

BOOST_AUTO_TEST_CASE(pop_one_value_of_a_comma_list) {
  Message m = Message::parse(crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2\n"
                                  "From: <sip:a@x>;tag=1\nTo: <sip:b@y>;tag=2\nCall-ID: c1\nCSeq: 1 INVITE\nContent-Length: 0\n\n"));
  BOOST_TEST_REQUIRE(m.ok(), m.error());
  Message popped = Message::parse(MessageBuilder::edit(m).pop_via().str());
  BOOST_TEST(popped.vias().size() == 1u);
  BOOST_TEST(popped.top_via().host == "b.example.com");
}

// A stamped top Via (received, rport) put in place: every view of the message must come out as
// a fresh parse of the same bytes gives it, whether the via-parm grows or shrinks, and also when
// it is the first of several in one Via field.
BOOST_AUTO_TEST_CASE(replace_top_via_moves_every_view) {
  const std::string via_line = "Via: SIP/2.0/UDP a.example.com:5060;branch=z9hG4bKa1;rport, SIP/2.0/TCP b.example.com;branch=z9hG4bKb2\n";
  std::string text = crlf("INVITE sip:psap@example.net SIP/2.0\n" + via_line +
                          "v: SIP/2.0/UDP c.example.com;branch=z9hG4bKc3\n"
                          "f: <sip:caller@example.com>;tag=1\nTo: <sip:psap@example.net>\ni: call-1@example.com\n"
                          "CSeq: 7 INVITE\nMax-Forwards: 70\nContent-Type: text/plain\nContent-Length: 5\n\nhello");
  for (std::string stamped : {std::string("SIP/2.0/UDP a.example.com:5060;branch=z9hG4bKa1;rport=40001;received=192.0.2.7"),
                              std::string("SIP/2.0/UDP a;branch=z9hG4bKa1")}) {
    Message m = Message::parse(text + "junk");  // bytes after the message stay counted apart
    BOOST_TEST_REQUIRE(m.ok(), m.error());
    std::size_t consumed_before = m.consumed();
    m.replace_top_via(stamped);
    std::string expected = text;
    std::string old_parm = "SIP/2.0/UDP a.example.com:5060;branch=z9hG4bKa1;rport";
    expected.replace(expected.find(old_parm), old_parm.size(), stamped);
    Message fresh = Message::parse(expected + "junk");
    BOOST_TEST_REQUIRE(fresh.ok(), fresh.error());
    BOOST_TEST(m.bytes() == fresh.bytes());
    BOOST_TEST(m.consumed() == fresh.consumed());
    BOOST_TEST(m.consumed() - consumed_before == stamped.size() - old_parm.size());
    BOOST_TEST(m.method() == "INVITE");
    BOOST_TEST(m.request_uri() == "sip:psap@example.net");
    BOOST_TEST(m.version() == "SIP/2.0");
    BOOST_TEST(m.body() == "hello");
    BOOST_TEST_REQUIRE(m.headers().size() == fresh.headers().size());
    for (std::size_t i = 0; i < m.headers().size(); ++i) {
      BOOST_TEST(m.headers()[i].name == fresh.headers()[i].name);
      BOOST_TEST(m.headers()[i].value == fresh.headers()[i].value);
    }
    BOOST_TEST(m.top_via().text == stamped);
    auto vias = m.vias();
    BOOST_TEST_REQUIRE(vias.size() == 3u);
    BOOST_TEST(vias[1].host == "b.example.com");
    BOOST_TEST(vias[2].host == "c.example.com");
    BOOST_TEST(m.call_id() == "call-1@example.com");
    BOOST_TEST(m.from().tag() == "1");
  }
}

BOOST_AUTO_TEST_CASE(response_to_a_request) {
  Message req = Message::parse(ng911::test::emergency_invite());
  Message res = Message::parse(MessageBuilder::response_to(req, 486, "Busy Here", "esrp42").str());
  BOOST_TEST_REQUIRE(res.ok(), res.error());
  BOOST_TEST(res.status() == 486);
  BOOST_TEST(res.to().tag() == "esrp42");
  BOOST_TEST(res.from().tag() == "9fxced76sl");
  BOOST_TEST(res.call_id() == req.call_id());
  BOOST_TEST(res.cseq().number == 31862u);
  BOOST_TEST(res.top_via().branch() == "z9hG4bK74bf9");
  BOOST_TEST(res.body().empty());
  Message trying = Message::parse(MessageBuilder::response_to(req, 100, "Trying", "x").str());
  BOOST_TEST(trying.to().tag().empty());  // no tag on 100
}

BOOST_AUTO_TEST_CASE(new_body_gets_its_length) {
  auto b = MessageBuilder::request("MESSAGE", "sip:psap@example.net");
  b.add("Via", "SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKm1").add("From", "<sip:a@example.com>;tag=1")
      .add("To", "<sip:psap@example.net>").add("Call-ID", "m1").add("CSeq", "1 MESSAGE").add("Max-Forwards", "70")
      .body("text/plain;charset=UTF-8", "Help, fire at 100 Congress Ave");
  Message m = Message::parse(b.str(), {.stream = true});
  BOOST_TEST_REQUIRE(m.ok(), m.error());
  BOOST_TEST(m.body() == "Help, fire at 100 Congress Ave");
  BOOST_TEST(m.content_type()->param_value("charset") == "UTF-8");
}

BOOST_AUTO_TEST_CASE(stream_framing) {
  std::string one = ng911::test::emergency_invite();
  std::string two = one + one.substr(0, 100);
  BOOST_TEST(*stream_frame_length(two) == one.size());
  BOOST_TEST(!stream_frame_length(one.substr(0, one.size() - 1)).has_value());
  BOOST_TEST(!stream_frame_length(one.substr(0, 50)).has_value());
  BOOST_TEST(*stream_frame_length("\r\n\r\n" + one) == one.size() + 4);  // keep-alive CRLFs
  BOOST_CHECK_THROW(stream_frame_length(crlf("OPTIONS sip:a@b SIP/2.0\nVia: x\n\n")), SyntaxError);
  BOOST_CHECK_THROW(stream_frame_length(std::string(70000, 'a')), SyntaxError);
  Message no_length = Message::parse(crlf("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\n"
                                          "To: <sip:a@b>\nCall-ID: x\nCSeq: 1 OPTIONS\n\n"),
                                     {.stream = true});
  BOOST_TEST(!no_length.ok());
}

BOOST_AUTO_TEST_CASE(uris) {
  Uri ipv6 = parse_uri("sips:[2001:db8::10]:5061;transport=tls");
  BOOST_TEST(ipv6.ipv6);
  BOOST_TEST(ipv6.host == "2001:db8::10");
  BOOST_TEST(*ipv6.port == 5061u);
  BOOST_TEST(ipv6.param("transport")->value == "tls");
  Uri tel = parse_uri("tel:+1-512-555-0100;phone-context=example.com");
  BOOST_TEST(tel.number == "+1-512-555-0100");
  Uri urn = parse_uri("urn:service:sos.police");
  BOOST_TEST(urn.nid == "service");
  BOOST_TEST(urn.nss == "sos.police");
  Uri headers = parse_uri("sip:alice@atlanta.example.com?subject=project%20x&priority=urgent");
  BOOST_TEST(headers.headers == "subject=project%20x&priority=urgent");
  BOOST_CHECK_THROW(parse_uri("sip:alice@"), SyntaxError);
  BOOST_CHECK_THROW(parse_uri("sip:alice@host:99999"), SyntaxError);
  BOOST_CHECK_THROW(parse_uri("sip:al ice@host"), SyntaxError);
  BOOST_CHECK_THROW(parse_uri("sip:alice@[2001:db8::1"), SyntaxError);
  BOOST_CHECK_THROW(parse_uri("sip:a%zz@host"), SyntaxError);
}

BOOST_AUTO_TEST_CASE(compact_forms_and_reason) {
  Message m = Message::parse(crlf("BYE sip:a@b SIP/2.0\nv: SIP/2.0/UDP h;branch=z9hG4bK1\nf: <sip:a@b>;tag=1\nt: <sip:c@d>;tag=2\n"
                                  "i: bye1\nCSeq: 2 BYE\nMax-Forwards: 70\nReason: SIP ;cause=480 ;text=\"Temporarily Unavailable\"\nl: 0\n\n"));
  BOOST_TEST_REQUIRE(m.ok(), m.error());
  BOOST_TEST(m.call_id() == "bye1");
  auto r = m.reasons();
  BOOST_TEST(r[0].protocol == "SIP");
  BOOST_TEST(find_param(r[0].params, "cause")->value == "480");
  BOOST_TEST(unquote(find_param(r[0].params, "text")->value) == "Temporarily Unavailable");
}

BOOST_AUTO_TEST_SUITE_END()
