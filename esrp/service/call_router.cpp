#include "service/call_router.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "routing/pidf_lo.h"
#include "server/log.h"
#include "sip/text.h"
#include "sip/transaction.h"

namespace ng911::esrp {
namespace {

using Clock = std::chrono::steady_clock;

// The resolver's answer for a route URI, awaited by the routing coroutine.
boost::asio::awaitable<sip::Resolution> locate(sip::SipResolver& resolver, std::string uri, boost::asio::io_context& io) {
  auto initiation = [&resolver, &io, uri = std::move(uri)](auto handler) mutable {
    // std::function wants a copyable callable; the coroutine's handler is move-only.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    resolver.resolve(std::move(uri), sip::Protocol::udp, io, [shared](sip::Resolution r) { (*shared)(std::move(r)); });
  };
  // Named, not a temporary of the co_await's expression: GCC 12 destroys such temporaries twice.
  sip::Resolution found = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(sip::Resolution)>(
      std::move(initiation), boost::asio::use_awaitable);
  co_return found;
}

// A Route value naming a target URI (loose routing: ;lr added where missing).
std::string route_to(const sip::Uri& uri) {
  std::string route;
  route.append("<").append(uri.text).append(uri.param("lr") ? "" : ";lr").append(">");
  return route;
}

std::string call_info_id(const sip::Message& m, std::string_view purpose) {
  try {
    for (const auto& info : m.call_info())
      if (const sip::Param* p = info.param("purpose"); p && sip::iequals(sip::unquote(p->value), purpose))
        return std::string(info.uri.text);
  } catch (const sip::SyntaxError&) {
    // A broken Call-Info does not stop an emergency call; ids are made instead.
  }
  return {};
}

// Where the request came from: the top Via's received (stamped by the proxy) or its host.
boost::asio::ip::address source_of(const sip::Message& m) {
  try {
    sip::Via v = m.top_via();
    std::string host(v.param("received") ? v.param("received")->value : v.host);
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(host, ec);
    if (!ec) return a;
  } catch (const sip::SyntaxError&) {
  }
  return {};
}

std::string from_domain(const sip::Message& m) {
  try {
    return std::string(m.from().uri.host);
  } catch (const sip::SyntaxError&) {
    return {};
  }
}

std::optional<std::pair<double, double>> lat_lon(const PidfLocation& l) {
  const auto* shape = std::get_if<ecrf::GeodeticShape>(&l.value);
  if (!shape) return std::nullopt;
  return std::visit(
      [](const auto& s) -> std::optional<std::pair<double, double>> {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, ecrf::GeoPoint>) return std::pair{s.pos.lat, s.pos.lon};
        else if constexpr (std::is_same_v<T, ecrf::GeoPolygon>) {
          if (s.exterior.empty()) return std::nullopt;
          double lat = 0, lon = 0;  // the vertices' mean: good enough to place a caller in an area
          std::size_t n = s.exterior.size() > 1 ? s.exterior.size() - 1 : 1;
          for (std::size_t i = 0; i < n; ++i) lat += s.exterior[i].lat, lon += s.exterior[i].lon;
          return std::pair{lat / n, lon / n};
        } else {
          return std::pair{s.center.lat, s.center.lon};
        }
      },
      *shape);
}

std::string jstr(std::string_view s) { return "\"" + json_escape(s) + "\""; }

// A number for a JSON detail with `decimals` places (std::to_chars: no locale, no printf).
std::string fixed(double v, int decimals) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (ec != std::errc{} || !std::isfinite(v)) return "null";
  return std::string(buf, end);
}

std::string json_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& i : items) out += (out.size() > 1 ? "," : "") + jstr(i);
  return out + "]";
}

}  // namespace

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  lost::append_json_escaped(out, s);
  return out;
}

std::string requested_service(const sip::Message& request) {
  try {
    sip::Uri ruri = request.parsed_request_uri();
    if (ruri.scheme == sip::Scheme::urn && (sip::iequals(ruri.nid, "service") || ruri.nss.starts_with("service:")))
      return std::string(ruri.text);
  } catch (const sip::SyntaxError&) {
  }
  return "urn:service:sos";
}

