#pragma once
// The HTTP/1.1 client half on Boost.Beast: POSTs for LoST between servers, the ESRP's ECRF
// queries and HELD dereferences. A ClientPool keeps connections to each peer open between
// requests, so that a busy ESRP does not pay a TCP (and TLS) handshake per emergency call,
// nor leave thousands of sockets in TIME-WAIT.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // boost/asio/awaitable.hpp in Boost 1.74 uses std::exchange without it

#include <boost/asio/awaitable.hpp>

namespace ng911::http {

// A parsed http(s) URI for outgoing requests.
struct Uri {
  bool tls = false;
  std::string host, port, target;
};
std::optional<Uri> parse_uri(const std::string& uri);

struct ClientResult {
  bool ok = false;       // a response arrived
  bool timed_out = false;
  unsigned status = 0;
  std::string content_type, body, error;
};

struct ClientPoolOptions {
  std::size_t max_idle_per_peer = 32;  // connections kept open per scheme+host+port
  // Below the servers' keep-alive timeouts (ng911-lost: 60 s), so that we rarely reuse a
  // connection the server is closing at the same moment.
  std::chrono::milliseconds idle_timeout{20'000};
  std::string ca_file;  // https peers' CA; empty: the system's trust store
};

struct ClientPoolCounters {
  std::uint64_t requests = 0, connects = 0, reuses = 0, retries = 0, failures = 0;
};

// Persistent connections per peer. Not thread-safe: use a pool from the one thread (or
// strand) that runs its coroutines. Requests may overlap: each takes an idle connection or
// opens one. Only for idempotent requests (LoST, HELD): a request that fails on a reused
// connection before any answer arrived is sent once more on a fresh one, because the server
// may have closed the idle connection just as we sent.
class ClientPool {
 public:
  explicit ClientPool(ClientPoolOptions options = {});
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  // POSTs body to uri on the calling coroutine's executor, giving up after `timeout` (connect,
  // TLS handshake, write and read together). https peers must present a certificate for their
  // host name from a CA in the pool's ca_file.
  boost::asio::awaitable<ClientResult> post(std::string uri, std::string content_type, std::string body,
                                            std::chrono::milliseconds timeout);

  ClientPoolCounters counters() const;
  std::size_t idle_connections() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with requests in flight, which may outlive the pool
};

// One request on a connection of its own, closed afterwards.
boost::asio::awaitable<ClientResult> post(const std::string& uri, const std::string& content_type, std::string body,
                                          std::chrono::milliseconds timeout, std::string ca_file = {});

}  // namespace ng911::http
