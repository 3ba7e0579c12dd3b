#include "api.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ng911::psap {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

ApiResponse json_response(unsigned status, const json& body) { return {status, "application/json", body.dump(), {}}; }
ApiResponse error(unsigned status, std::string_view message) { return json_response(status, {{"error", message}}); }
ApiResponse from(const Outcome& o) { return o.ok() ? json_response(static_cast<unsigned>(o.status), o.body) : error(static_cast<unsigned>(o.status), o.error); }

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return out;
}

std::optional<CallId> parse_id(std::string_view s) {
  CallId id = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc() || p != s.data() + s.size() || id <= 0) return std::nullopt;
  return id;
}

std::string content_type_of(const std::filesystem::path& p) {
  static const std::pair<const char*, const char*> types[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".json", "application/json"},            {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".ico", "image/x-icon"},                 {".woff2", "font/woff2"},
      {".map", "application/json"},          {".geojson", "application/geo+json"}};
  std::string ext = p.extension().string();
  for (const auto& [e, t] : types)
    if (ext == e) return t;
  return "application/octet-stream";
}

}  // namespace

Api::Api(Psap& psap, Store& store, lost::Logger& log, ApiConfig config)
    : psap_(psap), store_(store), log_(log), config_(std::move(config)) {}

std::optional<StoredUser> Api::authenticate(const std::string& cookie_header) {
  auto token = cookie_value(cookie_header, kSessionCookie);
  if (!token || token->size() != 64) return std::nullopt;
  return store_.session_user(sha256_hex(*token));
}

asio::awaitable<ApiResponse> Api::handle(ApiRequest request) {
  std::string path = request.target.substr(0, request.target.find('?'));
  try {
    co_return co_await route(request, path);
  } catch (const std::exception& e) {
    // The database went away mid-request, most likely: the console retries; the calls go on.
    log_.write("error", "api_failed", {{"path", path}, {"error", e.what()}});
    co_return error(503, std::string("storage unavailable: ") + e.what());
  }
}

ApiResponse Api::login(const ApiRequest& request) {
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      !body.contains("password") || !body["password"].is_string())
    return error(400, "login needs a JSON object with name and password");
  std::string name = body["name"], password = body["password"];
  auto user = store_.user(name);
  // The same answer, and the same hashing work, for an unknown user as for a wrong password.
  static const std::string decoy = hash_password("decoy", kDefaultPbkdf2Iterations);
  bool ok = verify_password(password, user ? user->password_hash : decoy) && user && !user->disabled;
  if (!ok) {
    store_.audit(name, "login", std::nullopt, "401");
    return error(401, "wrong name or password");
  }
  std::string token = new_session_token();
  store_.create_session(sha256_hex(token), user->name, config_.session_seconds);
  store_.audit(user->name, "login", std::nullopt, "ok");
  psap_.taker_present(user->name);
  auto r = json_response(200, {{"name", user->name}, {"role", role_name(user->role)}, {"seq", psap_.seq()}});
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                           std::to_string(config_.session_seconds) + (config_.secure_cookie ? "; Secure" : ""));
  return r;
}

