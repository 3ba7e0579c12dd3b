#pragma once
// A small HTTP/1.1 server on Boost.Beast: keep-alive, optional TLS and mutual TLS (OpenSSL),
// limits on header and body size, request time and connections. One io_context per thread;
// one acceptor deals the connections to them in turn, so that threads share nothing while they
// serve, and a port in use makes the server fail to start instead of sharing it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "http/client.h"  // the client half, for users that include only this header

namespace ng911::http {

struct Request {
  std::string method;
  std::string target;
  std::string content_type;
  std::string body;
  std::string remote;  // peer address
  std::string client_cert_subject;  // with mutual TLS
};

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Runs on the connection's io_context thread; may co_await other I/O (e.g. a peer).
using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct TlsOptions {
  std::string cert_file, key_file;
  std::string ca_file;              // client certificates are verified against it when set
  bool require_client_cert = false;  // mutual TLS
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 8180;  // 0: any free port (see Server::port)
  int threads = 0;             // 0: one per core
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds request_timeout{10'000};  // reading a request and answering it
  std::chrono::milliseconds idle_timeout{60'000};     // keep-alive wait for the next request
  std::size_t max_connections = 4096;
  std::optional<TlsOptions> tls;
};

struct ServerCounters {
  std::atomic<std::int64_t> open_connections{0};
  std::atomic<std::uint64_t> accepted{0}, refused{0}, requests{0}, bad_requests{0}, timeouts{0}, tls_failures{0};
};

class Server {
 public:
  // Binds now (throws std::system_error with the address on failure); serves from run().
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void run();   // blocks until stop()
  void stop();  // safe from any thread or a signal handler's io_context
  unsigned short port() const;
  const ServerCounters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ng911::http
