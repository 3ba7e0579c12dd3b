#include "service/policy.h"

#include <boost/asio/co_spawn.hpp>

#include "routing/pidf_lo.h"
#include "sip/text.h"
#include "sip/transaction.h"

namespace ng911::esrp {
namespace {

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}

// A SIP URI with a literal address as a place to send to, and a Route naming it.
std::optional<sip::RoutedTarget> target_of(const std::string& uri_text) {
  try {
    sip::Uri uri = sip::parse_uri(uri_text);
    auto endpoint = sip::endpoint_of(uri);  // names would need DNS (RFC 3263), not done yet
    if (!endpoint) return std::nullopt;
    std::string route;
    route.append("<").append(uri_text).append(uri.param("lr") ? "" : ";lr").append(">");
    return sip::RoutedTarget{*endpoint, route};
  } catch (const sip::SyntaxError&) {
    return std::nullopt;
  }
}

bool has_purpose(const sip::Message& m, std::string_view purpose) {
  try {
    for (const auto& info : m.call_info())
      if (const sip::Param* p = info.param("purpose"); p && sip::iequals(sip::unquote(p->value), purpose)) return true;
  } catch (const sip::SyntaxError&) {
  }
  return false;
}

}  // namespace

std::string requested_service(const sip::Message& request) {
  try {
    sip::Uri ruri = request.parsed_request_uri();
    if (ruri.scheme == sip::Scheme::urn && (sip::iequals(ruri.nid, "service") || ruri.nss.starts_with("service:")))
      return std::string(ruri.text);
  } catch (const sip::SyntaxError&) {
  }
  return "urn:service:sos";
}

RoutingPolicy::RoutingPolicy(boost::asio::io_context& io, PolicyConfig config, Log log)
    : io_(io), config_(std::move(config)), client_(config_.ecrf), log_(std::move(log)) {}

sip::Routing RoutingPolicy::decide(const sip::Message& request, const std::string& service, const LostAnswer* answer,
                                   std::string& reason) const {
  sip::Routing r;
  // The ECRF's answer first, then the service's default route, then the last resort.
  std::vector<std::string> uris;
  if (answer && answer->mapping)
    for (const auto& u : answer->mapping->uris) uris.push_back(u);
  if (auto d = config_.default_routes.find(service); d != config_.default_routes.end()) uris.push_back(d->second);
  else if (auto sos = config_.default_routes.find("urn:service:sos"); sos != config_.default_routes.end())
    uris.push_back(sos->second);
  if (!config_.last_resort.empty()) uris.push_back(config_.last_resort);
  for (const auto& u : uris) {
    auto t = target_of(u);
    if (!t) {
      reason += (reason.empty() ? "" : "; ") + ("unroutable URI " + u);
      continue;
    }
    bool dup = false;
    for (const auto& have : r.targets) dup = dup || have.endpoint == t->endpoint;
    if (!dup) r.targets.push_back(*t);
  }
  if (r.targets.empty()) {
    r.reject_status = 500;
    r.reject_reason = "No Route";
  }
  // NENA i3: the call's identifiers travel with it; made here when the caller did not.
  std::string random = sip::new_branch().substr(7);
  if (!has_purpose(request, "emergency-CallId"))
    r.add_headers.emplace_back("Call-Info", "<urn:emergency:uid:callid:" + random + ":" + config_.esrp_id +
                                                ">;purpose=emergency-CallId");
  if (!has_purpose(request, "emergency-IncidentId"))
    r.add_headers.emplace_back("Call-Info", "<urn:emergency:uid:incidentid:" + random + ":" + config_.esrp_id +
                                                ">;purpose=emergency-IncidentId");
  if (!request.find(sip::HeaderId::resource_priority))
    r.add_headers.emplace_back("Resource-Priority", config_.resource_priority);
  return r;
}

void RoutingPolicy::route(const sip::Message& request, std::function<void(sip::Routing)> done) {
  std::string service = requested_service(request);
  CallLocation where = location_of(request);
  std::string call_id(request.call_id());
  auto finish = [this, service, call_id, done](const sip::Message& req, const LostAnswer* answer, std::string reason,
                                               const std::string& location) {
    sip::Routing r = decide(req, service, answer, reason);
    std::string first = r.targets.empty() ? "" : r.targets.front().route;
    log_("{\"event\":\"route\",\"call_id\":\"" + json_escape(call_id) + "\",\"service\":\"" + json_escape(service) +
         "\",\"location\":\"" + json_escape(location) + "\",\"ecrf\":\"" +
         json_escape(answer ? (answer->mapping ? "mapping" : answer->error) : "not asked") + "\",\"target\":\"" +
         json_escape(first) + "\",\"targets\":" + std::to_string(r.targets.size()) + ",\"reason\":\"" +
         json_escape(reason) + "\"}");
    done(std::move(r));
  };
  if (!where.location || !where.routing_allowed) {
    std::string reason = !where.routing_allowed ? "Geolocation-Routing: no" : "no usable location";
    for (const auto& p : where.problems) reason += "; " + p;
    return finish(request, nullptr, reason, "none");
  }
  // The request must outlive the query: keep a copy of its bytes.
  auto keep = std::make_shared<sip::Message>(sip::Message::parse(std::string(request.bytes())));
  auto location = std::make_shared<PidfLocation>(*where.location);
  LostIds ids;
  try {
    for (const auto& info : request.call_info()) {
      const sip::Param* p = info.param("purpose");
      if (p && sip::iequals(p->value, "emergency-CallId")) ids.call_id = std::string(info.uri.text);
      if (p && sip::iequals(p->value, "emergency-IncidentId")) ids.incident_tracking_id = std::string(info.uri.text);
    }
  } catch (const sip::SyntaxError&) {
    // A broken Call-Info does not stop an emergency call; the ids are simply not sent.
  }
  boost::asio::co_spawn(io_, client_.find_service(*location, service, ids),
                        [keep, location, finish](std::exception_ptr e, LostAnswer answer) {
                          if (e) answer.error = "internal";
                          std::string reason = answer.mapping ? "" : "ECRF: " + answer.error + " " + answer.message;
                          finish(*keep, &answer, reason, location->profile);
                        });
}

}  // namespace ng911::esrp
