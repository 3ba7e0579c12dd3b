// Locating SIP servers (RFC 3263) against a real DNS server: dnsmasq on loopback, on a port of
// its own, authoritative for the made-up domain "test" (nothing leaves the host).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "sip/resolver.h"

using namespace ng911::sip;
namespace asio = boost::asio;

namespace {

// A loopback port free for UDP and TCP right now: dnsmasq binds both.
std::uint16_t free_dns_port() {
  asio::io_context io;
  auto loopback = asio::ip::make_address("127.0.0.1");
  for (int i = 0; i < 50; ++i) {
    asio::ip::tcp::acceptor tcp(io, asio::ip::tcp::endpoint(loopback, 0));
    auto port = tcp.local_endpoint().port();
    asio::ip::udp::socket udp(io);
    udp.open(asio::ip::udp::v4());
    boost::system::error_code ec;
    udp.bind(asio::ip::udp::endpoint(loopback, port), ec);
    if (!ec) return port;
  }
  BOOST_FAIL("no loopback port free for both UDP and TCP");
  return 0;
}

// dnsmasq in the foreground, killed at the end of the test. A parallel test's socket can take
// its port between the check and dnsmasq's bind: then it exits, and start() takes another.
struct Dnsmasq {
  pid_t pid = -1;
  std::uint16_t port = 0;
  Dnsmasq() { start(); }
  bool exited() {
    if (pid <= 0) return true;
    if (::waitpid(pid, nullptr, WNOHANG) != pid) return false;
    pid = -1;
    return true;
  }
  void start() {
    port = free_dns_port();
    std::vector<std::string> args = {
        "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file=",
        "--listen-address=127.0.0.1", "--bind-interfaces", "--port=" + std::to_string(port), "--local=/test/",
        "--local-ttl=60",
        // NAPTR prefers TCP; its SRV gives two hosts by priority.
        "--naptr-record=naptr.test,10,10,S,SIP+D2T,,_sip._tcp.naptr.test",
        "--naptr-record=naptr.test,20,10,S,SIP+D2U,,_sip._udp.naptr.test",
        "--srv-host=_sip._tcp.naptr.test,b.test,5071,20,0", "--srv-host=_sip._tcp.naptr.test,a.test,5070,10,0",
        // No NAPTR: SRV for UDP.
        "--srv-host=_sip._udp.srv.test,a.test,5080,10,0",
        // Equal priority, weights 1 and 3: calls spread over both, three to one.
        "--srv-host=_sip._udp.weighted.test,a.test,6001,10,1", "--srv-host=_sip._udp.weighted.test,b.test,6003,10,3",
        // sips: SRV for TLS.
        "--srv-host=_sips._tcp.tls.test,b.test,5091,10,0",
        // The service is not offered here.
        "--srv-host=_sip._udp.closed.test", "--host-record=closed.test,127.0.0.9",
        "--host-record=a.test,127.0.0.2", "--host-record=b.test,127.0.0.3", "--host-record=plain.test,127.0.0.4"};
    if (::getuid() == 0) args.push_back("--user=root");  // as root it would otherwise become nobody
    pid = ::fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("dnsmasq", argv.data());
      ::_exit(127);
    }
    BOOST_REQUIRE(pid > 0);
  }
  ~Dnsmasq() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
  ResolverConfig config() const {
    ResolverConfig c;
    c.servers.push_back(parse_dns_server("127.0.0.1:" + std::to_string(port)));
    c.timeout = std::chrono::seconds(1);
    return c;
  }
};

Resolution resolve(SipResolver& resolver, const std::string& uri) {
  asio::io_context io;
  std::optional<Resolution> result;
  resolver.resolve(uri, Protocol::udp, io, [&](Resolution r) { result = std::move(r); });
  BOOST_TEST(!result.has_value());  // never inside resolve()
  io.run_for(std::chrono::seconds(10));
  BOOST_REQUIRE(result.has_value());
  return *result;
}

std::vector<std::string> places(const Resolution& r) {
  std::vector<std::string> out;
  for (const auto& e : r.endpoints) out.push_back(e.str());
  return out;
}

// Until dnsmasq answers (it starts in a few milliseconds; bounded at 5 s and five ports).
void wait_ready(Dnsmasq& dns) {
  int starts = 1;
  for (int i = 0; i < 50; ++i) {
    if (dns.exited() && starts++ < 5) dns.start();
    SipResolver probe(dns.config());
    if (!resolve(probe, "sip:x@plain.test").endpoints.empty()) return;
    ::usleep(100000);
  }
  BOOST_FAIL("dnsmasq did not answer on port " << dns.port);
}

