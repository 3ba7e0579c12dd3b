#pragma once
// ng911-dataplane: loads and attaches the XDP program, pins its maps, keeps the backends and
// their Maglev table (health checks by SIP OPTIONS), answers a control socket (add, remove,
// weight, drain) and serves the counters on /metrics. The same control plane runs the DPDK
// path (dataplane/dpdk/) over its tables in user-space memory: serve().
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/backends.h"
#include "dataplane/tables.h"
#include "dataplane/xdp.h"

namespace ng911::dataplane {

struct ControllerConfig {
  std::vector<std::string> interfaces;        // where the program is attached
  AttachMode mode = AttachMode::automatic;
  std::vector<std::string> vips;              // the appliance's SIP addresses (one per family)
  std::vector<std::uint16_t> sip_ports{5060};
  bool guard = true;
  double request_rate = 50, request_burst = 100;  // non-emergency requests per source
  double invite_rate = 10, invite_burst = 20;      // INVITEs per source
  std::vector<BackendSpec> backends;
  bool health_checks = true;                        // off: backends count as alive once added
  std::chrono::milliseconds health_interval{1000};
  std::chrono::milliseconds dead_after{3000};      // no answer for this long: out of the table
  std::string pin_dir = "/sys/fs/bpf/ng911";
  std::string control = "/run/ng911-dataplane.sock";
  std::string metrics = "127.0.0.1:8200";           // "" for none
};

// The kernel's configuration for these settings.
ng911_config kernel_config(const ControllerConfig& config);

// Where a backend's frames go out: its MAC (or its next hop's), the port and that port's MAC.
struct BackendLink {
  Mac mac;
  int ifindex = 0;
  Mac src_mac{};
};

// How the packet path learns a backend's link: from the spec (mac=, dev=), or once the backend
// answers (the kernel's neighbour table for the XDP path).
class LinkResolver {
 public:
  virtual ~LinkResolver() = default;
  virtual std::optional<BackendLink> given(const BackendSpec& spec) = 0;
  virtual std::optional<BackendLink> learned(const BackendSpec& spec) = 0;
};

// The kernel's interfaces: dev= names one, and IPv4 backends' MACs come from /proc/net/arp.
class KernelLinks : public LinkResolver {
 public:
  std::optional<BackendLink> given(const BackendSpec& spec) override;
  std::optional<BackendLink> learned(const BackendSpec& spec) override;
};

struct ServeHooks {
  std::function<bool()> stop_when;            // asked every 100 ms; true ends serve()
  std::function<std::string()> more_stats;    // appended to the control socket's "stats"
};

// The control plane over any packet path's tables: backends and their Maglev table, health
// checks, the control socket and /metrics. Runs until SIGINT or SIGTERM (or stop_when).
int serve(const ControllerConfig& config, DataplaneTables& tables, LinkResolver& links, const ServeHooks& hooks = {});

// The XDP path: loads, attaches and pins the program, then serve(). Detaches and unpins on the
// way out; returns the exit code.
int run_controller(const ControllerConfig& config);

// One request on the control socket ("add SPEC", "remove NAME", "weight NAME W", "drain NAME",
// "undrain NAME", "list", "stats"); returns the reply. Throws std::runtime_error when nobody
// listens.
std::string control_request(const std::string& socket_path, const std::string& request);

// The counters as a table (with per-second rates when `seconds` > 0 and `before` is given).
std::string format_stats(const ng911_stats& now, const ng911_stats* before = nullptr, double seconds = 0);
// The counters in Prometheus text format.
std::string prometheus_stats(const ng911_stats& stats);

const char* class_name(int klass);
const char* outcome_name(int outcome);

}  // namespace ng911::dataplane
