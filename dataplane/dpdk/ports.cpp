#include "dataplane/dpdk/ports.h"

#include <net/if.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace ng911::dataplane::dpdk {
namespace {

constexpr std::uint16_t kRxDescriptors = 1024;
constexpr std::uint16_t kTxDescriptors = 1024;
// Per port: both rings full, af_xdp's fill queue and what sits in per-lcore caches and bursts.
constexpr unsigned kMbufsPerPort = 8192;
constexpr unsigned kMbufCache = 256;

std::string dpdk_error(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

}  // namespace

std::string interface_vdev_name(const std::string& pmd, std::size_t i) {
  return (pmd == "af_packet" ? "net_af_packet" : "net_af_xdp") + std::to_string(i);
}

std::vector<std::string> eal_arguments(const std::string& program, const std::vector<std::string>& user,
                                       const std::vector<std::string>& interfaces, const std::string& pmd) {
  if (pmd != "af_xdp" && pmd != "af_packet") throw std::invalid_argument("--pmd: af_xdp or af_packet");
  std::vector<std::string> args{program};
  if (user.empty()) {
    // No hugepages or PCI devices here (platform notes); a private prefix so that runs beside
    // each other (tests, benchmarks) do not share a runtime directory.
    args.insert(args.end(), {"--no-pci", "--no-huge", "-m", "512", "--no-shconf", "--no-telemetry", "-l", "0-1",
                             "--file-prefix", "ng911dp" + std::to_string(::getpid())});
  } else {
    args.insert(args.end(), user.begin(), user.end());
  }
  for (std::size_t i = 0; i < interfaces.size(); ++i)
    args.push_back("--vdev=" + interface_vdev_name(pmd, i) + ",iface=" + interfaces[i] + (pmd == "af_xdp" ? ",busy_budget=0" : ""));
  return args;
}

Eal::Eal(const std::vector<std::string>& arguments) {
  // rte_eal_init may permute argv: give it copies it owns.
  std::vector<std::string> copies = arguments;
  std::vector<char*> argv;
  for (auto& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(copies.size()), argv.data()) < 0)
    throw std::runtime_error("EAL initialisation failed: " + dpdk_error(rte_errno));
}

Eal::~Eal() {
  // The EAL leaves its (empty, with --no-shconf) runtime directory behind: remove it too.
  std::string runtime = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  if (!runtime.empty()) ::rmdir(runtime.c_str());
}

void MempoolFree::operator()(rte_mempool* pool) const { rte_mempool_free(pool); }

Mempool make_mbuf_pool(unsigned ports, unsigned extra) {
  Mempool pool(rte_pktmbuf_pool_create("ng911_mbufs", kMbufsPerPort * (ports ? ports : 1) + extra - 1, kMbufCache, 0,
                                       RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id())));
  if (!pool) throw std::runtime_error("cannot create the mbuf pool: " + dpdk_error(rte_errno));
  return pool;
}

Port port_init(std::uint16_t port, rte_mempool* pool, const std::string& iface) {
  if (!rte_eth_dev_is_valid_port(port)) throw std::runtime_error("no DPDK port " + std::to_string(port));
  Port p;
  p.id = port;
  p.iface = iface;
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port, name);
  p.name = name;
  auto fail = [&](const char* what, int rc) {
    return std::runtime_error("port " + p.name + ": " + what + ": " + dpdk_error(rc));
  };

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) throw fail("device info", rc);
  rte_eth_conf conf{};
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  if (int rc = rte_eth_dev_configure(port, 1, 1, &conf); rc != 0) throw fail("configure", rc);
  std::uint16_t rxd = kRxDescriptors, txd = kTxDescriptors;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd); rc != 0) throw fail("descriptors", rc);
  auto socket = static_cast<unsigned>(rte_eth_dev_socket_id(port));
  if (int rc = rte_eth_rx_queue_setup(port, 0, rxd, socket, nullptr, pool); rc < 0) throw fail("rx queue", rc);
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  if (int rc = rte_eth_tx_queue_setup(port, 0, txd, socket, &txconf); rc < 0) throw fail("tx queue", rc);
  if (int rc = rte_eth_dev_start(port); rc < 0) throw fail("start", rc);

  rte_ether_addr mac{};
  if (int rc = rte_eth_macaddr_get(port, &mac); rc != 0) throw fail("MAC address", rc);
  std::memcpy(p.mac.data(), mac.addr_bytes, 6);
  // Frames to the VIP carry the node's MAC, but a virtual device may be shared with a stack
  // that filters; vdevs without the notion answer -ENOTSUP, which is fine.
  rte_eth_promiscuous_enable(port);
  return p;
}

void port_close(std::uint16_t port) {
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
}

const Port* DpdkLinks::find(const std::string& device) const {
  if (device.empty()) return ports_.size() == 1 ? &ports_.front() : nullptr;
  for (const auto& p : ports_)
    if (p.iface == device || p.name == device) return &p;
  unsigned id = 0;
  auto [end, ec] = std::from_chars(device.data(), device.data() + device.size(), id);
  if (ec == std::errc{} && end == device.data() + device.size())
    for (const auto& p : ports_)
      if (p.id == id) return &p;
  return nullptr;
}

std::optional<BackendLink> DpdkLinks::given(const BackendSpec& spec) {
  const Port* port = find(spec.device);
  if (!spec.mac || !port) return std::nullopt;
  return BackendLink{*spec.mac, port_ifindex(port->id), port->mac};
}

std::optional<BackendLink> DpdkLinks::learned(const BackendSpec& spec) {
  auto kernel = KernelLinks().learned(spec);
  if (!kernel) return std::nullopt;
  char name[IF_NAMESIZE] = {};
  if (!if_indextoname(static_cast<unsigned>(kernel->ifindex), name)) return std::nullopt;
  const Port* port = find(spec.device.empty() ? std::string(name) : spec.device);
  if (!port) return std::nullopt;
  return BackendLink{kernel->mac, port_ifindex(port->id), port->mac};
}

}  // namespace ng911::dataplane::dpdk