bool is_emergency(const sip::Message& request) {
  try {
    sip::Uri ruri = request.parsed_request_uri();
    if (ruri.scheme == sip::Scheme::urn) {
      std::string text(ruri.text);
      for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (text == "urn:service:sos" || text.starts_with("urn:service:sos.")) return true;
    }
  } catch (const sip::SyntaxError&) {
  }
  try {
    for (const auto& rp : request.resource_priority())
      if (sip::iequals(rp.ns, "esnet")) return true;
  } catch (const sip::SyntaxError&) {
  }
  return false;
}

void LiveCalls::add(const std::string& sip_call_id, Ids ids) {
  std::lock_guard lock(mutex_);
  calls_[sip_call_id] = std::move(ids);
}

std::optional<LiveCalls::Ids> LiveCalls::find(const std::string& sip_call_id) const {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(sip_call_id);
  return it == calls_.end() ? std::nullopt : std::optional<Ids>(it->second);
}

std::optional<LiveCalls::Ids> LiveCalls::mark_answered(const std::string& sip_call_id) {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(sip_call_id);
  if (it == calls_.end()) return std::nullopt;
  it->second.answered = true;
  return it->second;
}

std::optional<LiveCalls::Ids> LiveCalls::take(const std::string& sip_call_id) {
  std::lock_guard lock(mutex_);
  auto it = calls_.find(sip_call_id);
  if (it == calls_.end()) return std::nullopt;
  Ids ids = std::move(it->second);
  calls_.erase(it);
  return ids;
}

void LiveCalls::forget_started_before(std::chrono::steady_clock::time_point t) {
  std::lock_guard lock(mutex_);
  std::erase_if(calls_, [t](const auto& kv) { return kv.second.since < t; });
}

CallRouter::CallRouter(boost::asio::io_context& io, CallRouterConfig config,
                       std::shared_ptr<policy::PolicyStore> policies, CallRouterSinks sinks,
                       std::shared_ptr<LiveCalls> live)
    : io_(io),
      config_(std::move(config)),
      policies_(std::move(policies)),
      sinks_(std::move(sinks)),
      ecrf_(config_.ecrf),
      calls_(live ? std::move(live) : std::make_shared<LiveCalls>()),
      last_sweep_(Clock::now()) {}

void CallRouter::record(std::string_view kind, const std::string& sip_call_id, const CallIds& ids,
                        std::string detail_json, PendingEvents* pending) {
  if (sinks_.log)
    sinks_.log(kind, "\"call_id\":" + jstr(sip_call_id) + ",\"incident_id\":" + jstr(ids.incident_id) + "," +
                         detail_json.substr(1, detail_json.size() - 2));
  if (!sinks_.call_log) return;
  CallEvent e{std::string(kind), sip_call_id, ids.emergency_call_id, ids.incident_id, std::move(detail_json),
              std::chrono::system_clock::now()};
  if (pending) pending->add(std::move(e));
  else if (batching_) batch_events_.push_back(std::move(e));
  else sinks_.call_log->append(std::move(e));
}

void CallRouter::append_events(std::vector<CallEvent> events) {
  if (!sinks_.call_log || events.empty()) return;
  if (!batching_) return sinks_.call_log->append(std::move(events));
  if (batch_events_.empty()) batch_events_ = std::move(events);
  else std::move(events.begin(), events.end(), std::back_inserter(batch_events_));
}

void CallRouter::end_batch() {
  batching_ = false;
  if (sinks_.call_log && !batch_events_.empty()) sinks_.call_log->append(std::exchange(batch_events_, {}));
}

void CallRouter::PendingEvents::flush() {
  if (!events_.empty()) router_.append_events(std::exchange(events_, {}));
}

CallRouter::PendingEvents::~PendingEvents() {
  try {
    flush();
  } catch (...) {
    // A destructor must not throw; append() only throws when out of memory.
  }
}

