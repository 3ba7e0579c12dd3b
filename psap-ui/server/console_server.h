#pragma once
// The console's HTTP/1.1 and WebSocket server on Boost.Beast, on the endpoint's io_context (one
// thread, shared with SIP: the API touches the calls without locks). Requests go to the Api;
// GET /ws with a valid session cookie becomes a WebSocket that receives every event the Psap
// pushes, as JSON text frames with their sequence number, after a {"type":"hello","seq":N}.
// A console that misses events (a dropped socket, a reload) resyncs with GET /api/calls.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "api.h"

namespace ng911::psap {

struct ConsoleServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8280;  // 0: any free port
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_connections = 512;
  std::chrono::seconds idle_timeout{60};
  std::size_t max_queued_events = 4096;  // per WebSocket; a console further behind is dropped (it resyncs)
};

class ConsoleServer {
 public:
  // Binds now (throws on failure); serves on the io_context.
  ConsoleServer(boost::asio::io_context& io, ConsoleServerOptions options, Api& api, Psap& psap);
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  void broadcast(const nlohmann::json& event);
  std::uint16_t port() const;
  std::size_t websockets() const;
  std::string metrics() const;  // Prometheus lines
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ng911::psap
