#include "service/esrp_node.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "db/conninfo.h"
#include "http/server.h"
#include "queue/queue_monitor.h"
#include "server/log.h"
#include "service/notifier.h"
#include "dataplane/steer.h"

namespace ng911::esrp {
namespace {

using namespace std::chrono_literals;

std::string q(std::string_view s) { return "\"" + json_escape(s) + "\""; }

// Renders every figure on the SIP event loop; the HTTP thread only copies the text.
struct MetricsPage {
  std::mutex mutex;
  std::string text;
  std::atomic<bool> draining{false};
};

// One event loop's figures, copied on its own thread; the page sums those of all loops.
struct LoopFigures {
  EsrpMetrics metrics;
  sip::ProxyCounters proxy;
  std::size_t pending = 0, transactions = 0;
  EcrfCounters ecrf;

  void add(const LoopFigures& o) {
    metrics.add(o.metrics);
    proxy += o.proxy;
    pending += o.pending;
    transactions += o.transactions;
    ecrf += o.ecrf;
  }
};

void render(std::string& out, const LoopFigures& f, const QueueMonitor* queues, const CallLog* call_log,
            const policy::PolicyStore* policies, const sip::SipResolver& resolver) {
  f.metrics.write(out);
  const auto& c = f.proxy;
  std::map<std::string, std::uint64_t> sip{{"requests", c.requests},          {"responses", c.responses},
                                           {"forwarded", c.forwarded},        {"rejected", c.rejected},
                                           {"retransmissions_absorbed", c.retransmissions_absorbed},
                                           {"timeouts", c.timeouts},          {"transport_failures", c.transport_failures},
                                           {"malformed", c.malformed},        {"retargets", c.retargets},
                                           {"branch_timeouts", c.branch_timeouts}, {"shed", c.shed},
                                           {"handed_off", c.handed_off},
                                           {"dns_waits", c.dns_waits}, {"dns_failures", c.dns_failures}};
  write_counter(out, "ng911_esrp_sip_total", "SIP proxy events.", "event", sip);
  write_gauge(out, "ng911_esrp_pending_requests", "Requests awaiting their final answer.", double(f.pending));
  write_gauge(out, "ng911_esrp_transactions", "SIP transactions held.", double(f.transactions));
  const auto& e = f.ecrf;
  write_counter(out, "ng911_esrp_ecrf_total", "ECRF client events.", "event",
                {{"queries", e.queries}, {"cache_hits", e.cache_hits}, {"server_failures", e.server_failures},
                 {"answers", e.answers}, {"errors", e.errors}});
  write_counter(out, "ng911_esrp_lost_connections_total", "HTTP connections to the LoST servers: opened, or reused (keep-alive).",
                "event", {{"opened", e.connections_opened}, {"reused", e.connections_reused}});
  auto d = resolver.counters();
  write_counter(out, "ng911_esrp_dns_total", "Route URIs and next hops with host names located by DNS (RFC 3263).", "event",
                {{"lookups", d.lookups}, {"cache_hits", d.cache_hits}, {"failures", d.failures},
                 {"shared", d.shared}, {"refused", d.refused}});
  if (queues) {
    out += "# HELP ng911_esrp_queue_state PSAP queue state (emergency-QueueState): 1 for the current state.\n"
           "# TYPE ng911_esrp_queue_state gauge\n";
    std::string lengths = "# HELP ng911_esrp_queue_length Calls in a PSAP queue, as it last said.\n"
                          "# TYPE ng911_esrp_queue_length gauge\n";
    for (const auto& info : queues->snapshot()) {
      for (auto s : {QueueStatus::active, QueueStatus::inactive, QueueStatus::disabled, QueueStatus::full,
                     QueueStatus::standby, QueueStatus::resource_exhausted, QueueStatus::unreachable})
        out += "ng911_esrp_queue_state{queue=\"" + info.uri + "\",state=\"" + std::string(queue_status_name(s)) + "\"} " +
               (info.status == s ? "1" : "0") + "\n";
      lengths += "ng911_esrp_queue_length{queue=\"" + info.uri + "\"} " + std::to_string(info.length) + "\n";
    }
    out += lengths;
  }
  if (call_log) {
    auto k = call_log->counters();
    write_counter(out, "ng911_esrp_call_log_events_total", "Call log events.", "stage",
                  {{"appended", k.appended}, {"written", k.written}, {"write_failures", k.write_failures},
                   {"replayed", k.replayed}});
    write_gauge(out, "ng911_esrp_call_log_pending", "Call log events not yet in PostgreSQL.", double(k.spooled_pending));
    out += "# HELP ng911_esrp_call_log_batches_total Call log INSERT statements (one transaction each).\n"
           "# TYPE ng911_esrp_call_log_batches_total counter\nng911_esrp_call_log_batches_total " +
           std::to_string(k.batches) + "\n";
    write_gauge(out, "ng911_esrp_call_log_database_up", "Whether the call log's database is reachable.",
                call_log->database_up() ? 1 : 0);
  }
  if (policies) write_gauge(out, "ng911_esrp_policy_rules", "Rules in the running policy.", double(policies->current()->rule_count()));
}

}  // namespace

// One SIP event loop: its proxy on the shared port, its router (and ECRF client), its notifier
// and metrics. Loop 0 also runs the queue monitor, the housekeeping and the signals.
struct SipLoop {
  int index = 0;
  boost::asio::io_context io{1};
  EsrpMetrics metrics;
  std::unique_ptr<MessageNotifier> notifier;
  std::unique_ptr<CallRouter> router;
  std::unique_ptr<sip::StatefulProxy> proxy;
  std::mutex figures_mutex;
  LoopFigures figures;  // as of the loop's last snapshot
  boost::asio::steady_timer tick{io};
  boost::asio::steady_timer drain_check{io};