void CallRouter::route(std::shared_ptr<const sip::Message> request, std::function<void(sip::Routing)> done) {
  std::string_view method = request->method();
  if (method == "OPTIONS") {
    // RFC 3261 §11: what we take, so that peers and the dataplane's health checks see us alive.
    sip::Routing r;
    r.reject_status = 200;
    r.reject_reason = "OK";
    r.response_headers = {{"Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE, INFO, PRACK, REFER"},
                          {"Accept", "application/sdp, application/pidf+xml, multipart/mixed, text/plain"},
                          {"Supported", "geolocation, path"}};
    return done(std::move(r));
  }
  if (method == "BYE" || method == "UPDATE" || method == "INFO" || method == "PRACK") {
    // Requests that exist only inside a dialog, addressed to us: we hold no dialog (we proxy
    // the calls' dialogs, whose requests carry a Route beyond us). §12.2.2: 481, not 405, which
    // would say that BYE is never allowed. A caller that gave up on a call it never saw
    // answered sends such a BYE to its first hop.
    sip::Routing r;
    r.reject_status = 481;
    r.reject_reason = "Call/Transaction Does Not Exist";
    return done(std::move(r));
  }
  if (method != "INVITE" && method != "MESSAGE") {
    sip::Routing r;
    r.reject_status = 405;
    r.reject_reason = "Method Not Allowed";
    r.response_headers = {{"Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE"}};
    return done(std::move(r));
  }
  boost::asio::co_spawn(io_, decide(std::move(request), done), [done](std::exception_ptr e) {
    if (!e) return;
    // Never lose a call to a bug of ours: say so loudly and fail the request so the caller's
    // proxy tries another ESRP.
    sip::Routing r;
    r.reject_status = 500;
    r.reject_reason = "Internal Error";
    done(std::move(r));
  });
}

