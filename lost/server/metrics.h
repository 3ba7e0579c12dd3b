#pragma once
// The LoST server's counters, exposed on /metrics in Prometheus text format. Lock-free: fixed
// tables of atomics indexed by request type and result.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "ecrf/ecrf.h"
#include "http/server.h"

namespace ng911::lost {

class QueryMetrics {
 public:
  void record(const ecrf::QueryOutcome& outcome, std::chrono::nanoseconds latency);
  // Appends the query metrics in Prometheus text format.
  void write(std::string& out) const;

  static constexpr std::array<const char*, 5> kRequests{"findService", "listServices", "listServicesByLocation",
                                                        "getServiceBoundary", "unparsed"};
  static constexpr std::array<const char*, 15> kResults{
      "mapping", "serviceList", "boundary", "redirect", "forward", "notFound", "badRequest", "locationInvalid",
      "locationProfileUnrecognized", "serviceNotImplemented", "loop", "serverTimeout", "serverError",
      "internalError", "other"};
  static constexpr std::array<double, 10> kBucketsSeconds{0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                          0.002,   0.005,  0.01,    0.05,   0.25};

 private:
  std::array<std::array<std::atomic<std::uint64_t>, kResults.size()>, kRequests.size()> counts_{};
  std::array<std::atomic<std::uint64_t>, kBucketsSeconds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> latency_ns_sum_{0}, substitutions_{0}, default_mappings_{0};
};

}  // namespace ng911::lost
