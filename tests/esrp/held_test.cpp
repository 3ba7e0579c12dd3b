// HELD dereference (RFC 5985, RFC 6753): the request we send checked against the HELD schema,
// every kind of answer read back, and dereference over HTTP and HTTPS against held_lis, a test
// LIS run as a process of its own: good answers, HELD errors, 404, garbage, an answer too
// large, a LIS too slow for the timeout, a LIS that is down.
#define BOOST_TEST_MODULE ng911 ESRP HELD tests
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "ecrf/xml_names.h"
#include "http/server.h"
#include "routing/held_client.h"
#include "support/test_files.h"

extern char** environ;

using namespace ng911;
using namespace ng911::esrp;
namespace fs = std::filesystem;

namespace {

std::string data(const std::string& name) { return std::string(NG911_TEST_DATA_DIR) + "/esrp/held/" + name; }

// The locationResponse a LIS sends around a PIDF-LO file (its XML declaration dropped).
std::string response_around(const std::string& pidf_file) {
  std::string pidf = test::read_file(data(pidf_file));
  if (pidf.starts_with("<?xml")) pidf.erase(0, pidf.find("?>") + 2);
  return "<locationResponse xmlns=\"urn:ietf:params:xml:ns:geopriv:held\">" + pidf + "</locationResponse>";
}

// xmllint's verdict on `xml` against held.xsd: its exit status (0: valid).
int validate_against_held_xsd(const std::string& xml) {
  std::string cmd = "xmllint --noout --nonet --schema '" + std::string(NG911_STANDARDS_DIR) + "/held.xsd' - 2>&1";
  FILE* p = ::popen(cmd.c_str(), "w");
  BOOST_REQUIRE_MESSAGE(p, "cannot run xmllint");
  std::fwrite(xml.data(), 1, xml.size(), p);
  int status = ::pclose(p);
  BOOST_REQUIRE_MESSAGE(WIFEXITED(status) && WEXITSTATUS(status) != 127, "xmllint is missing (package libxml2-utils)");
  return WEXITSTATUS(status);
}

// A directory of our own under /tmp, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ng911-held-XXXXXX").string();
    BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// held_lis as a child process: started with its options, its address read from the line it
// prints when listening, stopped with SIGTERM at scope exit.
class LisProcess {
 public:
  explicit LisProcess(std::vector<std::string> options) {
    std::vector<std::string> args{NG911_HELD_LIS};
    args.insert(args.end(), options.begin(), options.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    int rc = ::posix_spawn(&pid_, NG911_HELD_LIS, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start " NG911_HELD_LIS);
    std::string line = read_line(std::chrono::seconds(10));
    const std::string prefix = "held_lis listening on ";
    if (!line.starts_with(prefix)) {
      stop();
      BOOST_FAIL("held_lis did not start: '" + line + "'");
    }
    base_ = line.substr(prefix.size());
    if (base_.ends_with("/")) base_.pop_back();
  }
  ~LisProcess() { stop(); }
  LisProcess(const LisProcess&) = delete;
  LisProcess& operator=(const LisProcess&) = delete;

  std::string url(const std::string& path) const { return base_ + path; }

 private:
  std::string read_line(std::chrono::milliseconds limit) {
    std::string line;
    auto until = std::chrono::steady_clock::now() + limit;
    char c = 0;
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(out_, &c, 1) != 1 || c == '\n') break;  // EOF: it exited
      line += c;
    }
    return line;
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
    if (out_ >= 0) ::close(out_);
    out_ = -1;
  }
  pid_t pid_ = 0;
  int out_ = -1;
  std::string base_;
};

struct Timed {
  HeldResult result;
  std::chrono::steady_clock::duration took{};
};

// dereference() on an io_context of its own; the time is taken when the result arrives, not
// when work the client left behind has drained.
Timed deref(const std::string& uri, HeldConfig config = {}) {
  boost::asio::io_context io;
  std::optional<Timed> out;
  auto started = std::chrono::steady_clock::now();
  boost::asio::co_spawn(io, dereference(uri, config), [&](std::exception_ptr e, HeldResult r) {
    if (e) std::rethrow_exception(e);
    out = Timed{std::move(r), std::chrono::steady_clock::now() - started};
  });
  io.run_for(std::chrono::seconds(10));  // bounded
  BOOST_REQUIRE_MESSAGE(out.has_value(), "dereference of " + uri + " never finished");
  return std::move(*out);
}

// The answer a LIS gives to a request body of our choosing.
HeldResult post_to(const std::string& uri, const std::string& body) {
  boost::asio::io_context io;
  HeldResult out;
  const std::string content_type = kHeldContentType;  // http::post keeps a reference until it is done
  boost::asio::co_spawn(io, http::post(uri, content_type, body, std::chrono::milliseconds(2000)),
                        [&](std::exception_ptr e, http::ClientResult r) {
                          if (e) std::rethrow_exception(e);
                          out = r.ok ? parse_held_response(r.body) : HeldResult{{}, "transport: " + r.error, {}, {}, {}};
                        });
  io.run_for(std::chrono::seconds(10));
  return out;
}

std::string dead_url() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return "http://127.0.0.1:" + std::to_string(a.local_endpoint().port()) + "/loc/1";  // closed on return
}

