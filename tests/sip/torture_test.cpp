// RFC 4475: every SIP torture test message, with the behaviour its section requires of a
// proxy. Valid messages parse (and requests pass the proxy's checks), invalid requests get 400
// (505 for the unknown version), invalid responses are dropped; the transaction,
// application-layer and backward-compatibility messages get their specific treatment.
#define BOOST_TEST_MODULE ng911 SIP torture tests
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>

#include "sip/proxy_checks.h"
#include "support/test_files.h"

using namespace ng911::sip;
namespace fs = std::filesystem;

namespace {

std::string read(const std::string& name) {
  return ng911::test::read_file(std::string(NG911_RFC4475_DIR) + "/" + name + ".dat");
}

struct Expectation {
  int status;  // 0: routed (request) or forwarded/processed (response); -1: dropped response
  const char* why;
};

// RFC 4475 section 3, message by message, for a stateful proxy.
const std::map<std::string, Expectation> kExpected{
    // 3.1.1 valid
    {"wsinv", {0, "short tortuous INVITE"}},
    {"intmeth", {0, "wide range of valid characters"}},
    {"esc01", {0, "valid % escaping"}},
    {"escnull", {0, "escaped nulls in URIs"}},
    {"esc02", {0, "% that is not an escape"}},
    {"lwsdisp", {0, "no LWS between display name and <"}},
    {"longreq", {0, "long header values"}},
    {"dblreq", {0, "extra trailing octets in a datagram"}},
    {"semiuri", {0, "semicolon in the user part"}},
    {"transports", {0, "varied and unknown transports"}},
    {"mpart01", {0, "multipart MIME"}},
    {"unreason", {0, "unusual reason phrase"}},
    {"noreason", {0, "empty reason phrase"}},
    // 3.1.2 invalid
    {"badinv01", {400, "extraneous header field separators"}},
    {"clerr", {400, "Content-Length larger than the message"}},
    {"ncl", {400, "negative Content-Length"}},
    {"scalar02", {400, "overlarge request scalars"}},
    {"scalarlg", {-1, "overlarge response scalars"}},
    {"quotbal", {400, "unterminated quoted display name"}},
    {"ltgtruri", {400, "<> around the Request-URI"}},
    {"lwsruri", {400, "LWS inside the Request-URI"}},
    {"lwsstart", {400, "several SP in the request line"}},
    {"trws", {400, "SP at the end of the request line"}},
    {"escruri", {400, "escaped headers in the Request-URI"}},
    {"baddate", {400, "bad time zone in Date"}},
    {"regbadct", {400, "name-addr URI not in <>"}},
    {"badaspec", {400, "spaces in addr-spec"}},
    {"baddn", {400, "non-token display name"}},
    {"badvers", {505, "unknown SIP version"}},
    {"mismatch01", {400, "start line and CSeq method differ"}},
    {"mismatch02", {400, "unknown method, CSeq mismatch"}},
    {"bigcode", {-1, "response code over 699"}},
    // 3.2 transaction layer
    {"badbranch", {0, "branch without a transaction id: RFC 2543 matching"}},
    // 3.3 application layer
    {"insuf", {400, "missing required header fields"}},
    {"unkscm", {416, "unknown Request-URI scheme"}},
    {"novelsc", {416, "known but atypical scheme a proxy cannot route"}},
    {"unksm2", {0, "unknown schemes in header fields"}},
    {"bext01", {420, "Proxy-Require with unknown extensions"}},
    {"invut", {0, "unknown Content-Type: a proxy forwards"}},
    {"regaut01", {0, "unknown Authorization scheme: a proxy forwards"}},
    {"multi01", {400, "several values in single-value fields"}},
    {"mcl01", {400, "several Content-Length values"}},
    {"bcast", {-1, "200 OK with a broadcast Via"}},
    {"zeromf", {483, "Max-Forwards 0"}},
    {"cparam01", {0, "REGISTER Contact parameters"}},
    {"cparam02", {0, "REGISTER Contact parameters"}},
    {"regescrt", {0, "REGISTER with an escaped header in a Contact URI"}},
    {"sdp01", {0, "unacceptable Accept: a proxy forwards"}},
    // 3.4 backward compatibility
    {"inv2543", {0, "INVITE in RFC 2543 syntax"}},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(rfc4475)

BOOST_AUTO_TEST_CASE(every_message_has_an_expectation) {
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(NG911_RFC4475_DIR)) {
    if (entry.path().extension() != ".dat") continue;
    ++files;
    BOOST_TEST(kExpected.contains(entry.path().stem().string()), entry.path().filename());
  }
  BOOST_TEST(files == 49u);
  BOOST_TEST(kExpected.size() == 49u);
}

BOOST_AUTO_TEST_CASE(each_message_gets_its_treatment) {
  for (const auto& [name, expected] : kExpected) {
    BOOST_TEST_CONTEXT(name << " (" << expected.why << ")") {
      Message m = Message::parse(read(name));
      if (m.is_request()) {
        auto rejection = check_request(m);
        int got = rejection ? rejection->status : 0;
        BOOST_TEST(got == expected.status, "got " << got << (rejection ? " " + rejection->reason : std::string()));
        if (rejection && rejection->status == 420)
          BOOST_TEST(rejection->unsupported == "noProxiesSupportThis, norDoAnyProxiesSupportThis");
      } else {
        bool processed = m.ok() && m.is_response();
        bool forwarded = processed && response_forwardable(m);
        if (expected.status == -1) BOOST_TEST(!forwarded, (m.ok() ? "forwarded" : m.error()));
        else BOOST_TEST(processed, m.error());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(valid_messages_yield_their_values) {
  Message wsinv = Message::parse(read("wsinv"));
  BOOST_REQUIRE(wsinv.ok());
  BOOST_TEST(wsinv.method() == "INVITE");
  BOOST_TEST(wsinv.to().tag() == "1918181833n");
  BOOST_TEST(wsinv.from().tag() == "98asjd8");
  BOOST_TEST(wsinv.from().display_name == "J Rosenberg \\\\\\\"");
  BOOST_TEST(*wsinv.max_forwards() == 68u);
  BOOST_TEST(wsinv.cseq().number == 9u);
  auto vias = wsinv.vias();
  BOOST_TEST(vias.size() == 3u);
  BOOST_TEST(vias[0].transport == "UDP");
  BOOST_TEST(vias[0].host == "192.0.2.2");
  BOOST_TEST(vias[1].transport == "TCP");
  BOOST_TEST(vias[1].branch() == "z9hG4bK9ikj8");
  BOOST_TEST(vias[2].branch() == "z9hG4bK30239");
  BOOST_TEST(wsinv.body().size() == 150u);
  auto contact = wsinv.contacts();
  BOOST_TEST(contact.size() == 1u);
  BOOST_TEST(contact[0].param("q")->value == "0.33");
  BOOST_TEST(wsinv.route().front().uri.param("lr") != nullptr);

  Message semi = Message::parse(read("semiuri"));
  Uri ruri = semi.parsed_request_uri();
  BOOST_TEST(ruri.user == "user;par=u%40example.net");
  BOOST_TEST(ruri.host == "example.com");

  Message dbl = Message::parse(read("dblreq"));
  BOOST_TEST(dbl.ok());
  BOOST_TEST(dbl.body().empty());
  BOOST_TEST(dbl.consumed() < dbl.bytes().size());  // the second request is not part of it

  Message noreason = Message::parse(read("noreason"));
  BOOST_TEST(noreason.status() == 100);
  BOOST_TEST(noreason.reason().empty());

  Message esc = Message::parse(read("esc02"));
  BOOST_TEST(esc.method() == "RE%47IST%45R");
  BOOST_TEST(esc.contacts().size() == 2u);  // "C%6Fntact" is another header

  Message branch = Message::parse(read("badbranch"));
  BOOST_TEST(!branch.top_via().rfc3261_branch());
  Message old = Message::parse(read("inv2543"));
  BOOST_TEST(old.top_via().branch().empty());
  BOOST_TEST(!old.max_forwards().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
