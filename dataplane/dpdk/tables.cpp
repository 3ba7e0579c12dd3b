#include "dataplane/dpdk/tables.h"

#include <rte_rcu_qsbr.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ng911::dataplane::dpdk {

void UserTables::QsbrFree::operator()(rte_rcu_qsbr* v) const { std::free(v); }

UserTables::UserTables(unsigned workers) : owned_(std::make_unique<ng911_tables>()) {
  if (workers == 0) throw std::invalid_argument("the DPDK path needs at least one worker");
  // Plain aligned memory rather than rte_malloc: the tables work before (and without) the EAL,
  // which lets the tests drive them directly.
  std::size_t size = rte_rcu_qsbr_get_memsize(workers);
  size = (size + RTE_CACHE_LINE_SIZE - 1) / RTE_CACHE_LINE_SIZE * RTE_CACHE_LINE_SIZE;
  qsbr_.reset(static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, size)));
  if (!qsbr_ || rte_rcu_qsbr_init(qsbr_.get(), workers) != 0) throw std::runtime_error("cannot set up RCU QSBR");
  ng911_tables_init(owned_.get());
  current_.store(owned_.get(), std::memory_order_release);
  for (unsigned i = 0; i < workers; ++i) {
    auto w = std::make_unique<WorkerState>();
    ng911_worker_init(&w->pipeline);
    workers_.push_back(std::move(w));
  }
}

UserTables::~UserTables() = default;

template <typename Change>
void UserTables::publish(Change&& change) {
  std::lock_guard lock(writer_);
  auto next = std::make_unique<ng911_tables>(*owned_);
  change(*next);
  current_.store(next.get(), std::memory_order_release);
  // Every online worker passes a quiescent state after the store before the old one goes.
  rte_rcu_qsbr_synchronize(qsbr_.get(), RTE_QSBR_THRID_INVALID);
  owned_ = std::move(next);
}

void UserTables::set_config(const ng911_config& config) {
  publish([&](ng911_tables& t) { t.config = config; });
}

void UserTables::set_backend(std::uint32_t index, const ng911_backend& backend) {
  if (index >= NG911_MAX_BACKENDS) throw std::out_of_range("backend index");
  publish([&](ng911_tables& t) { t.backends[index] = backend; });
}

void UserTables::write_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) {
  write_table_slots(&ng911_tables::table, table, slots);
}

void UserTables::write_prior_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) {
  write_table_slots(&ng911_tables::prior, table, slots);
}

void UserTables::write_table_slots(__u32 (ng911_tables::*which)[NG911_MAGLEV_SIZE], std::span<const std::uint32_t> table,
                                   std::span<const std::uint32_t> slots) {
  if (slots.empty()) return;
  publish([&](ng911_tables& t) {
    for (auto s : slots)
      if (s < NG911_MAGLEV_SIZE && s < table.size()) (t.*which)[s] = table[s];
  });
}

void UserTables::add_port(int) {}

ng911_stats UserTables::read_stats() const {
  ng911_stats sum{};
  for (const auto& w : workers_)
    for (int i = 0; i < NG911_COUNTERS; ++i)
      sum.packets[i] += __atomic_load_n(&w->pipeline.stats.packets[i], __ATOMIC_RELAXED);
  return sum;
}

std::vector<LcoreCounters> UserTables::read_lcore_counters() const {
  std::vector<LcoreCounters> out;
  for (const auto& w : workers_) {
    const auto& c = w->counters;
    auto load = [](const std::uint64_t& v) { return __atomic_load_n(&v, __ATOMIC_RELAXED); };
    out.push_back({load(c.rx), load(c.tx), load(c.tx_failed), load(c.passed), load(c.dropped), load(c.bad_port)});
  }
  return out;
}

std::unique_ptr<ng911_tables> UserTables::current() const {
  std::lock_guard lock(writer_);
  return std::make_unique<ng911_tables>(*owned_);
}

void UserTables::online(unsigned index) {
  rte_rcu_qsbr_thread_register(qsbr_.get(), index);
  rte_rcu_qsbr_thread_online(qsbr_.get(), index);
}

void UserTables::quiescent(unsigned index) { rte_rcu_qsbr_quiescent(qsbr_.get(), index); }

void UserTables::offline(unsigned index) {
  rte_rcu_qsbr_thread_offline(qsbr_.get(), index);
  rte_rcu_qsbr_thread_unregister(qsbr_.get(), index);
}

}  // namespace ng911::dataplane::dpdk
