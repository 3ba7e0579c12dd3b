#pragma once
// The DPDK path of the dataplane: the XDP program's pipeline (kernel/dp_pipeline.h, compiled
// for user space in dataplane/twin.c) on DPDK ports, with the XDP path's control plane (serve():
// backends, Maglev, health checks, control socket, /metrics) over tables in user-space memory.
// ng911-dataplane-dpdk is its command line.
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/controller.h"

namespace ng911::dataplane::dpdk {

struct DpdkConfig {
  ControllerConfig controller;            // interfaces: kernel interfaces to open as ports
  std::string pmd = "af_xdp";             // af_xdp or af_packet, for those interfaces
  std::vector<std::string> eal;           // EAL arguments (empty: defaults, see eal_arguments())
  unsigned burst = 32;
  std::uint64_t exit_after_packets = 0;   // 0: run until SIGINT/SIGTERM (or duration)
  double duration_s = 0;                  // 0: no limit
  bool print_ports = true;                // one line per port on stdout at start
};

// Runs the path: EAL, ports (every one the EAL created: --dev interfaces and vdevs from the EAL
// arguments), one worker lcore in the burst loop, serve() on the main lcore. Prints the final
// counters (format_stats, then per lcore and per port) on stdout; returns the exit code.
int run(const DpdkConfig& config, const std::string& program = "ng911-dataplane-dpdk");

}  // namespace ng911::dataplane::dpdk