// A resolver that asks a dnsmasq of its own, once that answers.
struct Served {
  Dnsmasq dns;
  SipResolver resolver{(wait_ready(dns), dns.config())};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sip_resolver)

BOOST_FIXTURE_TEST_CASE(naptr_srv_and_address_steps, Served) {
  auto r = resolve(resolver, "sip:psap@naptr.test");
  BOOST_TEST(r.how == "naptr");
  BOOST_TEST(places(r) == (std::vector<std::string>{"TCP:127.0.0.2:5070", "TCP:127.0.0.3:5071"}),
             boost::test_tools::per_element());

  r = resolve(resolver, "sip:psap@srv.test");
  BOOST_TEST(r.how == "srv");
  BOOST_TEST(places(r) == (std::vector<std::string>{"UDP:127.0.0.2:5080"}), boost::test_tools::per_element());

  r = resolve(resolver, "sips:psap@tls.test");
  BOOST_TEST(r.how == "srv");
  BOOST_TEST(places(r) == (std::vector<std::string>{"TLS:127.0.0.3:5091"}), boost::test_tools::per_element());

  r = resolve(resolver, "sip:psap@plain.test");
  BOOST_TEST(r.how == "address");
  BOOST_TEST(places(r) == (std::vector<std::string>{"UDP:127.0.0.4:5060"}), boost::test_tools::per_element());

  // A port skips NAPTR and SRV; the transport parameter is kept.
  r = resolve(resolver, "sip:psap@naptr.test:5099;transport=tcp");
  BOOST_TEST(r.endpoints.empty());  // naptr.test has no address records
  r = resolve(resolver, "sip:psap@a.test:5099;transport=tcp");
  BOOST_TEST(places(r) == (std::vector<std::string>{"TCP:127.0.0.2:5099"}), boost::test_tools::per_element());
  // A transport without a port: SRV of that transport, else the address on the default port.
  r = resolve(resolver, "sip:psap@plain.test;transport=tcp");
  BOOST_TEST(places(r) == (std::vector<std::string>{"TCP:127.0.0.4:5060"}), boost::test_tools::per_element());

  // SRV target "." : the domain says there is no such service; no fallback to its address.
  r = resolve(resolver, "sip:psap@closed.test");
  BOOST_TEST(r.endpoints.empty());
  BOOST_TEST(r.error.find("not available") != std::string::npos, r.error);
}

BOOST_FIXTURE_TEST_CASE(literals_failures_and_the_cache, Served) {
  auto r = resolve(resolver, "sip:q@127.0.0.1:5070;transport=tcp");
  BOOST_TEST(r.how == "literal");
  BOOST_TEST(places(r) == (std::vector<std::string>{"TCP:127.0.0.1:5070"}), boost::test_tools::per_element());
  BOOST_TEST(resolver.counters().lookups == 0u);
  BOOST_TEST(resolve(resolver, "tel:911").error.find("not a SIP URI") != std::string::npos);

  r = resolve(resolver, "sip:psap@missing.test");
  BOOST_TEST(r.endpoints.empty());
  BOOST_TEST(!r.temporary);
  BOOST_TEST(r.error.find("missing.test") != std::string::npos, r.error);
  BOOST_TEST(resolver.counters().failures == 1u);

  // Answers are kept for their TTL, failures for negative_ttl: no second lookup for either.
  BOOST_TEST(!resolver.known("sip:psap@srv.test").has_value());
  resolve(resolver, "sip:psap@srv.test");
  auto lookups = resolver.counters().lookups;
  BOOST_TEST_REQUIRE(resolver.known("sip:psap@srv.test").has_value());
  BOOST_TEST(places(*resolver.known("sip:psap@srv.test")) == (std::vector<std::string>{"UDP:127.0.0.2:5080"}),
             boost::test_tools::per_element());
  resolve(resolver, "sip:psap@missing.test");
  BOOST_TEST(resolver.counters().lookups == lookups);
  BOOST_TEST(resolver.counters().cache_hits >= 2u);
}

// RFC 2782: among records of equal priority the first place is drawn by weight for every
// resolution, the cached ones included (else a TTL's worth of calls would all go one way).
BOOST_FIXTURE_TEST_CASE(srv_weights_spread_the_calls, Served) {
  auto r = resolve(resolver, "sip:queue@weighted.test");
  BOOST_TEST_REQUIRE(r.endpoints.size() == 2u);
  std::map<std::string, int> first;
  for (int i = 0; i < 400; ++i) {
    auto known = resolver.known("sip:queue@weighted.test");
    BOOST_TEST_REQUIRE(known.has_value());
    BOOST_TEST_REQUIRE(known->endpoints.size() == 2u);
    ++first[known->endpoints.front().str()];
  }
  int light = first["UDP:127.0.0.2:6001"], heavy = first["UDP:127.0.0.3:6003"];
  BOOST_TEST(light + heavy == 400);
  BOOST_TEST(light > 0);
  BOOST_TEST(heavy > light * 3 / 2, "weight 3 first " << heavy << " times, weight 1 " << light);
}

