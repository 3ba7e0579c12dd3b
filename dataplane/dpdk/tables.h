#pragma once
// The DPDK path's tables in user-space memory. The control plane (serve(), one thread) never
// writes what a worker reads: each change copies the current snapshot (config, Maglev slots,
// backends: struct ng911_tables), applies the change and publishes the copy by pointer. The old
// snapshot is freed once every worker lcore has reported a quiescent state after the swap (DPDK's
// RCU QSBR): a worker reports one at the end of each pass of its burst loop, so the control plane
// waits at most one burst. Each worker keeps its own state (counters, flood guard, scratch), as
// the kernel's per-CPU maps do; the counters are summed for `stats` and /metrics.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "dataplane/tables.h"
#include "dataplane/twin.h"

struct rte_rcu_qsbr;

namespace ng911::dataplane::dpdk {

// What one worker lcore counts besides the pipeline's classes and outcomes: what became of the
// mbufs. Written by its worker only; read by the control plane.
struct LcoreCounters {
  std::uint64_t rx = 0;
  std::uint64_t tx = 0;            // handed to a port's tx queue
  std::uint64_t tx_failed = 0;     // the tx queue was full: freed
  std::uint64_t passed = 0;        // for the host stack: there is none here, so counted and freed
  std::uint64_t dropped = 0;       // the pipeline's drops (malformed, flood guard)
  std::uint64_t bad_port = 0;      // a redirect to a port this process does not have: freed
};

// One worker lcore's state.
struct WorkerState {
  unsigned lcore = 0;
  ng911_worker pipeline{};
  LcoreCounters counters{};
};

class UserTables : public DataplaneTables {
 public:
  // Room for `workers` worker lcores (each registers as an RCU reader by its index).
  explicit UserTables(unsigned workers);
  ~UserTables() override;
  UserTables(const UserTables&) = delete;
  UserTables& operator=(const UserTables&) = delete;

  // Control plane (serialised among themselves).
  void set_config(const ng911_config& config) override;
  void set_backend(std::uint32_t index, const ng911_backend& backend) override;
  void write_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) override;
  void write_prior_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) override;
  void add_port(int ifindex) override;  // every DPDK port can be sent out of: nothing to do
  ng911_stats read_stats() const override;
  std::vector<LcoreCounters> read_lcore_counters() const;
  // The snapshot workers see now (for tests and diagnostics).
  std::unique_ptr<ng911_tables> current() const;

  // Worker side. A worker goes online before its loop, reads the snapshot with tables(), calls
  // quiescent() after each pass (no pointer from tables() kept past it) and goes offline after.
  WorkerState& worker(unsigned index) { return *workers_.at(index); }
  unsigned worker_count() const { return static_cast<unsigned>(workers_.size()); }
  void online(unsigned index);
  void quiescent(unsigned index);
  void offline(unsigned index);
  const ng911_tables* tables() const { return current_.load(std::memory_order_acquire); }

 private:
  template <typename Change>
  void publish(Change&& change);
  // table[s] into the snapshot's Maglev or prior table for each slot s, published as one change.
  void write_table_slots(__u32 (ng911_tables::*which)[NG911_MAGLEV_SIZE], std::span<const std::uint32_t> table,
                         std::span<const std::uint32_t> slots);

  struct QsbrFree {
    void operator()(rte_rcu_qsbr* v) const;
  };
  std::unique_ptr<rte_rcu_qsbr, QsbrFree> qsbr_;
  mutable std::mutex writer_;
  std::unique_ptr<ng911_tables> owned_;  // what current_ points to
  std::atomic<const ng911_tables*> current_{nullptr};
  std::vector<std::unique_ptr<WorkerState>> workers_;
};

}  // namespace ng911::dataplane::dpdk
