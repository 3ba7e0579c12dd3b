#include "dataplane/dpdk/worker.h"

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "dataplane/dpdk/ports.h"

namespace ng911::dataplane::dpdk {
namespace {

// ng911_twin_result.action (the pipeline's enum, kernel/dp_pipeline.h).
enum Action : std::uint32_t { pass = 0, drop = 1, tx = 2, redirect = 3 };

struct TxBufferFree {
  void operator()(rte_eth_dev_tx_buffer* b) const { rte_free(b); }
};
using TxBuffer = std::unique_ptr<rte_eth_dev_tx_buffer, TxBufferFree>;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace

int worker_loop(UserTables& tables, const WorkerOptions& options, WorkerSignals& signals) {
  WorkerState& state = tables.worker(options.index);
  state.lcore = rte_lcore_id();
  LcoreCounters& counters = state.counters;
  const unsigned burst = options.burst ? options.burst : 32;

  // One tx buffer per port (DPDK's l2fwd): frames for a port collect during a pass and leave in
  // bursts; what a full tx queue refuses is freed and counted by the buffer's callback.
  std::array<TxBuffer, RTE_MAX_ETHPORTS> out;
  for (auto port : options.ports) {
    out[port].reset(static_cast<rte_eth_dev_tx_buffer*>(
        rte_zmalloc_socket("ng911_tx_buffer", RTE_ETH_TX_BUFFER_SIZE(burst), 0, rte_eth_dev_socket_id(port))));
    if (!out[port]) throw std::runtime_error("cannot allocate a tx buffer");
    rte_eth_tx_buffer_init(out[port].get(), static_cast<std::uint16_t>(burst));
    rte_eth_tx_buffer_set_err_callback(out[port].get(), rte_eth_tx_buffer_count_callback, &counters.tx_failed);
  }
  std::vector<rte_mbuf*> rx(burst);

  tables.online(options.index);
  while (!signals.stop.load(std::memory_order_relaxed)) {
    const ng911_tables* snapshot = tables.tables();
    state.pipeline.now_ns = now_ns();
    for (auto port : options.ports) {
      std::uint16_t n = rte_eth_rx_burst(port, 0, rx.data(), static_cast<std::uint16_t>(burst));
      counters.rx += n;
      for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = rx[i];
        if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void*));
        // The first segment only: a frame longer than one mbuf (jumbo) looks cut short to the
        // pipeline and is dropped as malformed, as XDP without multi-buffer support sees it.
        auto r = ng911_worker_run(snapshot, &state.pipeline, rte_pktmbuf_mtod(m, __u8*), rte_pktmbuf_data_len(m),
                                  static_cast<__u32>(port_ifindex(port)));
        std::uint32_t egress = port;
        if (r.action == Action::redirect) {
          egress = r.ifindex - 1;
        } else if (r.action != Action::tx) {
          // No host stack behind a DPDK port: what the XDP program would pass is counted and freed.
          ++(r.action == Action::drop ? counters.dropped : counters.passed);
          rte_pktmbuf_free(m);
          continue;
        }
        if (egress >= RTE_MAX_ETHPORTS || !out[egress]) {
          ++counters.bad_port;
          rte_pktmbuf_free(m);
          continue;
        }
        counters.tx += rte_eth_tx_buffer(static_cast<std::uint16_t>(egress), 0, out[egress].get(), m);
      }
    }
    for (auto port : options.ports) counters.tx += rte_eth_tx_buffer_flush(port, 0, out[port].get());
    tables.quiescent(options.index);
    if (options.exit_after_packets && counters.rx >= options.exit_after_packets) break;
  }
  tables.offline(options.index);
  signals.done.store(true, std::memory_order_release);
  return 0;
}

}  // namespace ng911::dataplane::dpdk
