#include "server/metrics.h"

#include <cstdio>
#include <cstring>

namespace ng911::lost {
namespace {

template <std::size_t N>
std::size_t index_of(const std::array<const char*, N>& names, const std::string& name) {
  for (std::size_t i = 0; i < N; ++i)
    if (name == names[i]) return i;
  return N - 1;
}

}  // namespace

void QueryMetrics::record(const ecrf::QueryOutcome& outcome, std::chrono::nanoseconds latency) {
  std::size_t q = outcome.request.empty() ? kRequests.size() - 1 : index_of(kRequests, outcome.request);
  counts_[q][index_of(kResults, outcome.result)].fetch_add(1, std::memory_order_relaxed);
  double seconds = std::chrono::duration<double>(latency).count();
  std::size_t b = 0;
  while (b < kBucketsSeconds.size() && seconds > kBucketsSeconds[b]) ++b;
  buckets_[b].fetch_add(1, std::memory_order_relaxed);
  latency_ns_sum_.fetch_add(static_cast<std::uint64_t>(latency.count()), std::memory_order_relaxed);
  if (outcome.substituted) substitutions_.fetch_add(1, std::memory_order_relaxed);
  if (outcome.default_mapping) default_mappings_.fetch_add(1, std::memory_order_relaxed);
}

void QueryMetrics::write(std::string& out) const {
  char line[256];
  out += "# HELP ng911_lost_queries_total LoST requests answered, by request type and result.\n"
         "# TYPE ng911_lost_queries_total counter\n";
  for (std::size_t q = 0; q < kRequests.size(); ++q)
    for (std::size_t r = 0; r < kResults.size(); ++r)
      if (auto n = counts_[q][r].load(std::memory_order_relaxed)) {
        std::snprintf(line, sizeof line, "ng911_lost_queries_total{request=\"%s\",result=\"%s\"} %llu\n", kRequests[q],
                      kResults[r], static_cast<unsigned long long>(n));
        out += line;
      }
  out += "# HELP ng911_lost_query_seconds Time from a parsed HTTP request to its LoST answer.\n"
         "# TYPE ng911_lost_query_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= kBucketsSeconds.size(); ++b) {
    cumulative += buckets_[b].load(std::memory_order_relaxed);
    if (b < kBucketsSeconds.size())
      std::snprintf(line, sizeof line, "ng911_lost_query_seconds_bucket{le=\"%g\"} %llu\n", kBucketsSeconds[b],
                    static_cast<unsigned long long>(cumulative));
    else
      std::snprintf(line, sizeof line, "ng911_lost_query_seconds_bucket{le=\"+Inf\"} %llu\n",
                    static_cast<unsigned long long>(cumulative));
    out += line;
  }
  std::snprintf(line, sizeof line, "ng911_lost_query_seconds_sum %.9f\nng911_lost_query_seconds_count %llu\n",
                static_cast<double>(latency_ns_sum_.load()) / 1e9, static_cast<unsigned long long>(cumulative));
  out += line;
  std::snprintf(line, sizeof line,
                "# HELP ng911_lost_service_substitutions_total Answers for a parent service (serviceSubstitution).\n"
                "# TYPE ng911_lost_service_substitutions_total counter\nng911_lost_service_substitutions_total %llu\n",
                static_cast<unsigned long long>(substitutions_.load()));
  out += line;
  std::snprintf(line, sizeof line,
                "# HELP ng911_lost_default_mappings_total Default routes returned (defaultMappingReturned).\n"
                "# TYPE ng911_lost_default_mappings_total counter\nng911_lost_default_mappings_total %llu\n",
                static_cast<unsigned long long>(default_mappings_.load()));
  out += line;
}

}  // namespace ng911::lost
