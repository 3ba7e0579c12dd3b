// SIP transports on loopback: UDP, TCP and TLS, IPv4 and IPv6; replies over the connection a
// request came in on; stream framing; a TLS peer with a certificate we do not trust.
#include <boost/test/unit_test.hpp>

#include <array>
#include <filesystem>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "sip/message.h"
#include "sip/transport.h"

using namespace ng911::sip;
namespace fs = std::filesystem;

namespace {

std::string options(const std::string& call_id) {
  return "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK" + call_id +
         "\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: " + call_id +
         "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

struct Received {
  std::vector<std::pair<std::string, Endpoint>> messages;
  std::vector<std::string> failures;
};

// Runs the loop until `done` or 5 s: every wait here is bounded.
template <class F>
void run_until(boost::asio::io_context& io, F done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
}

void round_trip(const std::string& address, Protocol protocol, std::optional<TlsConfig> tls_a = {},
                std::optional<TlsConfig> tls_b = {}) {
  boost::asio::io_context io;
  Received a, b;
  std::unique_ptr<Transport> tb;
  Transport ta(io, address, 0, [&](std::string m, const Endpoint& from) { a.messages.emplace_back(std::move(m), from); },
               [&](const Endpoint&, const std::string& why) { a.failures.push_back(why); }, tls_a);
  tb = std::make_unique<Transport>(
      io, address, 0,
      [&](std::string m, const Endpoint& from) {
        b.messages.emplace_back(m, from);
        tb->send(from, options("reply-" + std::to_string(b.messages.size())));  // back on the same way
      },
      [&](const Endpoint&, const std::string& why) { b.failures.push_back(why); }, tls_b);
  std::uint16_t port = protocol == Protocol::tls ? tb->tls_port() : tb->port();
  Endpoint to{protocol, boost::asio::ip::make_address(address), port};
  ta.send(to, options("one"));
  ta.send(to, options("two"));  // on streams: the same connection, framed apart
  run_until(io, [&] { return a.messages.size() == 2 || !a.failures.empty(); });
  BOOST_TEST_REQUIRE(a.failures.empty(), a.failures.front());
  BOOST_TEST_REQUIRE(b.messages.size() == 2u);
  BOOST_TEST(Message::parse(b.messages[0].first).call_id() == "one");
  BOOST_TEST(Message::parse(b.messages[1].first).call_id() == "two");
  BOOST_TEST((b.messages[0].second.protocol == protocol));
  BOOST_TEST(b.messages[0].second.address.to_string() == address);
  BOOST_TEST_REQUIRE(a.messages.size() == 2u);
  BOOST_TEST(Message::parse(a.messages[0].first).call_id() == "reply-1");
  BOOST_TEST((a.messages[0].second.protocol == protocol));
  if (protocol != Protocol::udp) BOOST_TEST(a.messages[0].second.port == port);  // the connection we opened
}

struct Pki {
  fs::path dir = fs::temp_directory_path() / ("ng911-sip-tls-" + std::to_string(::getpid()));
  Pki() {
    fs::create_directories(dir);
    std::string d = dir.string();
    // A CA, and a certificate for 127.0.0.1 that it signs; a second, untrusted CA.
    std::string cmd =
        "cd '" + d + "' && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj /CN=127.0.0.1 2>/dev/null && "
        "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
        "openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 2 -extfile ext 2>/dev/null && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other-ca 2>/dev/null";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  }
  ~Pki() { fs::remove_all(dir); }
  TlsConfig config(const std::string& ca = "ca.pem") const {
    return TlsConfig{(dir / "node.pem").string(), (dir / "node.key").string(), (dir / ca).string(), 0, false};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sip_transport)

BOOST_AUTO_TEST_CASE(udp_ipv4_and_ipv6) {
  round_trip("127.0.0.1", Protocol::udp);
  round_trip("::1", Protocol::udp);
}

// A burst larger than one wake-up's share (64) and than one recvmmsg (16), with a datagram of
// 60,000 bytes among them: every one arrives whole and in order, every reply (sent as a batch)
// goes out, and the loop runs other work before the burst is through.
BOOST_AUTO_TEST_CASE(udp_burst_arrives_whole_in_order_and_shares_the_loop) {
  namespace asio = boost::asio;
  asio::io_context io;
  std::vector<std::string> received;
  std::optional<std::size_t> received_when_other_work_ran;
  std::unique_ptr<Transport> server;
  server = std::make_unique<Transport>(io, "127.0.0.1", 0, [&](std::string m, const Endpoint& from) {
    if (received.empty()) asio::post(io, [&] { received_when_other_work_ran = received.size(); });
    received.push_back(m);
    server->send(from, "reply-" + std::to_string(received.size()));
  });
  asio::ip::udp::socket client(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), server->port());
  const std::size_t burst = 200;
  const std::string big(60000, 'x');
  for (std::size_t i = 0; i < burst; ++i) {
    std::string payload = i == 100 ? big : options("burst-" + std::to_string(i));
    client.send_to(asio::buffer(payload), to);  // all queued before the loop runs
  }
  run_until(io, [&] { return received.size() == burst; });
  BOOST_TEST_REQUIRE(received.size() == burst);
  for (std::size_t i = 0; i < burst; ++i) {
    if (i == 100) BOOST_TEST((received[i] == big));
    else BOOST_TEST(Message::parse(received[i]).call_id() == "burst-" + std::to_string(i));
  }
  BOOST_TEST_REQUIRE(received_when_other_work_ran.has_value());
  BOOST_TEST(*received_when_other_work_ran < burst);
  std::array<char, 100> reply;
  for (std::size_t i = 1; i <= burst; ++i) {
    std::size_t n = client.receive(asio::buffer(reply));
    BOOST_TEST(std::string(reply.data(), n) == "reply-" + std::to_string(i));
  }
}

// What one batch of datagrams sends a TCP peer leaves in gathered writes at the batch's end:
// every message whole and in order, behind the one sent before the batch.
BOOST_AUTO_TEST_CASE(stream_messages_of_a_batch_arrive_whole_in_order) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::acceptor peer(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Endpoint to{Protocol::tcp, asio::ip::make_address("127.0.0.1"), peer.local_endpoint().port()};
  std::vector<std::string> failures;
  std::unique_ptr<Transport> proxy;
  proxy = std::make_unique<Transport>(
      io, "127.0.0.1", 0, [&](std::string m, const Endpoint&) { proxy->send(to, std::move(m)); },
      [&](const Endpoint&, const std::string& why) { failures.push_back(why); });
  asio::ip::tcp::socket accepted(io);
  peer.async_accept(accepted, [](boost::system::error_code) {});
  std::string expected = options("before");
  proxy->send(to, options("before"));  // opens the connection, outside any batch
  run_until(io, [&] { return accepted.is_open(); });
  BOOST_TEST_REQUIRE(accepted.is_open());
  asio::ip::udp::socket client(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ip::udp::endpoint proxy_udp(asio::ip::make_address("127.0.0.1"), proxy->port());
  const std::size_t burst = 100;
  for (std::size_t i = 0; i < burst; ++i) {
    std::string m = options("batch-" + std::to_string(i));
    expected += m;
    client.send_to(asio::buffer(m), proxy_udp);  // all queued before the loop runs
  }
  std::string got;
  std::array<char, 65536> buffer;
  std::function<void()> read_more = [&] {
    accepted.async_read_some(asio::buffer(buffer), [&](boost::system::error_code ec, std::size_t n) {
      got.append(buffer.data(), n);
      if (!ec) read_more();
    });
  };
  read_more();
  run_until(io, [&] { return got.size() >= expected.size() || !failures.empty(); });
  BOOST_TEST_REQUIRE(failures.empty(), failures.front());
  BOOST_TEST(got == expected);
}

// The batch hooks bracket each batch of received messages (a drain of datagrams, the messages
// of one stream read), and the replies the batch caused leave only after the end hook: the ESRP
// writes a batch's call log events there, before the messages they describe go out.
BOOST_AUTO_TEST_CASE(batch_hooks_bracket_each_batch_before_its_sends) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::udp::socket client(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Endpoint client_at{Protocol::udp, asio::ip::make_address("127.0.0.1"), client.local_endpoint().port()};
  std::vector<std::string> trace;
  std::size_t replies = 0;
  std::unique_ptr<Transport> proxy;
  proxy = std::make_unique<Transport>(io, "127.0.0.1", 0, [&](std::string m, const Endpoint& from) {
    trace.push_back(from.protocol == Protocol::udp ? "udp" : "tcp");
    proxy->send(client_at, "reply to " + std::string(Message::parse(m).call_id()));
  });
  proxy->set_batch_hooks([&] { trace.push_back("begin"); },
                         [&] { trace.push_back("end, client holds " + std::to_string(client.available())); });
  auto client_reads = [&] {
    std::array<char, 2048> b;
    asio::ip::udp::endpoint from;
    while (client.available() > 0) {
      client.receive_from(asio::buffer(b), from);
      ++replies;
    }
  };
  asio::ip::udp::endpoint proxy_udp(asio::ip::make_address("127.0.0.1"), proxy->port());
  for (int i = 0; i < 3; ++i) client.send_to(asio::buffer(options("d" + std::to_string(i))), proxy_udp);
  run_until(io, [&] {
    client_reads();
    return replies == 3;
  });
  BOOST_TEST_REQUIRE(replies == 3u);
  std::vector<std::string> want = {"begin", "udp", "udp", "udp", "end, client holds 0"};
  BOOST_TEST(trace == want, boost::test_tools::per_element());

  // Two messages in one stream write: one batch, and their UDP replies after its end.
  trace.clear();
  asio::ip::tcp::socket stream(io);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), proxy->port()));
  std::string two = options("s1") + options("s2");
  asio::write(stream, asio::buffer(two));
  run_until(io, [&] {
    client_reads();
    return replies == 5;
  });
  BOOST_TEST_REQUIRE(replies == 5u);
  want = {"begin", "tcp", "tcp", "end, client holds 0"};
  BOOST_TEST(trace == want, boost::test_tools::per_element());
}

