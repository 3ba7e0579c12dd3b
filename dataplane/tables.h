#pragma once
// What the control plane writes and reads, wherever the packet path keeps it: BPF maps for the
// XDP program (DataplaneMaps, xdp.h), user-space memory for the DPDK path (dpdk/tables.h). The
// backends, their Maglev table, the health checks, the control socket and /metrics
// (controller.h) work over this one interface.
#include <cstdint>
#include <span>

#include "ng911_dp.h"

namespace ng911::dataplane {

class DataplaneTables {
 public:
  virtual ~DataplaneTables() = default;
  virtual void set_config(const ng911_config& config) = 0;
  virtual void set_backend(std::uint32_t index, const ng911_backend& backend) = 0;
  // Writes table[slot] for each of `slots` (the changed ones; see changed_slots()).
  virtual void write_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) = 0;
  // The same for the prior table, which calls in progress follow during a drain (ng911_dp.h).
  virtual void write_prior_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) = 0;
  // Lets the packet path send out of ifindex (a redirect).
  virtual void add_port(int ifindex) = 0;
  // The counters summed over every CPU (or core).
  virtual ng911_stats read_stats() const = 0;
};

}  // namespace ng911::dataplane