asio::awaitable<ApiResponse> Api::route(const ApiRequest& request, const std::string& path) {
  const std::string& method = request.method;
  if (path == "/healthz") co_return json_response(200, {{"status", "ok"}, {"sip_port", psap_.sip_port()}, {"seq", psap_.seq()}});
  if (path == "/metrics") {
    std::string text = psap_.metrics();
    if (extra_metrics) text += extra_metrics();
    co_return ApiResponse{200, "text/plain; version=0.0.4", text, {}};
  }
  if (!path.starts_with("/api/")) {
    if (method != "GET" && method != "HEAD") co_return error(405, "method not allowed");
    co_return static_file(path);
  }
  if (path == "/api/login") {
    if (method != "POST") co_return error(405, "POST /api/login");
    co_return login(request);
  }
  auto user = authenticate(request.cookie);
  auto parts = segments(path);  // "api", ...
  std::string action = method + " " + path;
  std::optional<CallId> call_id;
  if (parts.size() >= 3 && parts[1] == "calls") call_id = parse_id(parts[2]);
  if (!user) {
    store_.audit("", action, call_id, "401");
    co_return error(401, "not logged in (or the session ended)");
  }
  psap_.taker_present(user->name);  // sessions outlive a restart of ng911-psap
  auto audited = [&](ApiResponse r, json detail = json::object()) {
    store_.audit(user->name, action, call_id, r.status < 300 ? "ok" : std::to_string(r.status), detail);
    return r;
  };
  json body = json::object();
  if (method == "POST" && !request.body.empty()) {
    body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) co_return audited(error(400, "the body must be a JSON object"));
  }
  auto want = [&](const char* m) { return method == m; };

  if (path == "/api/logout") {
    if (!want("POST")) co_return error(405, "POST /api/logout");
    if (auto token = cookie_value(request.cookie, kSessionCookie)) store_.end_session(sha256_hex(*token));
    psap_.taker_gone(user->name);
    auto r = audited(json_response(200, {{"name", user->name}, {"logged_out", true}}));
    r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    co_return r;
  }
  if (path == "/api/me")
    co_return json_response(200, {{"name", user->name}, {"role", role_name(user->role)}, {"ready", psap_.taker_is_ready(user->name)}});
  if (path == "/api/me/ready" || path == "/api/me/not-ready") {
    if (!want("POST")) co_return error(405, "POST only");
    bool ready = path == "/api/me/ready";
    psap_.taker_ready(user->name, ready);
    co_return audited(json_response(200, {{"name", user->name}, {"ready", ready}}));
  }
  if (path == "/api/supervisor" || path == "/api/audit") {
    if (user->role != Role::supervisor) co_return audited(error(403, "supervisors only"));
    if (path == "/api/audit") co_return json_response(200, store_.audit_tail(200));
    co_return audited(json_response(200, psap_.supervisor()));
  }
  if (path == "/api/boundaries") {
    bool all = request.target.find("all=1") != std::string::npos;
    std::vector<std::string> queues;
    if (!all)
      for (const auto& q : psap_.queues()) queues.push_back(q);
    co_return ApiResponse{200, "application/geo+json", store_.boundaries(queues), {}};
  }
  if (path == "/api/answer-next") {
    if (!want("POST")) co_return error(405, "POST only");
    auto r = psap_.answer_next(user->name);
    if (r.ok() && r.body.contains("id")) call_id = r.body["id"].get<CallId>();
    co_return audited(from(r));
  }
  if (parts.size() >= 2 && parts[1] == "calls") {
    if (parts.size() == 2) {
      if (!want("GET")) co_return error(405, "GET only");
      co_return json_response(200, psap_.calls());
    }
    if (!call_id) co_return audited(error(400, "a call id is a positive number"));
    if (parts.size() == 3) {
      if (!want("GET")) co_return error(405, "GET only");
      co_return audited(from(psap_.call(*call_id)));
    }
    if (parts.size() != 4) co_return error(404, "no such resource");
    if (!want("POST")) co_return error(405, "POST only");
    std::string_view verb = parts[3];
    if (verb == "answer") co_return audited(from(psap_.answer(*call_id, user->name)));
    if (verb == "hold") co_return audited(from(psap_.hold(*call_id, user->name)));
    if (verb == "resume") co_return audited(from(psap_.resume(*call_id, user->name)));
    if (verb == "release") co_return audited(from(psap_.release(*call_id, user->name)));
    if (verb == "rebid") co_return audited(from(co_await psap_.rebid(*call_id, user->name)));
    if (verb == "transfer") {
      if (!body.contains("target") || !body["target"].is_string())
        co_return audited(error(400, "transfer needs {\"target\": \"urn:service:... or sip:...\"}"));
      std::string target = body["target"];
      co_return audited(from(psap_.transfer(*call_id, user->name, target)), {{"target", target}});
    }
    if (verb == "text") {
      if (!body.contains("text") || !body["text"].is_string()) co_return audited(error(400, "text needs {\"text\": \"...\"}"));
      co_return audited(from(psap_.send_text(*call_id, user->name, body["text"].get<std::string>())));
    }
    co_return audited(error(404, "no action '" + std::string(verb) + "'"));
  }
  co_return error(404, "no such resource");
}

ApiResponse Api::static_file(const std::string& path) const {
  namespace fs = std::filesystem;
  if (config_.console_dir.empty()) return error(404, "no console directory");
  std::error_code ec;
  fs::path root = fs::canonical(config_.console_dir, ec);
  if (ec) return ApiResponse{404, "text/plain", "the console is not built (" + config_.console_dir + ")\n", {}};
  std::string rel = path == "/" ? "index.html" : path.substr(1);
  if (rel.find("..") != std::string::npos || rel.find('\0') != std::string::npos) return error(400, "bad path");
  fs::path file = fs::weakly_canonical(root / rel, ec);
  // Only files below the console directory, whatever links or encodings the path tries.
  auto [r, f] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  if (ec || r != root.end() || !fs::is_regular_file(file, ec)) return error(404, "not found");
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return ApiResponse{200, content_type_of(file), s.str(), {}};
}

}  // namespace ng911::psap
