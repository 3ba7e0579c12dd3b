#pragma once
// The ESRP's metrics in Prometheus text format: calls by outcome, routing and LoST latency,
// retargets, locations, HELD, policy reloads, queue states. Updated on the SIP event loop and
// rendered there; with several event loops each keeps its own and the page sums copies of them
// (esrp_node.cpp), so nothing here is shared between threads.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace ng911::esrp {

class Histogram {
 public:
  void observe(std::chrono::nanoseconds d);
  void add(const Histogram& other);  // another event loop's observations
  void write(std::string& out, const std::string& name, const std::string& help) const;

 private:
  static constexpr std::array<double, 12> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   0.5,    2.0};
  std::array<std::uint64_t, kBounds.size() + 1> buckets_{};
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

struct EsrpMetrics {
  std::map<std::string, std::uint64_t> calls;        // by outcome: answered, busy, cancelled, failed, shed
  std::map<std::string, std::uint64_t> requests;     // routed requests by method
  std::map<std::string, std::uint64_t> retargets;    // by reason
  std::map<std::string, std::uint64_t> locations;    // by source: value, reference, default
  std::map<std::string, std::uint64_t> held;         // dereference results: ok, or the error
  std::map<std::string, std::uint64_t> lost;         // findService results: mapping, or the error
  std::map<std::string, std::uint64_t> routes;       // first target from: policy, ecrf, default, last_resort
  std::map<std::string, std::uint64_t> policy_reloads;  // ok, refused
  Histogram routing_latency, lost_latency, held_latency;

  void write(std::string& out) const;
  void add(const EsrpMetrics& other);  // another event loop's figures
};

// `name{label="value"} n` lines for a labelled counter, with HELP and TYPE.
void write_counter(std::string& out, const std::string& name, const std::string& help, const std::string& label,
                   const std::map<std::string, std::uint64_t>& values);
void write_gauge(std::string& out, const std::string& name, const std::string& help, double value);

}  // namespace ng911::esrp
