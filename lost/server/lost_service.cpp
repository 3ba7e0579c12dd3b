#include "server/lost_service.h"

#include <csignal>
#include <pthread.h>

#include <boost/asio/use_awaitable.hpp>

#include "db/conninfo.h"
#include "ecrf/ecrf.h"
#include "http/server.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/snapshot_watcher.h"

namespace ng911::lost {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

bool is_lost_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view media = ct.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return ecrf::lower_ascii_equals(media, "application/lost+xml");
}

// A peer's answer we pass on must itself be a LoST answer to the request we forwarded: the
// matching response, <errors> or <redirect>, in UTF-8 XML.
bool is_lost_answer(const std::string& body, const std::string& request) {
  if (ecrf::first_non_xml_char(body)) return false;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return false;
  auto root = doc.document_element();
  if (ecrf::namespace_uri(root) != ecrf::kLostNs) return false;
  auto name = ecrf::local_name(root);
  return name == request + "Response" || name == "errors" || name == "redirect";
}

}  // namespace

struct LostService::Impl {
  Config config;
  Logger log;
  std::string conninfo;
  SnapshotWatcher watcher;
  ecrf::Ecrf ecrf;
  QueryMetrics metrics;
  std::unique_ptr<http::Server> server;

  explicit Impl(Config c)
      : config(std::move(c)),
        conninfo(db::resolve_conninfo(config.db)),
        watcher(conninfo, config.reload_check, log),
        ecrf(config.ecrf, [this] { return watcher.current(); }) {}

  asio::awaitable<http::Response> handle(http::Request& req) {
    std::string_view target = req.target;
    target = target.substr(0, target.find('?'));
    if (target == "/healthz") {
      if (req.method != "GET" && req.method != "HEAD") co_return http::Response{405, "text/plain", "use GET\n", {{"Allow", "GET"}}};
      auto snap = watcher.current();
      if (!snap) co_return http::Response{503, "text/plain", "starting: no published data loaded yet\n", {}};
      co_return http::Response{200, "text/plain",
                               "ok boundaries=" + std::to_string(snap->boundary_count()) +
                                   " services=" + std::to_string(snap->services().size()) + "\n",
                               {}};
    }
    if (target == "/metrics") {
      if (req.method != "GET") co_return http::Response{405, "text/plain", "use GET\n", {{"Allow", "GET"}}};
      co_return http::Response{200, "text/plain; version=0.0.4", prometheus(), {}};
    }
    if (target != "/") co_return http::Response{404, "text/plain", "not found: LoST is served at /\n", {}};
    if (req.method != "POST")
      co_return http::Response{405, "text/plain", "LoST requests are POSTed\n", {{"Allow", "POST"}}};
    if (!is_lost_content_type(req.content_type))
      co_return http::Response{415, "text/plain", "Content-Type must be application/lost+xml\n", {}};

    auto started = Clock::now();
    ecrf::QueryOutcome outcome;
    auto result = ecrf.handle(req.body, outcome);
    std::string body;
    std::string peer;
    if (auto* answer = std::get_if<ecrf::Answer>(&result)) {
      body = std::move(answer->body);
    } else {
      auto& forward = std::get<ecrf::Forward>(result);
      peer = forward.peer_id;
      auto reply = co_await http::post(forward.peer_uri, "application/lost+xml", std::move(forward.body), config.peer_timeout,
                                       config.peer_ca);
      if (reply.timed_out) {
        body = ecrf.peer_timeout(forward.peer_id);
        outcome.result = "serverTimeout";
      } else if (!reply.ok || reply.status != 200 || !is_lost_answer(reply.body, outcome.request)) {
        body = ecrf.peer_failed(forward.peer_id, !reply.ok             ? reply.error
                                                 : reply.status != 200 ? "HTTP " + std::to_string(reply.status)
                                                                       : "its answer is not a LoST " + outcome.request + " answer");
        outcome.result = "serverError";
      } else {
        body = std::move(reply.body);
      }
    }
    auto latency = Clock::now() - started;
    metrics.record(outcome, latency);
    if (config.log_queries)
      log.write("info", "lost_query",
                {{"request", outcome.request}, {"service", outcome.service}, {"location", outcome.location_id},
                 {"profile", outcome.profile}, {"shape", outcome.shape}, {"civic_method", outcome.method},
                 {"result", outcome.result}, {"uri", outcome.uri}, {"peer", peer},
                 {"substituted", outcome.substituted ? "true" : ""}, {"default_mapping", outcome.default_mapping ? "true" : ""},
                 {"call_id", outcome.call_id}, {"incident_id", outcome.incident_tracking_id}, {"client", req.remote},
                 {"latency_us", std::chrono::duration_cast<std::chrono::microseconds>(latency).count()}});
    co_return http::Response{200, "application/lost+xml", std::move(body), {}};
  }