const ecrf::GeodeticShape& shape_of(const HeldResult& r) { return std::get<ecrf::GeodeticShape>(r.location->value); }

}  // namespace

BOOST_AUTO_TEST_SUITE(held_request)

BOOST_AUTO_TEST_CASE(location_request_is_valid_held) {
  for (auto [type, name] : {std::pair{HeldLocationType::any, "any"}, std::pair{HeldLocationType::geodetic, "geodetic"},
                            std::pair{HeldLocationType::civic, "civic"}}) {
    std::string body = held_location_request(type);
    pugi::xml_document doc;
    BOOST_REQUIRE(doc.load_string(body.c_str()));
    auto root = doc.document_element();
    BOOST_TEST(ecrf::local_name(root) == "locationRequest");
    BOOST_TEST(ecrf::namespace_uri(root) == kHeldNs);
    BOOST_TEST(root.attribute("responseTime").value() == std::string("emergencyRouting"));
    auto location_type = root.first_child();
    BOOST_TEST(ecrf::local_name(location_type) == "locationType");
    BOOST_TEST(location_type.attribute("exact").value() == std::string("false"));
    BOOST_TEST(location_type.child_value() == std::string(name));
  }
  BOOST_TEST(held_location_request() == held_location_request(HeldLocationType::any));

  if (!fs::exists(fs::path(NG911_STANDARDS_DIR) / "held.xsd")) {
    BOOST_TEST_MESSAGE("schema check skipped: no held.xsd in " NG911_STANDARDS_DIR);
    return;
  }
  for (auto type : {HeldLocationType::any, HeldLocationType::geodetic, HeldLocationType::civic})
    BOOST_TEST(validate_against_held_xsd(held_location_request(type)) == 0, held_location_request(type));
  // The check can fail: a locationType the schema does not know is refused.
  std::string wrong = held_location_request();
  wrong.replace(wrong.find(">any<"), 5, ">street<");
  BOOST_TEST(validate_against_held_xsd(wrong) != 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(held_response)

BOOST_AUTO_TEST_CASE(geodetic_point_and_circle) {
  HeldResult point = parse_held_response(response_around("point.xml"));
  BOOST_TEST_REQUIRE(point.location.has_value(), point.error);
  BOOST_TEST(point.error.empty());
  BOOST_TEST(point.location->profile == "geodetic-2d");
  BOOST_TEST(point.location->method == "GPS");
  BOOST_TEST(point.location->element == "device");
  auto pos = std::get<ecrf::GeoPoint>(shape_of(point)).pos;
  BOOST_TEST(pos.lat == 30.2672);
  BOOST_TEST(pos.lon == -97.7431);
  BOOST_TEST(point.pidf_xml.find("<gml:pos>30.2672 -97.7431</gml:pos>") != std::string::npos);
  BOOST_TEST(point.problems.empty());

  HeldResult circle = parse_held_response(response_around("circle.xml"));
  BOOST_TEST_REQUIRE(circle.location.has_value(), circle.error);
  auto c = std::get<ecrf::GeoCircle>(shape_of(circle));
  BOOST_TEST(c.radius_m == 850.0);
  BOOST_TEST(c.center.lat == 30.25);
  BOOST_TEST(circle.location->method == "Cell");
  BOOST_TEST(circle.location->element == "tuple");
}

BOOST_AUTO_TEST_CASE(civic_address) {
  HeldResult civic = parse_held_response(response_around("civic.xml"));
  BOOST_TEST_REQUIRE(civic.location.has_value(), civic.error);
  BOOST_TEST(civic.location->profile == "civic");
  const auto& address = std::get<ecrf::CivicAddress>(civic.location->value);
  BOOST_TEST_REQUIRE(address.get("A3") != nullptr);
  BOOST_TEST(*address.get("A3") == "Austin");
  BOOST_TEST(*address.get("HNO") == "100");
  // The location-info travels to the ECRF as the LIS wrote it.
  BOOST_TEST(civic.location->location_info_xml.find("<ca:RD>Congress</ca:RD>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(several_locations_the_first_usable_wins) {
  HeldResult several = parse_held_response(response_around("several.xml"));
  BOOST_TEST_REQUIRE(several.location.has_value(), several.error);
  BOOST_TEST(std::holds_alternative<ecrf::GeoPolygon>(shape_of(several)));
  BOOST_TEST(several.location->method == "Wiremap");
  BOOST_TEST_REQUIRE(several.problems.size() == 1u);
  BOOST_TEST(several.problems.front().find("not a number") != std::string::npos, several.problems.front());

  HeldResult two = parse_held_response(test::read_file(data("response-two-presences.xml")));
  BOOST_TEST_REQUIRE(two.location.has_value(), two.error);
  BOOST_TEST(two.location->profile == "civic");
  BOOST_TEST(two.problems.size() == 1u);
  BOOST_TEST(two.pidf_xml.find("Lavaca") != std::string::npos);  // the document the location came from
}

BOOST_AUTO_TEST_CASE(namespaces_by_uri_not_prefix) {
  HeldResult prefixed = parse_held_response(test::read_file(data("response-prefixed.xml")));
  BOOST_TEST_REQUIRE(prefixed.location.has_value(), prefixed.error + " " + prefixed.message);
  BOOST_TEST(prefixed.location->method == "DHCP");
  // The PIDF-LO for the log carries the declarations it inherited, so that it parses alone.
  std::vector<std::string> problems;
  BOOST_TEST(parse_pidf_lo(prefixed.pidf_xml, problems).size() == 1u);
  // The right names in the wrong namespace are not HELD.
  BOOST_TEST(parse_held_response("<locationResponse xmlns=\"urn:example:not-held\"/>").error.starts_with("malformed"));
  std::string pidf_elsewhere = response_around("point.xml");
  pidf_elsewhere.replace(pidf_elsewhere.find("urn:ietf:params:xml:ns:pidf\""), 28, "urn:example:pidf\"");
  BOOST_TEST(parse_held_response(pidf_elsewhere).error == "no location");
}

BOOST_AUTO_TEST_CASE(uri_set_only_or_no_usable_location) {
  HeldResult uris = parse_held_response(test::read_file(data("response-uri-set.xml")));
  BOOST_TEST(!uris.location.has_value());
  BOOST_TEST(uris.error == "no location");
  BOOST_TEST(uris.message.find("locationUriSet") != std::string::npos);
  HeldResult empty = parse_held_response("<locationResponse xmlns=\"urn:ietf:params:xml:ns:geopriv:held\"/>");
  BOOST_TEST(empty.error == "no location");
  HeldResult no_geopriv = parse_held_response(
      "<locationResponse xmlns=\"urn:ietf:params:xml:ns:geopriv:held\"><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
      "entity=\"pres:a@example.com\"/></locationResponse>");
  BOOST_TEST(no_geopriv.error == "no location");
  BOOST_TEST(!no_geopriv.problems.empty());
  BOOST_TEST(no_geopriv.pidf_xml.find("presence") != std::string::npos);  // logged even though unusable
}

BOOST_AUTO_TEST_CASE(held_errors) {
  HeldResult unknown = parse_held_response(test::read_file(data("error-location-unknown.xml")));
  BOOST_TEST(unknown.error == "locationUnknown");
  BOOST_TEST(unknown.message == "Unable to determine location");
  BOOST_TEST(!unknown.location.has_value());
  for (std::string code : {"requestError", "xmlError", "generalLisError", "locationUnknown", "unsupportedMessage",
                           "timeout", "cannotProvideLiType", "notLocatable"}) {
    HeldResult r = parse_held_response("<h:error xmlns:h=\"urn:ietf:params:xml:ns:geopriv:held\" code=\" " + code +
                                       " \"><h:message>why</h:message></h:error>");
    BOOST_TEST(r.error == code);
    BOOST_TEST(r.message == "why");
  }
  BOOST_TEST(parse_held_response("<error xmlns=\"urn:ietf:params:xml:ns:geopriv:held\"/>").error.starts_with("malformed"));
  BOOST_TEST(parse_held_response("<error xmlns=\"urn:ietf:params:xml:ns:geopriv:held\" code=\"a b\"/>").error.starts_with("malformed"));
}

BOOST_AUTO_TEST_CASE(garbage_and_hostile_answers) {
  std::vector<std::pair<std::string, std::string>> cases{
      {"", "not well-formed"},
      {"garbage", "not well-formed"},
      {test::read_file(data("garbage.bin")), "character XML does not allow"},
      {"<locationResponse xmlns=\"urn:ietf:params:xml:ns:geopriv:held\">", "not well-formed"},
      {"<locationRequest xmlns=\"urn:ietf:params:xml:ns:geopriv:held\"/>", "unexpected <locationRequest>"},
      {"<!DOCTYPE r [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><locationResponse "
       "xmlns=\"urn:ietf:params:xml:ns:geopriv:held\">&e;</locationResponse>",
       "DOCTYPE"},
  };
  // Over the size limit, and deeper than any PIDF-LO within it.
  std::string huge = response_around("point.xml");
  huge.insert(huge.find("</locationResponse>"), std::string(kHeldMaxResponseBytes, ' '));
  cases.emplace_back(huge, "over the limit");
  std::string deep = "<locationResponse xmlns=\"urn:ietf:params:xml:ns:geopriv:held\">";
  for (int i = 0; i < 3000; ++i) deep += "<x:a xmlns:x=\"urn:example:x\">";
  for (int i = 0; i < 3000; ++i) deep += "</x:a>";
  deep += "</locationResponse>";
  cases.emplace_back(deep, "nested deeper");
  for (const auto& [body, why] : cases) {
    HeldResult r;
    BOOST_CHECK_NO_THROW(r = parse_held_response(body));
    BOOST_TEST(r.error.starts_with("malformed: "), r.error);
    BOOST_TEST(r.error.find(why) != std::string::npos, r.error << " (expected: " << why << ")");
    BOOST_TEST(!r.location.has_value());
  }
  // Just under the limit is still read.
  std::string big = response_around("point.xml");
  big.insert(big.find("</locationResponse>"), std::string(kHeldMaxResponseBytes - big.size(), ' '));
  BOOST_TEST(parse_held_response(big).location.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(held_dereference)

BOOST_AUTO_TEST_CASE(locations_from_a_lis) {
  LisProcess lis({"--location", "/loc/point=" + data("point.xml"), "--location", "/loc/civic=" + data("civic.xml"),
                  "--location", "/loc/several=" + data("several.xml")});
  Timed point = deref(lis.url("/loc/point"));
  BOOST_TEST_REQUIRE(point.result.location.has_value(), point.result.error + " " + point.result.message);
  BOOST_TEST(point.result.error.empty());
  BOOST_TEST(std::get<ecrf::GeoPoint>(shape_of(point.result)).pos.lat == 30.2672);
  BOOST_TEST(point.result.pidf_xml.find("mac:00:11:22:33:44:55") != std::string::npos);

  // The LIS checks every locationRequest; asking for civic only is one it accepts too.
  HeldConfig civic_only;
  civic_only.location_type = HeldLocationType::civic;
  Timed civic = deref(lis.url("/loc/civic"), civic_only);
  BOOST_TEST_REQUIRE(civic.result.location.has_value(), civic.result.error + " " + civic.result.message);
  BOOST_TEST(civic.result.location->profile == "civic");

  Timed several = deref(lis.url("/loc/several"));
  BOOST_TEST_REQUIRE(several.result.location.has_value(), several.result.error);
  BOOST_TEST(several.result.problems.size() == 1u);

  // RFC 3986: the scheme is case-insensitive.
  std::string upper = lis.url("/loc/point");
  upper.replace(0, 4, "HTTP");
  BOOST_TEST(deref(upper).result.location.has_value());

  Timed unknown = deref(lis.url("/loc/nobody"));
  BOOST_TEST(!unknown.result.location.has_value());
  BOOST_TEST(unknown.result.error == "locationUnknown");
}

BOOST_AUTO_TEST_CASE(over_ipv6) {
  LisProcess lis({"--listen", "[::1]:0", "--location", "/loc/point=" + data("point.xml")});
  BOOST_TEST(lis.url("/").starts_with("http://[::1]:"));
  Timed point = deref(lis.url("/loc/point"));
  BOOST_TEST(point.result.location.has_value(), point.result.error + " " + point.result.message);
}

BOOST_AUTO_TEST_CASE(the_test_lis_refuses_what_is_not_a_location_request) {
  LisProcess lis({"--location", "/loc/point=" + data("point.xml")});
  std::string url = lis.url("/loc/point");
  BOOST_TEST(post_to(url, held_location_request()).location.has_value());  // the control
  BOOST_TEST(post_to(url, "<locationRequest xmlns=\"urn:example:other\"/>").error == "xmlError");
  BOOST_TEST(post_to(url, "<locationRequest xmlns=\"urn:ietf:params:xml:ns:geopriv:held\"><locationType>street"
                          "</locationType></locationRequest>").error == "xmlError");
  BOOST_TEST(post_to(url, "<locationRequest xmlns=\"urn:ietf:params:xml:ns:geopriv:held\" responseTime=\"soon\"/>").error ==
             "xmlError");
  BOOST_TEST(post_to(url, "not xml").error == "xmlError");
  BOOST_TEST(post_to(url, "<locationResponse xmlns=\"urn:ietf:params:xml:ns:geopriv:held\"/>").error == "unsupportedMessage");
}

BOOST_AUTO_TEST_CASE(http_errors_garbage_and_huge_answers) {
  TempDir tmp;
  {
    std::ofstream huge(tmp.file("huge.xml"), std::ios::binary);
    std::string body = response_around("point.xml");
    body.insert(body.find("</locationResponse>"), std::string(2 * kHeldMaxResponseBytes, ' '));
    huge << body;
  }
  LisProcess lis({"--status", "/gone=404", "--status", "/broken=500", "--raw", "/garbage=" + data("garbage.bin"),
                  "--raw", "/huge=" + tmp.file("huge.xml")});
  BOOST_TEST(deref(lis.url("/gone")).result.error == "http 404");
  BOOST_TEST(deref(lis.url("/broken")).result.error == "http 500");
  Timed garbage = deref(lis.url("/garbage"));
  BOOST_TEST(garbage.result.error.starts_with("malformed: "), garbage.result.error);
  BOOST_TEST(!garbage.result.location.has_value());
  Timed huge = deref(lis.url("/huge"));
  BOOST_TEST(huge.result.error.find("over the limit") != std::string::npos, huge.result.error);
}

BOOST_AUTO_TEST_CASE(slow_lis_times_out) {
  LisProcess lis({"--delay-ms", "3000", "--location", "/loc/point=" + data("point.xml")});
  HeldConfig config;
  config.timeout = std::chrono::milliseconds(300);
  Timed slow = deref(lis.url("/loc/point"), config);
  BOOST_TEST(slow.result.error == "timeout", slow.result.error + " " + slow.result.message);
  BOOST_TEST(!slow.result.location.has_value());
  BOOST_TEST(slow.took >= std::chrono::milliseconds(290));
  BOOST_TEST(slow.took < std::chrono::milliseconds(1500));  // the timeout, not the LIS's 3 s
}

BOOST_AUTO_TEST_CASE(lis_down_or_not_a_held_uri) {
  HeldConfig config;
  config.timeout = std::chrono::milliseconds(1000);
  Timed down = deref(dead_url(), config);
  BOOST_TEST(down.result.error == "unreachable");
  BOOST_TEST(!down.result.message.empty());
  BOOST_TEST(down.took < std::chrono::milliseconds(1000));  // refused at once, no wait for the timeout
  for (std::string uri : {"sip:lis@example.net", "cid:loc@example.com", "http://", ""})
    BOOST_TEST(deref(uri).result.error == "bad uri", uri);
}

BOOST_AUTO_TEST_CASE(https_with_a_trusted_certificate_only) {
  TempDir pki;
  // A CA, a certificate for 127.0.0.1 that it signs, and a second CA that signed nothing here.
  std::string cmd =
      "cd '" + pki.path.string() + "' && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null && "
      "openssl req -newkey rsa:2048 -nodes -keyout lis.key -out lis.csr -subj /CN=127.0.0.1 2>/dev/null && "
      "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
      "openssl x509 -req -in lis.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out lis.pem -days 2 -extfile ext 2>/dev/null && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other-ca 2>/dev/null";
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  LisProcess lis({"--tls-cert", pki.file("lis.pem"), "--tls-key", pki.file("lis.key"), "--location",
                  "/loc/point=" + data("point.xml")});
  BOOST_TEST_REQUIRE(lis.url("/").starts_with("https://"));
  HeldConfig trusted;
  trusted.ca_file = pki.file("ca.pem");
  Timed ok = deref(lis.url("/loc/point"), trusted);
  BOOST_TEST(ok.result.location.has_value(), ok.result.error + " " + ok.result.message);
  HeldConfig untrusted;
  untrusted.ca_file = pki.file("other.pem");
  Timed refused = deref(lis.url("/loc/point"), untrusted);
  BOOST_TEST(refused.result.error == "unreachable", refused.result.error + " " + refused.result.message);
  BOOST_TEST(!refused.result.location.has_value());
  HeldConfig missing_ca;
  missing_ca.ca_file = pki.file("no-such-ca.pem");
  BOOST_TEST(deref(lis.url("/loc/point"), missing_ca).result.error == "unreachable");
}

BOOST_AUTO_TEST_SUITE_END()