// A datagram the kernel refuses (port 0: EINVAL, nothing leaves the host) is reported through
// the failure callback, from the loop and not from inside send(); the others of its batch go.
BOOST_AUTO_TEST_CASE(udp_send_failure_is_reported_and_the_batch_goes_on) {
  namespace asio = boost::asio;
  asio::io_context io;
  std::vector<std::string> failures;
  bool inside_send = false;
  std::size_t received = 0;
  std::unique_ptr<Transport> server;
  Endpoint nowhere{Protocol::udp, asio::ip::make_address("127.0.0.1"), 0};
  server = std::make_unique<Transport>(
      io, "127.0.0.1", 0,
      [&](std::string, const Endpoint& from) {
        ++received;
        inside_send = true;
        server->send(nowhere, "lost");
        server->send(from, "reply");
        inside_send = false;
      },
      [&](const Endpoint& to, const std::string& why) {
        BOOST_TEST(!inside_send);
        BOOST_TEST(to.port == 0);
        failures.push_back(why);
      });
  asio::ip::udp::socket client(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), server->port());
  for (int i = 0; i < 5; ++i) client.send_to(asio::buffer(options("f" + std::to_string(i))), to);
  run_until(io, [&] { return failures.size() == 5; });
  BOOST_TEST(received == 5u);
  BOOST_TEST_REQUIRE(failures.size() == 5u);
  std::array<char, 100> reply;
  for (int i = 0; i < 5; ++i) BOOST_TEST(std::string(reply.data(), client.receive(asio::buffer(reply))) == "reply");
  // Outside a batch too.
  server->send(nowhere, "lost");
  BOOST_TEST(failures.size() == 5u);
  run_until(io, [&] { return failures.size() == 6; });
  BOOST_TEST(failures.size() == 6u);
}

