#pragma once
// The backends (ESRP nodes) behind the packet path and the Maglev table they share: each change
// (add, remove, weight, drain, health) recomputes the table in user space and writes only the
// slots that changed, so the packet path never sees a half-written table.
//
// A drained backend takes no new calls but keeps its calls in progress: while one drains, the
// packet path also reads the prior table (the table as it was when the drain began, less
// backends that died since) for messages of calls in progress on moved slots, and pins calls
// that begin on moved slots (ng911_dp.h). The drain ends when no healthy backend is drained
// (undrain, or remove once its calls are over).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/packets.h"
#include "dataplane/tables.h"

namespace ng911::dataplane {

// "ADDRESS:PORT[,weight=W][,mac=MAC][,dev=IFNAME]" (IPv6 in brackets; port 5060 if left out).
// Without mac/dev, the IPv4 neighbour table gives them once the backend answers.
struct BackendSpec {
  std::string address;
  std::uint16_t port = 5060;
  std::uint32_t weight = 1;
  std::optional<Mac> mac;
  std::string device;
  std::string name() const;  // "ADDRESS:PORT", "[ADDRESS]:PORT" for IPv6
};
BackendSpec parse_backend(std::string_view text);  // throws std::invalid_argument

struct Backend {
  BackendSpec spec;
  std::uint32_t index = 0;  // in the backends map
  bool healthy = false;     // answered OPTIONS within the dead-after time
  bool drained = false;     // takes no new calls; still checked
  std::optional<Mac> mac;   // resolved link: where frames go
  int ifindex = 0;
  Mac src_mac{};
  bool in_table() const { return healthy && !drained && spec.weight > 0 && mac && ifindex > 0; }
  // Drained but alive: its calls in progress still reach it.
  bool keeps_calls() const { return healthy && drained && mac && ifindex > 0; }
};

class BackendPool {
 public:
  explicit BackendPool(DataplaneTables& maps) : maps_(maps) {}

  // The packet path's configuration, written now and again with the drain's flag and epoch.
  void set_config(const ng911_config& config);
  bool draining() const { return draining_; }

  // Each throws std::invalid_argument with a message for the operator (unknown, duplicate, full).
  const Backend& add(const BackendSpec& spec);
  void remove(const std::string& name);
  void set_weight(const std::string& name, std::uint32_t weight);
  void set_drained(const std::string& name, bool drained);
  // Health and link state from the checker; true when the backend's state changed.
  bool set_healthy(const std::string& name, bool healthy);
  void set_link(const std::string& name, const Mac& mac, int ifindex, const Mac& src_mac);

  // Recomputes the table and writes what changed; returns the number of slots written.
  std::size_t apply();

  const std::map<std::string, Backend>& backends() const { return backends_; }
  Backend& at(const std::string& name);
  // Which backend a slot's index names ("" for none).
  std::string name_of(std::uint32_t index) const;

 private:
  void write_config();

  DataplaneTables& maps_;
  std::map<std::string, Backend> backends_;
  ng911_config config_{};
  // What the packet path holds: every slot empty until the first apply().
  std::vector<std::uint32_t> table_ = std::vector<std::uint32_t>(NG911_MAGLEV_SIZE, NG911_NO_BACKEND);
  std::vector<std::uint32_t> prior_ = table_;   // the prior table it holds (drains)
  bool draining_ = false;
  std::uint32_t epoch_ = 0;                     // drains begun: pins of earlier ones are stale
  std::vector<std::uint32_t> released_;         // indices free once the table no longer names them
};

}  // namespace ng911::dataplane