  std::string prometheus() const {
    std::string out;
    metrics.write(out);
    const auto& c = server->counters();
    auto line = [&](const char* name, const char* help, const char* type, auto value) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
             std::to_string(value) + "\n";
    };
    line("ng911_lost_http_open_connections", "Open HTTP connections.", "gauge", c.open_connections.load());
    line("ng911_lost_http_connections_total", "Accepted HTTP connections.", "counter", c.accepted.load());
    line("ng911_lost_http_refused_connections_total", "Connections refused at the connection limit.", "counter", c.refused.load());
    line("ng911_lost_http_requests_total", "HTTP requests read.", "counter", c.requests.load());
    line("ng911_lost_http_bad_requests_total", "Malformed or oversized HTTP requests.", "counter", c.bad_requests.load());
    line("ng911_lost_http_timeouts_total", "Requests not completed in time.", "counter", c.timeouts.load());
    line("ng911_lost_tls_failures_total", "Failed TLS handshakes.", "counter", c.tls_failures.load());
    line("ng911_lost_snapshot_loads_total", "Snapshots of published data loaded.", "counter", watcher.loads());
    line("ng911_lost_snapshot_load_failures_total", "Failed snapshot loads.", "counter", watcher.load_failures());
    line("ng911_lost_snapshot_load_seconds", "Duration of the last snapshot load.", "gauge", watcher.last_load_seconds());
    if (auto snap = watcher.current()) {
      line("ng911_lost_boundaries", "Service boundaries in the snapshot.", "gauge", snap->boundary_count());
      out += "# HELP ng911_lost_published_version Published GIS version per layer in the snapshot.\n"
             "# TYPE ng911_lost_published_version gauge\n";
      for (const auto& [layer, v] : snap->versions())
        out += "ng911_lost_published_version{layer=\"" + layer + "\"} " + std::to_string(v) + "\n";
    }
    return out;
  }
};

LostService::LostService(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {
  impl_->server = std::make_unique<http::Server>(impl_->config.http,
                                                 [this](http::Request& r) { return impl_->handle(r); });
}

LostService::~LostService() = default;

int LostService::run() {
  // Signals go to one thread that waits for them; every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const auto& c = impl_->config;
  impl_->log.write("info", "starting",
                   {{"listen", c.http.address + ":" + std::to_string(impl_->server->port())},
                    {"tls", c.http.tls ? (c.http.tls->require_client_cert ? "mutual" : "server") : ""},
                    {"server_id", c.ecrf.server_id}, {"peers", c.ecrf.peers.size()},
                    {"default_mappings", c.ecrf.default_mappings.size()}});
  impl_->watcher.start();
  std::thread signal_waiter([this, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    impl_->log.write("info", "stopping", {{"signal", sig}});
    impl_->server->stop();
  });
  impl_->server->run();
  impl_->watcher.stop();
  // The waiter is still in sigwait when run() ended for another reason; wake it.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  impl_->log.write("info", "stopped", {});
  impl_->log.flush();
  return 0;
}

}  // namespace ng911::lost