// A DNS server that never answers: the resolution fails within timeout x attempts, and says so.
BOOST_AUTO_TEST_CASE(a_silent_server_times_out) {
  asio::io_context io;
  asio::ip::udp::socket silent(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ResolverConfig c;
  c.servers.push_back(silent.local_endpoint());
  c.timeout = std::chrono::seconds(1);
  c.attempts = 1;
  SipResolver resolver(c);
  auto started = std::chrono::steady_clock::now();
  auto r = resolve(resolver, "sip:psap@plain.test:5060");
  auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(r.endpoints.empty());
  BOOST_TEST(r.temporary);
  BOOST_TEST(r.error.find("timeout") != std::string::npos, r.error);
  // One query's timeout (1 s), not one per step (A, then AAAA): a dead DNS must not hold an
  // emergency call for long.
  BOOST_TEST(took < std::chrono::milliseconds(1900));
}

// Callers of one name share its lookup; past max_lookups names under way a resolution fails at
// once (a flood of made-up names must not queue the routes that matter behind it).
BOOST_FIXTURE_TEST_CASE(one_lookup_per_name_and_a_bound_on_lookups, Served) {
  asio::io_context io;
  std::vector<Resolution> got;
  for (int i = 0; i < 5; ++i) resolver.resolve("sip:q@plain.test", Protocol::udp, io, [&](Resolution r) { got.push_back(r); });
  io.run_for(std::chrono::seconds(10));
  BOOST_TEST_REQUIRE(got.size() == 5u);
  for (const auto& r : got) BOOST_TEST(places(r) == (std::vector<std::string>{"UDP:127.0.0.4:5060"}), boost::test_tools::per_element());
  // One lookup for the five; the later callers joined it, or (on a fast machine, the lookup
  // over before they asked) found its answer in the cache. Sharing itself is checked below,
  // where the lookup cannot end before the callers ask.
  BOOST_TEST(resolver.counters().lookups == 1u);
  BOOST_TEST(resolver.counters().shared + resolver.counters().cache_hits == 4u);

  asio::ip::udp::socket silent(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ResolverConfig c;
  c.servers.push_back(silent.local_endpoint());
  c.timeout = std::chrono::seconds(1);
  c.attempts = 1;
  SipResolver slow(c);
  std::vector<Resolution> waited;
  for (int i = 0; i < 5; ++i) slow.resolve("sip:q@plain.test", Protocol::udp, io, [&](Resolution r) { waited.push_back(r); });
  io.restart();
  io.run_for(std::chrono::seconds(10));
  BOOST_TEST_REQUIRE(waited.size() == 5u);
  BOOST_TEST(slow.counters().lookups == 1u);
  BOOST_TEST(slow.counters().shared == 4u);
  for (const auto& r : waited) BOOST_TEST((r.endpoints.empty() && r.temporary));

  c.max_lookups = 2;
  SipResolver bounded(c);
  std::vector<Resolution> answers;
  for (const char* uri : {"sip:q@one.test", "sip:q@two.test", "sip:q@three.test", "sip:q@four.test"})
    bounded.resolve(uri, Protocol::udp, io, [&](Resolution r) { answers.push_back(r); });
  io.restart();
  io.run_for(std::chrono::seconds(10));
  BOOST_TEST_REQUIRE(answers.size() == 4u);
  BOOST_TEST(bounded.counters().refused == 2u);
  // The refused come back first, without waiting for the two lookups under way.
  BOOST_TEST(answers[0].error.find("under way") != std::string::npos, answers[0].error);
  BOOST_TEST(answers[1].error.find("under way") != std::string::npos, answers[1].error);
  for (const auto& r : answers) BOOST_TEST((r.endpoints.empty() && r.temporary));
}

BOOST_AUTO_TEST_CASE(dns_server_settings) {
  BOOST_TEST(parse_dns_server("127.0.0.1").port() == 53);
  BOOST_TEST(parse_dns_server("127.0.0.1:5353").port() == 5353);
  BOOST_CHECK_THROW(parse_dns_server("::1"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_dns_server("127.0.0.1:0"), std::invalid_argument);
  BOOST_CHECK_THROW(parse_dns_server("dns.example"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