  // On the loop's own thread.
  void snapshot() {
    LoopFigures f{metrics, proxy->counters(), proxy->pending(), proxy->transactions(), router->ecrf_counters()};
    std::lock_guard lock(figures_mutex);
    figures = std::move(f);
  }
};

int run_esrp(const EsrpOptions& o) {
  lost::Logger logger;
  auto log = [&logger](std::string_view event, const std::string& members) { logger.write_json("info", event, members); };
  auto warn = [&logger](std::string_view event, const std::string& members) { logger.write_json("warn", event, members); };
  // Before the loops, so that it outlives them: a routing coroutine destroyed with its loop
  // hands its pending events to the call log.
  std::unique_ptr<CallLog> call_log;
  if (o.call_log) {
    CallLogConfig c;
    c.conninfo = db::resolve_conninfo(o.call_log_db);
    c.spool_dir = o.spool_dir;
    c.esrp_id = o.router.esrp_id;
    // The writer's own news (database down or back, a record refused) in the operator's log.
    c.report = [&logger](const std::string& json_line) { logger.write_json("warn", "call_log", "\"report\":" + json_line); };
    call_log = std::make_unique<CallLog>(c);
  }

  std::vector<std::unique_ptr<SipLoop>> loops;
  for (int i = 0; i < o.threads; ++i) {
    loops.push_back(std::make_unique<SipLoop>());
    loops.back()->index = i;
  }
  SipLoop& main_loop = *loops.front();
  boost::asio::io_context& io = main_loop.io;

  std::shared_ptr<policy::PolicyStore> policies;
  if (!o.policy_file.empty()) policies = std::make_shared<policy::PolicyStore>(o.policy_file);
  std::atomic<std::uint64_t> policy_reloads_ok{0}, policy_reloads_refused{0};

  auto queue_list = [&] {
    std::vector<std::string> all = o.queues;
    if (policies)
      for (auto& uri : policies->current()->queues())
        if (std::find(all.begin(), all.end(), uri) == all.end()) all.push_back(uri);
    return all;
  };
  std::unique_ptr<QueueMonitor> monitor;
  if (o.queue_subscriptions && !queue_list().empty()) {
    QueueMonitorConfig qc;
    qc.address = o.listen.address.to_string();
    qc.queues = queue_list();
    qc.expires = o.queue_expires;
    qc.retry_interval = o.queue_retry;
    qc.timers.t1 = o.t1;
    qc.from_uri = "sip:esrp@" + o.router.esrp_id;
    monitor = std::make_unique<QueueMonitor>(io, qc, [&log](const QueueInfo& info) {
      log("queue_state", "\"queue\":" + q(info.uri) + ",\"state\":" +
                             q(info.status ? queue_status_name(*info.status) : "unknown") + ",\"length\":" +
                             std::to_string(info.length) + ",\"max\":" + std::to_string(info.max_length) +
                             ",\"subscribed\":" + (info.subscribed ? "true" : "false"));
    });
  }

  sip::TimerConfig timers;
  timers.t1 = o.t1;
  sip::ProxyConfig pc;
  pc.address = o.listen.address.to_string();
  pc.port = o.listen.port;
  pc.timers = timers;
  pc.branch_timeout = o.ring_timeout;
  pc.tls = o.tls;
  pc.max_pending = o.max_pending;
  pc.is_priority = [](const sip::Message& m) { return is_emergency(m); };
  pc.shared_port = loops.size() > 1;
  // One table of live calls for all loops: a call's end may reach another loop than its start.
  auto live_calls = std::make_shared<LiveCalls>();
  // One resolver (a thread and a cache of DNS answers) for all loops.
  CallRouterConfig router_config = o.router;
  router_config.resolver = std::make_shared<sip::SipResolver>(o.dns);
  pc.resolver = router_config.resolver;  // and the hops of peers' Route and Contact values
  for (auto& loop_ptr : loops) {
    SipLoop& loop = *loop_ptr;
    loop.notifier = std::make_unique<MessageNotifier>(
        loop.io, o.listen.address.to_string(), "sip:esrp@" + o.router.esrp_id, timers,
        [&log](const std::string& target, int status, const std::string& outcome) {
          log("notify_result", "\"target\":" + q(target) + ",\"status\":" + std::to_string(status) +
                                   ",\"outcome\":" + q(outcome));
        });
    CallRouterSinks sinks;
    sinks.log = log;
    sinks.call_log = call_log.get();
    sinks.metrics = &loop.metrics;
    if (monitor) sinks.queue_state = [m = monitor.get()](std::string_view uri) { return m->status(uri); };
    sinks.notify = [n = loop.notifier.get()](const std::string& target, const std::string& text) { n->send(target, text); };
    loop.router = std::make_unique<CallRouter>(loop.io, router_config, policies, sinks, live_calls);
    pc.router = [r = loop.router.get()](std::shared_ptr<const sip::Message> m, std::function<void(sip::Routing)> done) {
      r->route(std::move(m), std::move(done));
    };
    pc.observer = [r = loop.router.get()](const sip::ProxyEvent& e) { r->observe(e); };
    pc.batch_begin = [r = loop.router.get()] { r->begin_batch(); };
    pc.batch_end = [r = loop.router.get()] { r->end_batch(); };
    loop.proxy = std::make_unique<sip::StatefulProxy>(loop.io, pc);
    pc.port = main_loop.proxy->port();  // the other loops join the port the first one got
    if (pc.tls) pc.tls->port = main_loop.proxy->tls_port();
  }
  sip::StatefulProxy& proxy = *main_loop.proxy;
  if (loops.size() > 1) {
    std::vector<sip::StatefulProxy*> proxies;
    for (const auto& loop : loops) proxies.push_back(loop->proxy.get());
    sip::StatefulProxy::join_loops(proxies);
  }
  std::string steering = loops.size() > 1 ? "kernel" : "none";
  std::unique_ptr<dataplane::CallIdSteering> steer;
  if (loops.size() > 1) {
    std::vector<int> fds;
    for (const auto& loop : loops) fds.push_back(loop->proxy->udp_socket_fd());
    std::string why;
    if ((steer = dataplane::steer_if_possible(fds, why))) steering = "call-id";
    else warn("steering_unavailable", "\"why\":" + q(why) + ",\"fallback\":\"the kernel's 4-tuple hash\"");
  }

  MetricsPage page;
  auto refresh = [&] {
    main_loop.snapshot();
    LoopFigures all;
    for (auto& loop : loops) {
      std::lock_guard lock(loop->figures_mutex);
      all.add(loop->figures);
    }
    all.metrics.policy_reloads["ok"] += policy_reloads_ok;
    all.metrics.policy_reloads["refused"] += policy_reloads_refused;
    std::string text;
    render(text, all, monitor.get(), call_log.get(), policies.get(), *router_config.resolver);
    std::lock_guard lock(page.mutex);
    page.text = std::move(text);
  };
  refresh();
  std::unique_ptr<http::Server> http_server;
  std::thread http_thread;
  if (!o.http.empty()) {
    http::ServerOptions so;
    sip::Endpoint at = sip::parse_endpoint(o.http);
    so.address = at.address.to_string();
    so.port = at.port;
    so.threads = 1;
    http_server = std::make_unique<http::Server>(so, [&page](http::Request& req) -> boost::asio::awaitable<http::Response> {
      http::Response r;
      if (req.target == "/metrics") {
        r.content_type = "text/plain; version=0.0.4";
        std::lock_guard lock(page.mutex);
        r.body = page.text;
      } else if (req.target == "/healthz") {
        bool draining = page.draining.load();
        r.status = draining ? 503 : 200;
        r.body = draining ? "draining\n" : "ok\n";
      } else {
        r.status = 404;
        r.body = "not found\n";
      }
      co_return r;
    });
    http_thread = std::thread([&] { http_server->run(); });
  }

  auto reload_policy = [&](const char* why) {
    if (!policies) return;
    auto problems = policies->reload();
    if (problems.empty()) {
      ++policy_reloads_ok;
      log("policy_reloaded", "\"file\":" + q(o.policy_file) + ",\"why\":" + q(why) + ",\"version\":" +
                                 q(policies->current()->version()) + ",\"rules\":" +
                                 std::to_string(policies->current()->rule_count()));
      if (monitor) monitor->set_queues(queue_list());
    } else {
      ++policy_reloads_refused;
      std::string list = "[";
      for (const auto& p : problems) list += (list.size() > 1 ? "," : "") + q(p);
      warn("policy_refused", "\"file\":" + q(o.policy_file) + ",\"why\":" + q(why) +
                                 ",\"kept_version\":" + q(policies->current()->version()) + ",\"problems\":" + list + "]");
    }
  };

  // Housekeeping: each loop copies its figures every 500 ms; loop 0 renders the page and checks
  // the rule file every policy_poll.
  auto last_poll = std::chrono::steady_clock::now();
  std::function<void(SipLoop&)> housekeeping = [&](SipLoop& loop) {
    loop.tick.expires_after(500ms);
    loop.tick.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      if (&loop == &main_loop) {
        refresh();
        if (policies && std::chrono::steady_clock::now() - last_poll >= o.policy_poll) {
          last_poll = std::chrono::steady_clock::now();
          if (policies->changed_on_disk()) reload_policy("file changed");
        }
      } else {
        loop.snapshot();
      }
      housekeeping(loop);
    });
  };
  for (auto& loop : loops) housekeeping(*loop);

  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void()> on_hup = [&] {
    hup.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      reload_policy("SIGHUP");
      on_hup();
    });
  };
  on_hup();

  // SIGTERM/SIGINT: every loop drains on its own thread, then stops; a second signal stops all
  // at once.
  boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  auto stop_all = [&] {
    for (auto& loop : loops) loop->io.stop();
  };
  std::function<void(SipLoop&, std::chrono::steady_clock::time_point)> wait_drained =
      [&](SipLoop& loop, std::chrono::steady_clock::time_point deadline) {
        loop.drain_check.expires_after(100ms);
        loop.drain_check.async_wait([&, deadline](boost::system::error_code ec) {
          if (ec) return;
          if (loop.proxy->pending() == 0 || std::chrono::steady_clock::now() >= deadline) {
            log("drained", "\"loop\":" + std::to_string(loop.index) +
                               ",\"pending\":" + std::to_string(loop.proxy->pending()));
            loop.io.stop();
            return;
          }
          wait_drained(loop, deadline);
        });
      };
  std::function<void()> on_stop = [&] {
    stop_signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (page.draining.exchange(true)) {
        stop_all();
        return;
      }
      log("draining", "\"signal\":" + std::to_string(sig) + ",\"pending\":" + std::to_string(proxy.pending()));
      auto deadline = std::chrono::steady_clock::now() + o.drain_timeout;
      for (auto& loop : loops)
        boost::asio::post(loop->io, [&, l = loop.get(), deadline] {
          l->proxy->drain();
          wait_drained(*l, deadline);
        });
      on_stop();
    });
  };
  on_stop();

  log("listening", "\"address\":" + q(pc.address) + ",\"port\":" + std::to_string(proxy.port()) +
                       ",\"tls_port\":" + std::to_string(proxy.tls_port()) + ",\"http\":" +
                       q(http_server ? o.http.substr(0, o.http.rfind(':') + 1) + std::to_string(http_server->port()) : "") +
                       ",\"lost_servers\":" + std::to_string(o.router.ecrf.servers.size()) + ",\"policy\":" +
                       q(policies ? policies->current()->version() : "") + ",\"queues\":" +
                       std::to_string(monitor ? queue_list().size() : 0) + ",\"call_log\":" +
                       (call_log ? "true" : "false") + ",\"threads\":" + std::to_string(loops.size()) +
                       ",\"steering\":" + q(steering));
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < loops.size(); ++i) workers.emplace_back([&, i] { loops[i]->io.run(); });
  io.run();
  // Loop 0 is done (drained, or a second signal): the others finish their own drain.
  for (auto& w : workers) w.join();

  if (http_server) {
    http_server->stop();
    http_thread.join();
  }
  sip::ProxyCounters c;
  std::string per_loop;  // how the port's requests were spread over the loops
  for (const auto& loop : loops) {
    c += loop->proxy->counters();
    per_loop += (per_loop.empty() ? "" : ",") + std::to_string(loop->proxy->counters().requests);
  }
  if (call_log) call_log->flush();
  log("stopped", "\"requests\":" + std::to_string(c.requests) + ",\"forwarded\":" + std::to_string(c.forwarded) +
                     ",\"retargets\":" + std::to_string(c.retargets) + ",\"shed\":" + std::to_string(c.shed) +
                     ",\"handed_off\":" + std::to_string(c.handed_off) +
                     ",\"requests_per_loop\":[" + per_loop + "]");
  return 0;
}

}  // namespace ng911::esrp
