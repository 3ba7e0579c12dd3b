#pragma once
// A worker lcore's burst loop: rx burst on each port → the pipeline (ng911_worker_run) per packet
// → tx on the port the backend's frames leave by (the ingress port for XDP_TX), or free.
#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/dpdk/tables.h"

namespace ng911::dataplane::dpdk {

struct WorkerOptions {
  unsigned index = 0;                    // in UserTables' workers (its RCU thread id)
  std::vector<std::uint16_t> ports;      // polled on rx queue 0; all of them can be sent out of
  unsigned burst = 32;
  std::uint64_t exit_after_packets = 0;  // stop once this many were received (0: never)
};

struct WorkerSignals {
  std::atomic<bool> stop{false};  // set by the main lcore
  std::atomic<bool> done{false};  // set by the worker as it leaves its loop
};

// Runs until signals.stop (or exit_after_packets); returns 0. Frames already received are
// processed and sent before it returns.
int worker_loop(UserTables& tables, const WorkerOptions& options, WorkerSignals& signals);

}  // namespace ng911::dataplane::dpdk
