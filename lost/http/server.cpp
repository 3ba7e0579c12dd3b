#include "http/server.h"

#include <list>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace ng911::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

bhttp::response<bhttp::string_body> to_beast(Response r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "ng911");
  res.set(bhttp::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

Response plain(unsigned status, std::string text) { return Response{status, "text/plain", std::move(text) + "\n", {}}; }

template <class Stream>
std::string client_subject(Stream&) { return {}; }

template <>
std::string client_subject(beast::ssl_stream<beast::tcp_stream>& s) {
  X509* cert = SSL_get_peer_certificate(s.native_handle());
  if (!cert) return {};
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  X509_free(cert);
  return buf;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  ServerCounters counters;
  std::unique_ptr<ssl::context> tls;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::unique_ptr<tcp::acceptor> acceptor;  // on contexts[0]
  // The other contexts wait for connections without work of their own until stop().
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_guards;
  unsigned short bound_port = 0;

  template <class Stream>
  awaitable<void> serve(Stream& stream, std::string remote) {
    beast::flat_buffer buffer;
    std::string subject = client_subject(stream);
    for (bool first = true;; first = false) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      beast::error_code ec;
      // A keep-alive connection may idle until its next request starts; from the first byte on,
      // the request gets request_timeout for all of it.
      if (!first && buffer.size() == 0) {
        beast::get_lowest_layer(stream).expires_after(options.idle_timeout);
        std::size_t n = co_await stream.async_read_some(buffer.prepare(4096), asio::redirect_error(use_awaitable, ec));
        buffer.commit(n);
      }
      if (!ec) {
        beast::get_lowest_layer(stream).expires_after(options.request_timeout);
        co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      }
      if (!ec) co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) co_return;
      if (ec == beast::error::timeout) {
        if (parser.got_some()) ++counters.timeouts;
        co_return;
      }
      if (ec) {
        ++counters.bad_requests;
        Response r = ec == bhttp::error::body_limit     ? plain(413, "request body too large")
                     : ec == bhttp::error::header_limit ? plain(431, "request header too large")
                                                        : plain(400, "malformed HTTP request: " + ec.message());
        auto res = to_beast(std::move(r), 11, false);
        beast::get_lowest_layer(stream).expires_after(options.request_timeout);
        co_await bhttp::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
        co_return;
      }
      ++counters.requests;
      auto& req = parser.get();
      Request request{std::string(req.method_string()), std::string(req.target()),
                      std::string(req[bhttp::field::content_type]), std::move(req.body()), remote, subject};
      Response response;
      try {
        response = co_await handler(request);
      } catch (const std::exception& e) {
        response = plain(500, std::string("internal error: ") + e.what());
      }
      bool keep_alive = req.keep_alive();
      auto res = to_beast(std::move(response), req.version(), keep_alive);
      co_await bhttp::async_write(stream, res, asio::redirect_error(use_awaitable, ec));
      if (ec || !keep_alive) co_return;
    }
  }

  awaitable<void> connection(tcp::socket socket) {
    struct Count {
      ServerCounters& c;
      explicit Count(ServerCounters& counters) : c(counters) { ++c.open_connections; }
      ~Count() { --c.open_connections; }
    } count(counters);
    beast::error_code ignored;
    auto endpoint = socket.remote_endpoint(ignored);
    std::string remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    socket.set_option(tcp::no_delay(true), ignored);
    if (!tls) {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(stream, remote);
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
    beast::get_lowest_layer(stream).expires_after(options.request_timeout);
    beast::error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      ++counters.tls_failures;
      co_return;
    }
    co_await serve(stream, remote);
  }

  // One acceptor, its connections dealt to the threads in turn (each connection lives on one
  // io_context, so the threads still share nothing while serving). Not one SO_REUSEPORT acceptor
  // per thread: any other process of the same user could then bind the same port too and
  // silently take part of the connections (a second server started by mistake, or a test's port
  // picked twice) instead of failing to start.
  awaitable<void> accept_loop() {
    for (std::size_t next = 0;; next = (next + 1) % contexts.size()) {
      beast::error_code ec;
      tcp::socket socket =
          co_await acceptor->async_accept(*contexts[next], asio::redirect_error(use_awaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;
      if (static_cast<std::size_t>(counters.open_connections.load()) >= options.max_connections) {
        ++counters.refused;
        socket.close(ec);
        continue;
      }
      ++counters.accepted;
      auto executor = socket.get_executor();
      asio::co_spawn(executor, connection(std::move(socket)), asio::detached);
    }
  }
};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  auto& o = impl_->options;
  if (o.tls) {
    impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                            ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    impl_->tls->use_certificate_chain_file(o.tls->cert_file);
    impl_->tls->use_private_key_file(o.tls->key_file, ssl::context::pem);
    if (!o.tls->ca_file.empty()) {
      impl_->tls->load_verify_file(o.tls->ca_file);
      impl_->tls->set_verify_mode(ssl::verify_peer |
                                  (o.tls->require_client_cert ? ssl::verify_fail_if_no_peer_cert : ssl::verify_none));
    }
  }
  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto address = asio::ip::make_address(o.address);
  for (int i = 0; i < threads; ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
    if (i > 0) impl_->idle_guards.push_back(asio::make_work_guard(*impl_->contexts.back()));
  }
  tcp::endpoint ep(address, o.port);
  impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->contexts.front());
  impl_->acceptor->open(ep.protocol());
  impl_->acceptor->set_option(asio::socket_base::reuse_address(true));  // past TIME_WAIT, not a live listener
  boost::system::error_code ec;
  impl_->acceptor->bind(ep, ec);
  if (ec) throw std::system_error(ec, "cannot listen on " + o.address + ":" + std::to_string(o.port));
  impl_->acceptor->listen(asio::socket_base::max_listen_connections);
  impl_->bound_port = impl_->acceptor->local_endpoint().port();
}

Server::~Server() { stop(); }

void Server::run() {
  asio::co_spawn(*impl_->contexts.front(), impl_->accept_loop(), asio::detached);
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->contexts.size(); ++i) threads.emplace_back([this, i] { impl_->contexts[i]->run(); });
  impl_->contexts[0]->run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  if (!impl_) return;
  for (auto& ctx : impl_->contexts) ctx->stop();
}

unsigned short Server::port() const { return impl_->bound_port; }
const ServerCounters& Server::counters() const { return impl_->counters; }

}  // namespace ng911::http
