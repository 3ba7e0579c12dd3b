#include "dataplane/dpdk/dpdk_path.h"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "dataplane/dpdk/ports.h"
#include "dataplane/dpdk/tables.h"
#include "dataplane/dpdk/worker.h"
#include "server/log.h"

namespace ng911::dataplane::dpdk {
namespace {

// Started ports, closed (and pcap files flushed) however run() leaves.
struct OpenPorts {
  std::vector<Port> ports;
  OpenPorts() = default;
  OpenPorts(const OpenPorts&) = delete;
  OpenPorts& operator=(const OpenPorts&) = delete;
  ~OpenPorts() {
    for (const auto& p : ports) port_close(p.id);
  }
};

struct Launch {
  UserTables& tables;
  WorkerOptions options;
  WorkerSignals& signals;
};

int launch_worker(void* arg) {
  auto* l = static_cast<Launch*>(arg);
  try {
    return worker_loop(l->tables, l->options, l->signals);
  } catch (const std::exception& e) {
    std::cerr << "ng911-dataplane-dpdk: worker: " << e.what() << "\n";
    l->signals.done.store(true);
    return 1;
  }
}

std::string lcore_and_port_stats(const UserTables& tables, const std::vector<Port>& ports) {
  std::string out;
  char line[256];
  auto counters = tables.read_lcore_counters();
  for (unsigned i = 0; i < counters.size(); ++i) {
    const auto& c = counters[i];
    std::snprintf(line, sizeof line,
                  "lcore %-3u rx=%llu tx=%llu tx_failed=%llu passed_freed=%llu dropped=%llu bad_port=%llu\n",
                  const_cast<UserTables&>(tables).worker(i).lcore, static_cast<unsigned long long>(c.rx),
                  static_cast<unsigned long long>(c.tx), static_cast<unsigned long long>(c.tx_failed),
                  static_cast<unsigned long long>(c.passed), static_cast<unsigned long long>(c.dropped),
                  static_cast<unsigned long long>(c.bad_port));
    out += line;
  }
  for (const auto& p : ports) {
    rte_eth_stats s{};
    rte_eth_stats_get(p.id, &s);
    std::snprintf(line, sizeof line, "port %-3u %s%s%s ipackets=%llu imissed=%llu ierrors=%llu opackets=%llu oerrors=%llu\n",
                  p.id, p.name.c_str(), p.iface.empty() ? "" : " iface=", p.iface.c_str(),
                  static_cast<unsigned long long>(s.ipackets), static_cast<unsigned long long>(s.imissed),
                  static_cast<unsigned long long>(s.ierrors), static_cast<unsigned long long>(s.opackets),
                  static_cast<unsigned long long>(s.oerrors));
    out += line;
  }
  return out;
}

}  // namespace

int run(const DpdkConfig& config, const std::string& program) {
  lost::Logger log;
  Eal eal(eal_arguments(program, config.eal, config.controller.interfaces, config.pmd));
  std::uint16_t count = rte_eth_dev_count_avail();
  if (count == 0) throw std::runtime_error("no DPDK port: give --dev IF or a --vdev in the EAL arguments");
  Mempool pool = make_mbuf_pool(count);
  OpenPorts open;
  std::uint16_t id = 0;
  RTE_ETH_FOREACH_DEV(id) {
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(id, name);
    std::string iface;
    for (std::size_t i = 0; i < config.controller.interfaces.size(); ++i)
      if (interface_vdev_name(config.pmd, i) == name) iface = config.controller.interfaces[i];
    open.ports.push_back(port_init(id, pool.get(), iface));
    const auto& p = open.ports.back();
    if (config.print_ports)
      std::cout << "port " << p.id << " " << p.name << " mac " << format_mac(p.mac)
                << (p.iface.empty() ? "" : " iface " + p.iface) << std::endl;
    log.write("info", "port", {{"port", p.id}, {"name", p.name}, {"mac", format_mac(p.mac)}});
  }

  unsigned worker_lcore = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0);
  if (worker_lcore >= RTE_MAX_LCORE) throw std::runtime_error("no worker lcore: give the EAL two lcores (-l 0-1)");

  UserTables tables(1);
  WorkerSignals signals;
  WorkerOptions options;
  for (const auto& p : open.ports) options.ports.push_back(p.id);
  options.burst = config.burst;
  options.exit_after_packets = config.exit_after_packets;
  Launch launch{tables, options, signals};

  bool launched = false;
  auto started = std::chrono::steady_clock::now();
  ServeHooks hooks;
  // serve() first asks 100 ms after it has written the configured backends' table: the worker
  // starts then, so that no packet of a bounded run (a pcap) meets an empty table.
  hooks.stop_when = [&] {
    if (!launched) {
      if (rte_eal_remote_launch(launch_worker, &launch, worker_lcore) != 0)
        throw std::runtime_error("cannot launch the worker lcore");
      launched = true;
      log.write("info", "worker_started", {{"lcore", worker_lcore}, {"ports", open.ports.size()}});
    }
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    return signals.done.load() || (config.duration_s > 0 && elapsed.count() >= config.duration_s);
  };
  hooks.more_stats = [&] { return lcore_and_port_stats(tables, open.ports); };

  DpdkLinks links(open.ports);
  int rc = serve(config.controller, tables, links, hooks);
  signals.stop.store(true);
  if (launched && rte_eal_wait_lcore(worker_lcore) != 0) rc = rc ? rc : 1;
  std::cout << "final stats\n" << format_stats(tables.read_stats()) << lcore_and_port_stats(tables, open.ports)
            << std::flush;
  return rc;
}

}  // namespace ng911::dataplane::dpdk