boost::asio::awaitable<void> CallRouter::decide(std::shared_ptr<const sip::Message> request,
                                                std::function<void(sip::Routing)> done) {
  auto started = Clock::now();
  const sip::Message& m = *request;
  std::string sip_call_id(m.call_id());
  std::string method(m.method());
  std::string service = requested_service(m);
  bool emergency = is_emergency(m);
  if (sinks_.metrics) ++sinks_.metrics->requests[method];

  // NENA i3: the call's identifiers travel with it; made here when the caller did not.
  CallIds ids{call_info_id(m, "emergency-CallId"), call_info_id(m, "emergency-IncidentId"), started, false};
  sip::Routing r;
  std::string random = sip::new_branch().substr(7);
  if (ids.emergency_call_id.empty()) {
    ids.emergency_call_id = "urn:emergency:uid:callid:" + random + ":" + config_.esrp_id;
    r.add_headers.emplace_back("Call-Info", "<" + ids.emergency_call_id + ">;purpose=emergency-CallId");
  }
  if (ids.incident_id.empty()) {
    ids.incident_id = "urn:emergency:uid:incidentid:" + random + ":" + config_.esrp_id;
    r.add_headers.emplace_back("Call-Info", "<" + ids.incident_id + ">;purpose=emergency-IncidentId");
  }
  calls_->add(sip_call_id, ids);
  forget_old_calls();
  PendingEvents pending(*this);
  auto source = source_of(m);
  record("call_start", sip_call_id, ids,
         "{\"method\":" + jstr(method) + ",\"service\":" + jstr(service) + ",\"from\":" +
             jstr(m.value(sip::HeaderId::from)) + ",\"source\":" + jstr(source.to_string()) +
             ",\"emergency\":" + (emergency ? "true" : "false") + "}",
         &pending);

  // The caller's location: by value, else by reference (HELD), else the default location.
  CallLocation where = location_of(m);
  std::optional<PidfLocation> location = where.location;
  std::string location_source = location ? "value" : "";
  std::vector<std::string> problems = where.problems;
  if (!location && where.routing_allowed) {
    for (const auto& ref : where.references) {
      if (!ref.starts_with("http:") && !ref.starts_with("https:")) {
        problems.push_back("reference " + ref + ": only HTTP(S) references are dereferenced");
        continue;
      }
      auto t = Clock::now();
      pending.flush();
      HeldResult held = co_await dereference(ref, config_.held);
      if (sinks_.metrics) {
        sinks_.metrics->held_latency.observe(Clock::now() - t);
        ++sinks_.metrics->held[held.location ? "ok" : held.error.empty() ? "no location" : held.error];
      }
      record("held_dereference", sip_call_id, ids,
             "{\"uri\":" + jstr(ref) + ",\"result\":" + jstr(held.location ? "location" : held.error) +
                 ",\"problems\":" + json_list(held.problems) + ",\"ms\":" +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count()) + "}",
             &pending);
      if (held.location) {
        location = held.location;
        location_source = "reference";
        break;
      }
      problems.push_back("reference " + ref + ": " + held.error);
    }
  }
  if (!where.routing_allowed) problems.push_back("Geolocation-Routing: no");
  bool used_default = false;
  if ((!location || !where.routing_allowed) && config_.default_location) {
    location = config_.default_location->location;
    location_source = "default";
    used_default = true;
    // Inserted on top, the caller's own values kept below it (NENA i3 ESRP).
    std::string cid = "default-location." + random.substr(0, 12) + "@" + config_.esrp_id;
    LocationInsertion ins = insert_location(m, config_.default_location->pidf_xml, cid);
    r.add_top_headers.emplace_back("Geolocation", ins.geolocation);
    r.body = std::pair{ins.content_type, ins.body};
  }
  if (sinks_.metrics) ++sinks_.metrics->locations[location ? location_source : "none"];
  auto point = location ? lat_lon(*location) : std::nullopt;
  record("location", sip_call_id, ids,
         "{\"source\":" + jstr(location ? location_source : "none") + ",\"profile\":" +
             jstr(location ? location->profile : "") + ",\"method\":" + jstr(location ? location->method : "") +
             (point ? ",\"lat\":" + fixed(point->first, 6) + ",\"lon\":" + fixed(point->second, 6) : "") +
             ",\"default_inserted\":" + (used_default ? "true" : "false") + ",\"problems\":" + json_list(problems) +
             "}",
         &pending);

  // The origination rule set.
  auto policy = policies_ ? policies_->current() : nullptr;
  policy::CallFacts facts;
  facts.method = method;
  facts.service = service;
  facts.source = source;
  facts.from_domain = from_domain(m);
  facts.location = point;
  facts.header = [request](std::string_view name) {
    std::vector<std::string> values;
    for (const auto& h : request->headers())
      if (sip::iequals(h.name, name)) values.emplace_back(h.value);
    return values;
  };
  facts.now = std::chrono::system_clock::now();
  policy::QueueStateLookup queues = sinks_.queue_state ? sinks_.queue_state
                                                       : policy::QueueStateLookup([](std::string_view) {
                                                           return std::optional<QueueStatus>{};
                                                         });
  struct Candidate {
    std::string uri, cause, from;
    std::chrono::milliseconds ring{0};
  };
  std::vector<Candidate> candidates;
  std::string resource_priority;
  bool busy = false;
  std::vector<std::string> matched;
  auto apply = [&](const policy::Decision& d, const std::string& rule_set) {
    for (const auto& id : d.matched) matched.push_back(id);
    for (const auto& line : d.log)
      record("policy_log", sip_call_id, ids, "{\"rule_set\":" + jstr(rule_set) + ",\"message\":" + jstr(line) + "}",
             &pending);
    for (const auto& n : d.notify) {
      record("notify", sip_call_id, ids, "{\"target\":" + jstr(n.target) + ",\"message\":" + jstr(n.message) + "}",
             &pending);
      if (sinks_.notify) sinks_.notify(n.target, n.message + " (call " + ids.emergency_call_id + ")");
    }
    for (const auto& a : d.routes) {
      candidates.push_back({a.target, a.cause.empty() ? "policy" : a.cause, "policy", a.ring_timeout});
      if (resource_priority.empty()) resource_priority = a.resource_priority;
    }
    busy = busy || d.busy;
  };
  if (policy) apply(policy->evaluate_origination(facts, queues), "origination");

  std::string ecrf_result = "not asked";
  if (candidates.empty() && location) {
    LostIds lost_ids{ids.emergency_call_id, ids.incident_id};
    auto t = Clock::now();
    record("lost_query", sip_call_id, ids, "{\"service\":" + jstr(service) + ",\"profile\":" + jstr(location->profile) + "}",
           &pending);
    pending.flush();
    LostAnswer answer;
    try {
      answer = co_await ecrf_.find_service(*location, service, lost_ids);
    } catch (const std::exception& e) {
      answer.error = "internal";
      answer.message = e.what();
    }
    auto took = Clock::now() - t;
    ecrf_result = answer.mapping ? "mapping" : answer.error;
    if (sinks_.metrics) {
      sinks_.metrics->lost_latency.observe(took);
      ++sinks_.metrics->lost[ecrf_result];
    }
    record("lost_answer", sip_call_id, ids,
           "{\"result\":" + jstr(ecrf_result) + ",\"message\":" + jstr(answer.message) + ",\"uris\":" +
               json_list(answer.mapping ? answer.mapping->uris : std::vector<std::string>{}) + ",\"display_name\":" +
               jstr(answer.mapping ? answer.mapping->display_name : "") + ",\"source_id\":" +
               jstr(answer.mapping ? answer.mapping->source_id : "") + ",\"ms\":" +
               fixed(std::chrono::duration<double, std::milli>(took).count(), 3) + "}",
           &pending);
    if (answer.mapping) {
      for (const auto& uri : answer.mapping->uris) {
        // The queue's own rule set may send the call elsewhere (full, closed, ...).
        std::size_t before = candidates.size();
        if (policy) apply(policy->evaluate_queue(uri, facts, queues), uri);
        if (candidates.size() == before) candidates.push_back({uri, "ECRF", "ecrf", {}});
      }
    } else {
      problems.push_back("ECRF: " + answer.error + (answer.message.empty() ? "" : " " + answer.message));
    }
  }
  if (auto d = config_.default_routes.find(service); d != config_.default_routes.end())
    candidates.push_back({d->second, "default route", "default", {}});
  else if (auto sos = config_.default_routes.find("urn:service:sos"); sos != config_.default_routes.end())
    candidates.push_back({sos->second, "default route", "default", {}});
  if (!config_.last_resort.empty()) candidates.push_back({config_.last_resort, "last resort", "last_resort", {}});

  std::string first_from;
  std::string targets_json = "[";
  for (const auto& c : candidates) {
    // Where the URI's host is a name, each place DNS gives (RFC 3263, in its order) is a target
    // of its own: a PSAP whose first address fails is tried at the next before the next route.
    std::optional<sip::Uri> uri;
    try {
      uri = sip::parse_uri(c.uri);
    } catch (const sip::SyntaxError&) {
    }
    if (!uri || !uri->is_sip()) {
      problems.push_back("unroutable URI " + c.uri);
      continue;
    }
    std::optional<sip::Resolution> places;
    if (auto literal = sip::endpoint_of(*uri)) places = sip::Resolution{{*literal}, "literal", ""};
    else if (!config_.resolver) places = sip::Resolution{{}, "", "no DNS resolver configured"};
    else if (!(places = config_.resolver->known(c.uri))) {
      pending.flush();  // the call waits for DNS: what happened so far is logged first
      // The awaitable made in a statement of its own: GCC 12 frees a temporary twice when the
      // call that makes it (its std::string argument) and the co_await share one expression.
      auto lookup = locate(*config_.resolver, c.uri, io_);
      sip::Resolution found = co_await std::move(lookup);
      places = std::move(found);
    }
    if (places->endpoints.empty()) {
      problems.push_back("unroutable URI " + c.uri + ": " + places->error);
      continue;
    }
    for (const auto& endpoint : places->endpoints) {
      bool dup = false;
      for (const auto& have : r.targets) dup = dup || have.endpoint == endpoint;
      if (dup) continue;
      if (first_from.empty()) first_from = c.from;
      targets_json += (r.targets.empty() ? "" : ",") + std::string("{\"uri\":") + jstr(c.uri) + ",\"cause\":" +
                      jstr(c.cause) + ",\"to\":" + jstr(endpoint.str()) +
                      (places->how == "literal" ? "" : ",\"dns\":" + jstr(places->how)) + "}";
      r.targets.push_back(sip::RoutedTarget{endpoint, route_to(*uri), c.ring, c.uri});
    }
  }
  targets_json += "]";
  if (busy && (!emergency || r.targets.empty())) {
    r.targets.clear();
    r.reject_status = 486;
    r.reject_reason = "Busy Here";
  } else if (busy) {
    problems.push_back("busy action ignored: an emergency call is never refused while a route remains");
  }
  if (r.targets.empty() && !r.reject_status) {
    r.reject_status = 480;  // RFC 3261: temporarily unavailable, the caller's proxy may try elsewhere
    r.reject_reason = "No Route";
  }
  if (!m.find(sip::HeaderId::resource_priority))
    r.add_headers.emplace_back("Resource-Priority", resource_priority.empty() ? config_.resource_priority : resource_priority);
  r.history_info = true;
  auto took = Clock::now() - started;
  if (sinks_.metrics) {
    sinks_.metrics->routing_latency.observe(took);
    if (!first_from.empty()) ++sinks_.metrics->routes[first_from];
  }
  record("route", sip_call_id, ids,
         "{\"service\":" + jstr(service) + ",\"location\":" + jstr(location ? location_source : "none") +
             ",\"ecrf\":" + jstr(ecrf_result) + ",\"rules\":" + json_list(matched) + ",\"targets\":" + targets_json +
             ",\"reject\":" + std::to_string(r.reject_status) + ",\"problems\":" + json_list(problems) +
             ",\"policy_version\":" + jstr(policy ? policy->version() : "") + ",\"ms\":" +
             fixed(std::chrono::duration<double, std::milli>(took).count(), 3) + "}",
         &pending);
  pending.flush();  // logged before the call moves on
  done(std::move(r));
}

