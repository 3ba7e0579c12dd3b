#include "console_server.h"

#include <deque>
#include <list>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace ng911::psap {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct ConsoleServer::Impl : std::enable_shared_from_this<Impl> {
  struct Client {
    explicit Client(tcp::socket s, asio::io_context& io) : ws(std::move(s)), signal(io) {}
    websocket::stream<beast::tcp_stream> ws;
    std::deque<std::string> out;
    asio::steady_timer signal;  // cancelled to wake the writer
    bool closed = false;
  };

  asio::io_context& io;
  ConsoleServerOptions options;
  Api& api;
  Psap& psap;
  tcp::acceptor acceptor;
  std::list<std::shared_ptr<Client>> clients;
  std::size_t connections = 0;
  std::uint64_t requests = 0, refused = 0, ws_dropped = 0;
  bool stopped = false;

  Impl(asio::io_context& ctx, ConsoleServerOptions o, Api& a, Psap& p)
      : io(ctx), options(std::move(o)), api(a), psap(p), acceptor(ctx) {
    tcp::endpoint ep(asio::ip::make_address(options.address), options.port);
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) co_return;
        continue;
      }
      if (connections >= options.max_connections) {
        ++refused;
        continue;  // closed as it goes out of scope
      }
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    ++connections;
    struct Count {
      std::size_t& n;
      ~Count() { --n; }
    } count{connections};
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    try {
      for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(options.max_body_bytes);
        parser.header_limit(16 * 1024);
        stream.expires_after(options.idle_timeout);
        co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
        auto request = parser.release();
        ++requests;
        if (websocket::is_upgrade(request) && request.target() == "/ws") {
          co_await upgrade(std::move(stream), std::move(request));
          co_return;
        }
        ApiRequest in{std::string(request.method_string()), std::string(request.target()), std::move(request.body()),
                      std::string(request[http::field::cookie])};
        ApiResponse out = co_await api.handle(std::move(in));
        http::response<http::string_body> response{static_cast<http::status>(out.status), request.version()};
        response.set(http::field::server, "ng911-psap");
        response.set(http::field::content_type, out.content_type);
        response.set(http::field::cache_control, "no-store");
        response.set("X-Content-Type-Options", "nosniff");
        for (const auto& [name, value] : out.headers) response.insert(name, value);
        response.keep_alive(request.keep_alive());
        response.body() = request.method() == http::verb::head ? std::string() : std::move(out.body);
        response.prepare_payload();
        co_await http::async_write(stream, response, asio::use_awaitable);
        if (!request.keep_alive()) break;
      }
    } catch (const boost::system::system_error& e) {
      if (e.code() == http::error::body_limit || e.code() == http::error::header_limit) {
        http::response<http::string_body> response{http::status::payload_too_large, 11};
        response.set(http::field::content_type, "application/json");
        response.body() = R"({"error":"request too large"})";
        response.prepare_payload();
        boost::system::error_code ignored;
        http::write(stream, response, ignored);
      }
      // Otherwise the peer went away or timed out: nothing to answer.
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> upgrade(beast::tcp_stream stream, http::request<http::string_body> request) {
    std::optional<StoredUser> user;
    try {
      user = api.authenticate(std::string(request[http::field::cookie]));
    } catch (const std::exception&) {
    }
    if (!user) {
      http::response<http::string_body> response{http::status::unauthorized, request.version()};
      response.set(http::field::content_type, "application/json");
      response.body() = "{\"error\":\"not logged in (or the session ended)\"}";
      response.prepare_payload();
      co_await http::async_write(stream, response, asio::use_awaitable);
      co_return;
    }
    stream.expires_never();
    auto client = std::make_shared<Client>(stream.release_socket(), io);
    client->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    client->ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& r) { r.set(http::field::server, "ng911-psap"); }));
    co_await client->ws.async_accept(request, asio::use_awaitable);
    client->out.push_back(nlohmann::json{{"type", "hello"}, {"seq", psap.seq()}, {"user", user->name}}.dump());
    clients.push_back(client);
    asio::co_spawn(io, writer(client), asio::detached);
    beast::flat_buffer buffer;
    try {
      for (;;) {  // the console sends nothing we act on; reading notices the close
        co_await client->ws.async_read(buffer, asio::use_awaitable);
        buffer.consume(buffer.size());
      }
    } catch (const boost::system::system_error&) {
    }
    close(client);
  }

  void close(const std::shared_ptr<Client>& client) {
    client->closed = true;
    client->signal.cancel();
    clients.remove(client);
  }

  asio::awaitable<void> writer(std::shared_ptr<Client> client) {
    try {
      while (!client->closed) {
        if (client->out.empty()) {
          client->signal.expires_at(asio::steady_timer::time_point::max());
          boost::system::error_code ec;
          co_await client->signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          continue;
        }
        std::string message = std::move(client->out.front());
        client->out.pop_front();
        client->ws.text(true);
        co_await client->ws.async_write(asio::buffer(message), asio::use_awaitable);
      }
    } catch (const boost::system::system_error&) {
      close(client);
    }
  }

  void broadcast(const nlohmann::json& event) {
    std::string text = event.dump();
    std::vector<std::shared_ptr<Client>> slow;
    for (auto& c : clients) {
      if (c->out.size() >= options.max_queued_events) {
        slow.push_back(c);
        continue;
      }
      c->out.push_back(text);
      c->signal.cancel();
    }
    for (auto& c : slow) {
      ++ws_dropped;
      boost::system::error_code ignored;
      beast::get_lowest_layer(c->ws).socket().close(ignored);
      close(c);
    }
  }
};

ConsoleServer::ConsoleServer(asio::io_context& io, ConsoleServerOptions options, Api& api, Psap& psap)
    : impl_(std::make_shared<Impl>(io, std::move(options), api, psap)) {
  asio::co_spawn(io, impl_->accept_loop(), asio::detached);
}

ConsoleServer::~ConsoleServer() { stop(); }

void ConsoleServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& c : std::vector<std::shared_ptr<Impl::Client>>(impl_->clients.begin(), impl_->clients.end())) {
    beast::get_lowest_layer(c->ws).socket().close(ignored);
    impl_->close(c);
  }
}

void ConsoleServer::broadcast(const nlohmann::json& event) { impl_->broadcast(event); }
std::uint16_t ConsoleServer::port() const { return impl_->acceptor.local_endpoint().port(); }
std::size_t ConsoleServer::websockets() const { return impl_->clients.size(); }

std::string ConsoleServer::metrics() const {
  return "# HELP ng911_psap_http_requests_total HTTP requests read.\n# TYPE ng911_psap_http_requests_total counter\n"
         "ng911_psap_http_requests_total " + std::to_string(impl_->requests) +
         "\n# HELP ng911_psap_http_refused_total Connections refused at the limit.\n# TYPE ng911_psap_http_refused_total counter\n"
         "ng911_psap_http_refused_total " + std::to_string(impl_->refused) +
         "\n# HELP ng911_psap_websockets Consoles connected by WebSocket.\n# TYPE ng911_psap_websockets gauge\n"
         "ng911_psap_websockets " + std::to_string(impl_->clients.size()) +
         "\n# HELP ng911_psap_websockets_dropped_total Consoles dropped for falling behind.\n# TYPE ng911_psap_websockets_dropped_total counter\n"
         "ng911_psap_websockets_dropped_total " + std::to_string(impl_->ws_dropped) + "\n";
}

}  // namespace ng911::psap
