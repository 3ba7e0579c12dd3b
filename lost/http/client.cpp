#include "http/client.h"

#include <map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
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
using Clock = std::chrono::steady_clock;

std::optional<Uri> parse_uri(const std::string& uri) {
  Uri u;
  std::string_view rest(uri);
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  else if (rest.starts_with("https://")) rest.remove_prefix(8), u.tls = true;
  else return std::nullopt;
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty()) return std::nullopt;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    u.port = authority.starts_with(":") ? std::string(authority.substr(1)) : "";
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    u.port = colon == std::string_view::npos ? "" : std::string(authority.substr(colon + 1));
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

namespace {

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  Clock::time_point idle_since;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

using Request = bhttp::request<bhttp::string_body>;
using Parser = bhttp::response_parser<bhttp::string_body>;

template <class Stream>
awaitable<void> exchange(Stream& stream, const Request& req, beast::flat_buffer& buffer, Parser& parser,
                         beast::error_code& ec) {
  co_await bhttp::async_write(stream, req, asio::redirect_error(use_awaitable, ec));
  if (!ec) co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
}

}  // namespace

struct ClientPool::State {
  explicit State(ClientPoolOptions o) : options(std::move(o)) {}

  ClientPoolOptions options;
  std::optional<ssl::context> tls_context;  // declared before the connections, which use it
  std::map<std::string, std::vector<Connection>> idle;  // key: scheme://host:port; back = most recent
  ClientPoolCounters counters;

  ssl::context& context() {
    if (!tls_context) {
      tls_context.emplace(ssl::context::tls_client);
      if (options.ca_file.empty()) tls_context->set_default_verify_paths();
      else tls_context->load_verify_file(options.ca_file);
      tls_context->set_verify_mode(ssl::verify_peer);
    }
    return *tls_context;
  }

  std::optional<Connection> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return std::nullopt;
    auto& list = it->second;
    while (!list.empty()) {
      Connection c = std::move(list.back());
      list.pop_back();
      if (Clock::now() - c.idle_since < options.idle_timeout) return c;
    }
    return std::nullopt;
  }

  void give_back(const std::string& key, Connection c) {
    auto& list = idle[key];
    // Oldest first: those past the idle timeout are closed rather than left in CLOSE-WAIT.
    auto now = Clock::now();
    std::size_t stale = 0;
    while (stale < list.size() && now - list[stale].idle_since >= options.idle_timeout) ++stale;
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(stale));
    if (list.size() >= options.max_idle_per_peer) return;  // c closes here
    c.lowest().expires_never();
    c.idle_since = now;
    list.push_back(std::move(c));
  }

  awaitable<std::optional<Connection>> connect(const Uri& u, Clock::time_point deadline, beast::error_code& ec,
                                               std::string& error) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(u.host, u.port, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      error = "cannot resolve " + u.host + ": " + ec.message();
      co_return std::nullopt;
    }
    Connection c;
    if (!u.tls) c.plain = std::make_unique<beast::tcp_stream>(executor);
    else c.tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor, context());
    c.lowest().expires_at(deadline);
    co_await c.lowest().async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
    if (!ec) c.lowest().socket().set_option(tcp::no_delay(true), ec);  // one request, one segment: no Nagle wait
    if (!ec && c.tls) {
      // The certificate must be for the host we dialled, not just signed by a CA we trust.
      c.tls->set_verify_callback(ssl::host_name_verification(u.host));
      SSL_set_tlsext_host_name(c.tls->native_handle(), u.host.c_str());
      co_await c.tls->async_handshake(ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
    }
    if (ec) {
      error = ec.message();
      co_return std::nullopt;
    }
    co_return c;
  }
};

ClientPool::ClientPool(ClientPoolOptions options) : state_(std::make_shared<State>(std::move(options))) {}
ClientPool::~ClientPool() = default;

ClientPoolCounters ClientPool::counters() const { return state_->counters; }

std::size_t ClientPool::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [key, list] : state_->idle) n += list.size();
  return n;
}

awaitable<ClientResult> ClientPool::post(std::string uri, std::string content_type, std::string body,
                                         std::chrono::milliseconds timeout) {
  auto state = state_;  // keeps the pool's state alive while this request runs
  ++state->counters.requests;
  ClientResult result;
  auto u = parse_uri(uri);
  if (!u) {
    ++state->counters.failures;
    result.error = "bad URI " + uri;
    co_return result;
  }
  const auto deadline = Clock::now() + timeout;
  const std::string key = (u->tls ? "https://" : "http://") + u->host + ":" + u->port;
  Request req{bhttp::verb::post, u->target, 11};
  req.set(bhttp::field::host, u->host);
  req.set(bhttp::field::content_type, content_type);
  req.set(bhttp::field::user_agent, "ng911");
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    beast::error_code ec;
    std::optional<Connection> conn = state->take_idle(key);
    const bool reused = conn.has_value();
    if (reused) {
      ++state->counters.reuses;
      conn->lowest().expires_at(deadline);
    } else {
      ++state->counters.connects;
      conn = co_await state->connect(*u, deadline, ec, result.error);
      if (!conn) {
        ++state->counters.failures;
        result.timed_out = ec == beast::error::timeout;
        co_return result;
      }
    }
    Parser parser;
    parser.body_limit(16 * 1024 * 1024);
    beast::flat_buffer buffer;
    if (conn->plain) co_await exchange(*conn->plain, req, buffer, parser, ec);
    else co_await exchange(*conn->tls, req, buffer, parser, ec);
    if (ec) {
      // The server may have closed the idle connection as we sent: nothing of an answer came,
      // so the (idempotent) request goes once more on a new connection.
      if (reused && attempt == 0 && !parser.got_some() && ec != beast::error::timeout) {
        ++state->counters.retries;
        continue;
      }
      ++state->counters.failures;
      result.timed_out = ec == beast::error::timeout;
      result.error = ec.message();
      co_return result;
    }
    auto& res = parser.get();
    result.ok = true;
    result.status = res.result_int();
    result.content_type = std::string(res[bhttp::field::content_type]);
    const bool keep = res.keep_alive() && parser.is_done();
    result.body = std::move(res.body());
    if (keep) state->give_back(key, std::move(*conn));
    co_return result;
  }
}

awaitable<ClientResult> post(const std::string& uri, const std::string& content_type, std::string body,
                             std::chrono::milliseconds timeout, std::string ca_file) {
  ClientPool one({.max_idle_per_peer = 0, .idle_timeout = {}, .ca_file = std::move(ca_file)});
  co_return co_await one.post(uri, content_type, std::move(body), timeout);
}

}  // namespace ng911::http
