#include "service/esrp_metrics.h"

#include <cstdio>

namespace ng911::esrp {
namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

void Histogram::observe(std::chrono::nanoseconds d) {
  double s = std::chrono::duration<double>(d).count();
  std::size_t i = 0;
  while (i < kBounds.size() && s > kBounds[i]) ++i;
  ++buckets_[i];
  sum_ += s;
  ++count_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i];
    out += name + "_bucket{le=\"" + number(kBounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += buckets_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

void write_counter(std::string& out, const std::string& name, const std::string& help, const std::string& label,
                   const std::map<std::string, std::uint64_t>& values) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [k, v] : values) out += name + "{" + label + "=\"" + label_value(k) + "\"} " + std::to_string(v) + "\n";
}

void write_gauge(std::string& out, const std::string& name, const std::string& help, double value) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + number(value) + "\n";
}

void EsrpMetrics::write(std::string& out) const {
  write_counter(out, "ng911_esrp_calls_total", "Calls (INVITE, MESSAGE) by outcome.", "outcome", calls);
  write_counter(out, "ng911_esrp_routed_requests_total", "Requests routed by the ESRP, by method.", "method", requests);
  write_counter(out, "ng911_esrp_retargets_total", "Targets that failed and gave way to the next, by reason.", "reason",
                retargets);
  write_counter(out, "ng911_esrp_locations_total", "Locations routed on, by where they came from.", "source", locations);
  write_counter(out, "ng911_esrp_held_dereferences_total", "HELD dereferences of location by reference, by result.",
                "result", held);
  write_counter(out, "ng911_esrp_lost_queries_total", "ECRF findService queries, by result.", "result", lost);
  write_counter(out, "ng911_esrp_first_routes_total", "Where the first target of a call came from.", "from", routes);
  write_counter(out, "ng911_esrp_policy_reloads_total", "Policy rule file reloads, by result.", "result",
                policy_reloads);
  routing_latency.write(out, "ng911_esrp_routing_seconds", "Time from a request's arrival to its routing decision.");
  lost_latency.write(out, "ng911_esrp_lost_seconds", "Time of the ECRF (LoST) query, cache hits included.");
  held_latency.write(out, "ng911_esrp_held_seconds", "Time of HELD dereferences.");
}

void Histogram::add(const Histogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  sum_ += other.sum_;
  count_ += other.count_;
}

void EsrpMetrics::add(const EsrpMetrics& other) {
  for (auto [mine, theirs] : {std::pair{&calls, &other.calls}, std::pair{&requests, &other.requests},
                              std::pair{&retargets, &other.retargets}, std::pair{&locations, &other.locations},
                              std::pair{&held, &other.held}, std::pair{&lost, &other.lost}, std::pair{&routes, &other.routes},
                              std::pair{&policy_reloads, &other.policy_reloads}})
    for (const auto& [key, n] : *theirs) (*mine)[key] += n;
  routing_latency.add(other.routing_latency);
  lost_latency.add(other.lost_latency);
  held_latency.add(other.held_latency);
}

}  // namespace ng911::esrp
