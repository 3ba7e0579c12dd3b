// The ESRP's ECRF client against real HTTP LoST servers in this process (the ECRF code behind
// our HTTP server): failover past a dead and a silent server, caching until `expires`.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "ecrf/ecrf.h"
#include "http/server.h"
#include "routing/ecrf_client.h"

using namespace ng911;
using namespace ng911::esrp;

namespace {

std::shared_ptr<const ecrf::Snapshot> square() {
  ecrf::Boundary b;
  b.layer = "PsapPolygon";
  b.service_urn = "urn:emergency:service:sos.psap";
  b.es_nguid = "urn:emergency:uid:gis:PSAP:1:test.example.net";
  b.display_name = "Test PSAP";
  b.uri = "sip:psap-1@127.0.0.1:5070";
  b.agency_id = "test.example.net";
  b.last_updated = "2026-01-01T00:00:00Z";
  ecrf::Polygon p;
  p.outer() = {{-98, 30}, {-98, 31}, {-97, 31}, {-97, 30}, {-98, 30}};
  b.geom.push_back(p);
  return ecrf::Snapshot::from({b});
}

// A LoST server on a free loopback port, serving from the ECRF code, counting its requests.
struct LostServer {
  std::shared_ptr<const ecrf::Snapshot> snap = square();
  ecrf::Ecrf ecrf;
  std::atomic<int> requests{0};
  std::unique_ptr<http::Server> server;
  std::thread thread;
  explicit LostServer(std::string expires, std::chrono::milliseconds idle_timeout = std::chrono::seconds(60))
      : ecrf([&] {
    ecrf::EcrfConfig c;
    c.expires = std::move(expires);
    return c;
  }(), [this] { return snap; }) {
    http::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.idle_timeout = idle_timeout;
    server = std::make_unique<http::Server>(o, [this](http::Request& r) -> boost::asio::awaitable<http::Response> {
      ++requests;
      ecrf::QueryOutcome outcome;
      auto result = ecrf.handle(r.body, outcome);
      co_return http::Response{200, "application/lost+xml", std::get<ecrf::Answer>(result).body, {}};
    });
    thread = std::thread([this] { server->run(); });
  }
  ~LostServer() {
    server->stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()) + "/"; }
};

PidfLocation point(double lat, double lon) {
  PidfLocation l;
  l.profile = "geodetic-2d";
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "<gml:Point xmlns:gml=\"http://www.opengis.net/gml\" srsName=\"urn:ogc:def:crs:EPSG::4326\">"
                "<gml:pos>%g %g</gml:pos></gml:Point>",
                lat, lon);
  l.location_info_xml = buf;
  return l;
}

// One io_context per client, as in the ESRP: its pooled connections belong to it.
struct Client {
  boost::asio::io_context io;  // outlives the client's connections
  EcrfClient ecrf;
  explicit Client(EcrfClientConfig c) : ecrf(std::move(c)) {}
};

LostAnswer ask(Client& client, const PidfLocation& where) {
  auto& io = client.io;
  io.restart();
  LostAnswer out;
  boost::asio::co_spawn(io, client.ecrf.find_service(where, "urn:service:sos"), [&](std::exception_ptr e, LostAnswer a) {
    if (e) std::rethrow_exception(e);
    out = std::move(a);
  });
  io.run_for(std::chrono::seconds(10));  // bounded
  return out;
}

std::string dead_url() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return "http://127.0.0.1:" + std::to_string(a.local_endpoint().port()) + "/";  // closed on return
}

}  // namespace

BOOST_AUTO_TEST_SUITE(esrp_ecrf_client)