BOOST_AUTO_TEST_CASE(tcp_ipv4_and_ipv6) {
  round_trip("127.0.0.1", Protocol::tcp);
  round_trip("::1", Protocol::tcp);
}

BOOST_AUTO_TEST_CASE(tls_with_a_trusted_certificate) {
  Pki pki;
  round_trip("127.0.0.1", Protocol::tls, pki.config(), pki.config());
}

BOOST_AUTO_TEST_CASE(tls_peer_with_an_untrusted_certificate_is_refused) {
  Pki pki;
  boost::asio::io_context io;
  std::vector<std::string> failures;
  std::size_t delivered = 0;
  Transport server(io, "127.0.0.1", 0, [&](std::string, const Endpoint&) { ++delivered; }, {}, pki.config());
  Transport client(io, "127.0.0.1", 0, [](std::string, const Endpoint&) {},
                   [&](const Endpoint&, const std::string& why) { failures.push_back(why); }, pki.config("other.pem"));
  client.send(Endpoint{Protocol::tls, boost::asio::ip::make_address("127.0.0.1"), server.tls_port()}, options("x"));
  run_until(io, [&] { return !failures.empty(); });
  BOOST_TEST_REQUIRE(failures.size() == 1u);
  BOOST_TEST(failures[0].find("TLS handshake") != std::string::npos, failures[0]);
  BOOST_TEST(delivered == 0u);
}

BOOST_AUTO_TEST_CASE(unreachable_tcp_peer_is_reported) {
  boost::asio::io_context io;
  std::vector<std::string> failures;
  Transport client(io, "127.0.0.1", 0, [](std::string, const Endpoint&) {},
                   [&](const Endpoint&, const std::string& why) { failures.push_back(why); });
  // A port that nothing listens on: bind, note, close.
  std::uint16_t dead;
  {
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    dead = a.local_endpoint().port();
  }
  client.send(Endpoint{Protocol::tcp, boost::asio::ip::make_address("127.0.0.1"), dead}, options("x"));
  run_until(io, [&] { return !failures.empty(); });
  BOOST_TEST(failures.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
