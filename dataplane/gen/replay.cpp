#include "dataplane/gen/replay.h"

#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "dataplane/dpdk/ports.h"

namespace ng911::dataplane::gen {
namespace {

constexpr const char* kPcapPort = "net_pcap_replay0";
// infinite_rx keeps every frame of the file in an mbuf: bigger files need more EAL memory (-m).
constexpr std::uint64_t kMaxFileFrames = 100'000;

std::uint16_t port_by_name(const std::string& name) {
  std::uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) throw std::runtime_error("no DPDK port " + name);
  return id;
}

// Stops and closes the ports on every way out, before the pool and the EAL go.
struct PortsGuard {
  std::vector<std::uint16_t> ports;
  ~PortsGuard() {
    for (auto p : ports) dpdk::port_close(p);
  }
};

// The generator's frames carry their kind in the IPv4 identification (ng911_pktgen.h).
void tally(const rte_mbuf* m, Counts& kinds, std::uint64_t delta) {
  const auto* frame = rte_pktmbuf_mtod(m, const std::uint8_t*);
  if (m->data_len < 34 || frame[12] != 0x08 || frame[13] != 0x00) return;
  unsigned id = static_cast<unsigned>(frame[18]) << 8 | frame[19];
  unsigned kind = id & 0xff;
  if ((id & 0xff00) == NG911_PKTGEN_TAG && kind < kind_count) kinds[kind] += delta;
}

}  // namespace

double ReplayReport::rate() const { return elapsed.count() > 0 ? static_cast<double>(sent) / elapsed.count() : 0; }

std::uint64_t pcap_frame_count(const std::string& path) {
  char error[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, decltype(&pcap_close)> file(pcap_open_offline(path.c_str(), error), &pcap_close);
  if (!file) throw std::runtime_error("cannot read " + path + ": " + error);
  if (pcap_datalink(file.get()) != DLT_EN10MB) throw std::runtime_error(path + ": not Ethernet frames");
  std::uint64_t n = 0;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(file.get(), &header, &data) == 1) ++n;
  if (n == 0) throw std::runtime_error(path + ": no frames");
  return n;
}

ReplayReport replay_pcap(const ReplayOptions& o, const std::string& program,
                         const std::function<void(const ReplayReport&)>& progress, const std::atomic<bool>& stop) {
  ReplayReport report;
  report.file_frames = pcap_frame_count(o.pcap);
  if (report.file_frames > kMaxFileFrames)
    throw std::runtime_error(o.pcap + ": " + std::to_string(report.file_frames) + " frames; at most " +
                             std::to_string(kMaxFileFrames) + " are replayed from memory");
  if (o.pcap.find_first_of(",=") != std::string::npos)
    throw std::runtime_error("the pcap path cannot hold ',' or '=' (DPDK device arguments)");
  if (o.burst == 0) throw std::invalid_argument("--burst must be at least 1");

  auto args = dpdk::eal_arguments(program, o.eal, {o.interface}, o.pmd);
  args.push_back(std::string("--vdev=") + kPcapPort + ",rx_pcap=" + o.pcap + ",infinite_rx=1");
  dpdk::Eal eal(args);
  auto pool = dpdk::make_mbuf_pool(2, static_cast<unsigned>(report.file_frames));
  PortsGuard guard;
  std::uint16_t out = port_by_name(dpdk::interface_vdev_name(o.pmd, 0));
  std::uint16_t in = port_by_name(kPcapPort);
  dpdk::port_init(out, pool.get(), o.interface);
  guard.ports.push_back(out);
  dpdk::port_init(in, pool.get());
  guard.ports.push_back(in);

  const std::uint64_t hz = rte_get_tsc_hz();
  const std::uint64_t start = rte_rdtsc();
  const auto limit = static_cast<std::uint64_t>(o.duration.count() * static_cast<double>(hz));
  std::uint64_t next_progress = start + hz;
  std::vector<rte_mbuf*> burst(o.burst);
  auto elapsed = [&](std::uint64_t now) { return std::chrono::duration<double>(static_cast<double>(now - start) / hz); };
  for (;;) {
    std::uint64_t now = rte_rdtsc();
    if (stop || now - start >= limit || (o.count && report.sent >= o.count)) break;
    if (now >= next_progress) {
      report.elapsed = elapsed(now);
      progress(report);
      next_progress += hz;
    }
    std::uint64_t want = o.burst;
    if (o.count) want = std::min<std::uint64_t>(want, o.count - report.sent);
    if (o.rate > 0) {
      // Pacing: no more than the rate allows by now (a burst at a time, so within one burst).
      auto allowed = static_cast<std::uint64_t>(static_cast<double>(now - start) / static_cast<double>(hz) * o.rate) + 1;
      if (allowed <= report.sent) continue;
      want = std::min(want, allowed - report.sent);
    }
    std::uint16_t n = rte_eth_rx_burst(in, 0, burst.data(), static_cast<std::uint16_t>(want));
    for (std::uint16_t i = 0; i < n; ++i) tally(burst[i], report.kinds, 1);  // before tx takes them
    std::uint16_t done = 0;
    // Every frame taken from the file goes out: a full tx ring is waited on, not dropped, so the
    // count is exact (the time bound still holds).
    while (done < n && !stop && rte_rdtsc() - start < limit)
      done += rte_eth_tx_burst(out, 0, burst.data() + done, static_cast<std::uint16_t>(n - done));
    for (std::uint16_t i = done; i < n; ++i) tally(burst[i], report.kinds, ~std::uint64_t{0});  // minus one: not sent
    if (done < n) rte_pktmbuf_free_bulk(burst.data() + done, n - done);
    report.sent += done;
  }
  report.elapsed = elapsed(rte_rdtsc());
  return report;
}

}  // namespace ng911::dataplane::gen