void CallRouter::observe(const sip::ProxyEvent& e) {
  using Kind = sip::ProxyEvent::Kind;
  if (e.kind == Kind::shed) {
    if (sinks_.metrics) ++sinks_.metrics->calls["shed"];
    if (sinks_.log)
      sinks_.log("shed", "\"call_id\":" + jstr(e.call_id) + ",\"method\":" + jstr(e.method) + ",\"why\":" +
                             jstr(e.reason));
    return;
  }
  // Not a call we routed (OPTIONS, or from before a restart): nothing to log.
  std::string call_id(e.call_id);
  switch (e.kind) {
    case Kind::branch_failed: {
      auto ids = calls_->find(call_id);
      if (!ids) return;
      if (sinks_.metrics) ++sinks_.metrics->retargets[e.status == 408 ? std::string(e.reason) : std::to_string(e.status)];
      record("retarget", call_id, *ids,
             "{\"target\":" + jstr(e.target) + ",\"index\":" + std::to_string(e.target_index) + ",\"status\":" +
                 std::to_string(e.status) + ",\"reason\":" + jstr(e.reason) + "}");
      break;
    }
    case Kind::answered: {
      auto ids = calls_->mark_answered(call_id);
      if (!ids) return;
      record("answered", call_id, *ids,
             "{\"target\":" + jstr(e.target) + ",\"index\":" + std::to_string(e.target_index) + ",\"status\":" +
                 std::to_string(e.status) + "}");
      break;
    }
    case Kind::final: {
      if (e.method != "INVITE" && e.method != "MESSAGE") break;
      bool ends = e.status >= 300 || e.method == "MESSAGE";
      auto ids = ends ? calls_->take(call_id) : calls_->find(call_id);
      if (!ids) return;
      if (sinks_.metrics)
        ++sinks_.metrics->calls[e.status < 300 ? "answered" : e.status == 487 ? "cancelled" : e.status == 486 ? "busy" : "failed"];
      if (ends) {
        std::string outcome = e.status < 300 ? "delivered" : e.status == 487 ? "abandoned" : e.status == 486 ? "busy" : "failed";
        record("call_end", call_id, *ids,
               "{\"status\":" + std::to_string(e.status) + ",\"reason\":" + jstr(e.reason) + ",\"by\":\"" +
                   (e.status == 487 ? "caller" : "routing") + "\",\"outcome\":" + jstr(outcome) + "}");
      }
      break;
    }
    case Kind::in_dialog:
      if (e.method == "BYE") {
        auto ids = calls_->take(call_id);
        if (!ids) return;
        record("call_end", call_id, *ids,
               std::string("{\"status\":200,\"reason\":\"BYE\",\"by\":\"bye\",\"outcome\":\"") +
                   (ids->answered ? "answered" : "ended") + "\"}");
      }
      break;
    case Kind::shed:
      break;
  }
}

void CallRouter::forget_old_calls() {
  // A call whose BYE never came through us (a caller that vanished) is forgotten after a day:
  // the map holds live calls, not history (that is the call log's job).
  auto now = Clock::now();
  if (now - last_sweep_ < std::chrono::minutes(1)) return;
  last_sweep_ = now;
  calls_->forget_started_before(now - std::chrono::hours(24));
}

}  // namespace ng911::esrp