BOOST_AUTO_TEST_CASE(fails_over_past_dead_and_silent_servers) {
  LostServer good("3600");
  // A server that accepts connections and never answers.
  boost::asio::io_context silent_io;
  boost::asio::ip::tcp::acceptor silent(silent_io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::string silent_url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
  Client client({{dead_url(), silent_url, good.url()}, std::chrono::milliseconds(300), ""});
  auto started = std::chrono::steady_clock::now();
  LostAnswer a = ask(client, point(30.5, -97.5));
  auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST_REQUIRE(a.mapping.has_value(), a.error + " " + a.message);
  BOOST_TEST(a.mapping->uris.front() == "sip:psap-1@127.0.0.1:5070");
  BOOST_TEST(client.ecrf.counters().server_failures == 2u);
  BOOST_TEST(took < std::chrono::seconds(3));  // the silent one costs its timeout, no more
}

BOOST_AUTO_TEST_CASE(caches_until_expires) {
  LostServer server("3600");
  Client client({{server.url()}, std::chrono::milliseconds(1000), ""});
  BOOST_TEST(ask(client, point(30.5, -97.5)).mapping.has_value());
  BOOST_TEST(ask(client, point(30.5, -97.5)).mapping.has_value());
  BOOST_TEST(server.requests.load() == 1);
  BOOST_TEST(client.ecrf.counters().cache_hits == 1u);
  BOOST_TEST(ask(client, point(30.6, -97.5)).mapping.has_value());  // another place: asked
  BOOST_TEST(server.requests.load() == 2);

  LostServer no_cache("NO-CACHE");
  Client fresh({{no_cache.url()}, std::chrono::milliseconds(1000), ""});
  ask(fresh, point(30.5, -97.5));
  ask(fresh, point(30.5, -97.5));
  BOOST_TEST(no_cache.requests.load() == 2);
}

// Positions rarely repeat: the cache must not grow with every call until the answers expire.
BOOST_AUTO_TEST_CASE(cache_is_bounded) {
  LostServer server("3600");
  EcrfClientConfig c{{server.url()}, std::chrono::milliseconds(1000), ""};
  c.cache_entries = 3;
  Client client(c);
  for (int i = 0; i < 10; ++i) BOOST_TEST(ask(client, point(30.1 + i * 0.05, -97.5)).mapping.has_value());
  BOOST_TEST(client.ecrf.cached() == 3u);
  BOOST_TEST(server.requests.load() == 10);
  // The newest are the ones kept (with one expiry for all, the first to expire is the oldest).
  BOOST_TEST(ask(client, point(30.1 + 9 * 0.05, -97.5)).mapping.has_value());
  BOOST_TEST(server.requests.load() == 10);
  BOOST_TEST(ask(client, point(30.1, -97.5)).mapping.has_value());
  BOOST_TEST(server.requests.load() == 11);
  BOOST_TEST(client.ecrf.cached() == 3u);

  EcrfClientConfig none{{server.url()}, std::chrono::milliseconds(1000), ""};
  none.cache_entries = 0;
  Client uncached(none);
  ask(uncached, point(30.5, -97.5));
  ask(uncached, point(30.5, -97.5));
  BOOST_TEST(uncached.ecrf.cached() == 0u);
  BOOST_TEST(server.requests.load() == 13);
}

// Hundreds of places: the hashed cache rehashes several times while its expiry index points at
// its keys; every entry must stay findable and evictable (a dangling key would break both).
BOOST_AUTO_TEST_CASE(cache_stays_whole_while_it_grows) {
  LostServer server("3600");
  EcrfClientConfig c{{server.url()}, std::chrono::milliseconds(1000), ""};
  c.cache_entries = 200;
  Client client(c);
  auto place = [](int i) { return point(30.0 + i * 0.001, -97.5); };
  for (int i = 0; i < 300; ++i) BOOST_REQUIRE(ask(client, place(i)).mapping.has_value());
  BOOST_TEST(client.ecrf.cached() == 200u);
  BOOST_TEST(server.requests.load() == 300);
  for (int i = 100; i < 300; ++i) BOOST_REQUIRE(ask(client, place(i)).mapping.has_value());
  BOOST_TEST(server.requests.load() == 300);  // the newest 200, all from the cache
  BOOST_TEST(client.ecrf.counters().cache_hits == 200u);
  for (int i = 0; i < 100; ++i) BOOST_REQUIRE(ask(client, place(i)).mapping.has_value());
  BOOST_TEST(server.requests.load() == 400);  // the oldest were evicted, and now replace others
  BOOST_TEST(client.ecrf.cached() == 200u);
}

BOOST_AUTO_TEST_CASE(errors_and_unreachable) {
  LostServer server("3600");
  Client client({{server.url()}, std::chrono::milliseconds(1000), ""});
  LostAnswer outside = ask(client, point(40, -100));
  BOOST_TEST(!outside.mapping.has_value());
  BOOST_TEST(outside.error == "notFound");
  Client nobody({{dead_url()}, std::chrono::milliseconds(300), ""});
  BOOST_TEST(ask(nobody, point(30.5, -97.5)).error == "unreachable");
  auto now = std::chrono::system_clock::now();
  BOOST_TEST((expiry_of("NO-CACHE", now) == now));
  BOOST_TEST((expiry_of("2030-01-01T00:00:00Z", now) > now));
  BOOST_TEST((expiry_of("soon", now) == now));
}

// A busy ESRP must not pay a TCP handshake per call: queries share one kept-alive connection,
// and one the server closed while idle is replaced without the query failing.
BOOST_AUTO_TEST_CASE(keeps_connections_to_the_server_open) {
  LostServer server("NO-CACHE");
  Client client({{server.url()}, std::chrono::milliseconds(1000), ""});
  for (int i = 0; i < 5; ++i) BOOST_TEST(ask(client, point(30.1 + 0.1 * i, -97.5)).mapping.has_value());
  BOOST_TEST(server.requests.load() == 5);
  BOOST_TEST(server.server->counters().accepted.load() == 1u);
  auto c = client.ecrf.counters();
  BOOST_TEST(c.connections_opened == 1u);
  BOOST_TEST(c.connections_reused == 4u);

  LostServer impatient("NO-CACHE", std::chrono::milliseconds(100));
  Client second({{impatient.url()}, std::chrono::milliseconds(1000), ""});
  BOOST_TEST(ask(second, point(30.5, -97.5)).mapping.has_value());
  // Wait (bounded) until the server has closed the idle connection.
  for (int i = 0; i < 100 && impatient.server->counters().open_connections.load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  BOOST_TEST_REQUIRE(impatient.server->counters().open_connections.load() == 0);
  LostAnswer again = ask(second, point(30.5, -97.5));
  BOOST_TEST(again.mapping.has_value(), again.error + " " + again.message);
  BOOST_TEST(impatient.server->counters().accepted.load() == 2u);
  BOOST_TEST(second.ecrf.counters().server_failures == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
