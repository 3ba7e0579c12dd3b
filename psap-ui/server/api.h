#pragma once
// The console's HTTP API (docs/psap-api.md): login and sessions, the call queue and call
// records, call actions, the supervisor view, the PSAP boundaries, /metrics, /healthz and the
// console's static files. Each request is authorised by the user's role and each action
// written to the audit log; errors are JSON {"error": "..."} with 400, 401, 403, 404, 405,
// 409, 502 or 503, never an exception out of handle().
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "psap.h"
#include "store.h"

namespace ng911::psap {

inline constexpr const char* kSessionCookie = "ng911_psap_session";

struct ApiRequest {
  std::string method;  // GET, POST, ...
  std::string target;  // path and query
  std::string body;
  std::string cookie;  // the Cookie header
};

struct ApiResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie, Allow, ...
};

struct ApiConfig {
  std::string console_dir;           // static files; empty or missing: none served
  int session_seconds = 12 * 3600;   // a shift
  bool secure_cookie = false;        // Secure attribute (when served behind TLS)
};

class Api {
 public:
  Api(Psap& psap, Store& store, lost::Logger& log, ApiConfig config);
  boost::asio::awaitable<ApiResponse> handle(ApiRequest request);
  // The user of the session in a Cookie header (for the WebSocket upgrade); nullopt if none.
  std::optional<StoredUser> authenticate(const std::string& cookie_header);
  // Lines appended to /metrics (the HTTP server's own counters).
  std::function<std::string()> extra_metrics;

 private:
  boost::asio::awaitable<ApiResponse> route(const ApiRequest& request, const std::string& path);
  ApiResponse login(const ApiRequest& request);
  ApiResponse static_file(const std::string& path) const;
  Psap& psap_;
  Store& store_;
  lost::Logger& log_;
  ApiConfig config_;
};

}  // namespace ng911::psap
