#pragma once
// The EAL and the ports of the DPDK path: EAL arguments (defaults for the virtual devices this
// project runs on), one mbuf pool, port set-up in the style of DPDK's skeleton example (one rx
// and one tx queue per port), and how backends find the port their frames leave by.
//
// Ports stand where the XDP path has interfaces: the pipeline's "ifindex" of DPDK port P is
// P + 1 (0 means "the ingress port" to the pipeline, and backends with ifindex 0 never enter
// the Maglev table).
#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/controller.h"

namespace ng911::dataplane::dpdk {

inline int port_ifindex(std::uint16_t port) { return static_cast<int>(port) + 1; }

struct Port {
  std::uint16_t id = 0;
  std::string name;   // DPDK's device name: net_af_xdp0, net_pcap0, ...
  std::string iface;  // the kernel interface given with --dev ("" for devices from the EAL args)
  Mac mac{};
};

// The EAL's command line: program name, the user's EAL arguments (none: --no-pci --no-huge
// -m 512 --no-shconf --no-telemetry -l 0-1 and a file prefix of this process's own), then one
// --vdev per kernel interface: net_af_xdp<i>,iface=IF or net_af_packet<i>,iface=IF.
std::vector<std::string> eal_arguments(const std::string& program, const std::vector<std::string>& user,
                                       const std::vector<std::string>& interfaces, const std::string& pmd);
// The vdev name eal_arguments() gave the i-th interface.
std::string interface_vdev_name(const std::string& pmd, std::size_t i);

// rte_eal_init() for the object's lifetime (rte_eal_cleanup() after). Throws std::runtime_error.
class Eal {
 public:
  explicit Eal(const std::vector<std::string>& arguments);
  ~Eal();
  Eal(const Eal&) = delete;
  Eal& operator=(const Eal&) = delete;
};

struct MempoolFree {
  void operator()(rte_mempool* pool) const;
};
using Mempool = std::unique_ptr<rte_mempool, MempoolFree>;
// The pool the ports' rx queues fill from, sized for `ports` ports' rings and `extra` mbufs
// more (a pcap port replaying a file from memory holds one per frame).
Mempool make_mbuf_pool(unsigned ports, unsigned extra = 0);

// Configures one rx and one tx queue on the port, starts it and turns on promiscuous mode
// (where the driver has one). Throws std::runtime_error with DPDK's reason.
Port port_init(std::uint16_t port, rte_mempool* pool, const std::string& iface = {});
// Stops and closes it (flushes what a pcap port wrote).
void port_close(std::uint16_t port);

// Backends' links on DPDK ports: dev= names a port by the interface given with --dev, by its
// DPDK name or by its number (left out: the only port, when there is one). A MAC is given
// (mac=) or, for IPv4 backends on an af_packet port (the kernel sees that traffic too), learned
// from the kernel's neighbour table once the backend answers the health checks.
class DpdkLinks : public LinkResolver {
 public:
  explicit DpdkLinks(std::vector<Port> ports) : ports_(std::move(ports)) {}
  std::optional<BackendLink> given(const BackendSpec& spec) override;
  std::optional<BackendLink> learned(const BackendSpec& spec) override;
  const Port* find(const std::string& device) const;

 private:
  std::vector<Port> ports_;
};

}  // namespace ng911::dataplane::dpdk
