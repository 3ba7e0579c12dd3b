#pragma once
// Packet fixtures for the dataplane: each a frame, what the XDP path must make of it (class and
// action) and, when forwarded, where it must point. Run through the user-space twin
// (twin_test.cpp, no root) and through the kernel with BPF_PROG_TEST_RUN (xdp_test.cpp), which
// must agree byte for byte.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <functional>

#include "dataplane/backends.h"
#include "dataplane/packets.h"
#include "dataplane/tables.h"
#include "dataplane/twin.h"

namespace ng911::dataplane::test {

constexpr std::uint32_t kPass = 0, kDrop = 1, kTx = 2, kRedirect = 3;  // enum ng911_action

struct Expected {
  std::uint32_t klass;
  std::uint32_t action;
  // For kTx/kRedirect: the rewritten destination.
  std::string dst_ip{};
  std::uint16_t dst_port = 0;
};

struct Fixture {
  std::string name;
  std::vector<std::uint8_t> frame;
  Expected expected;
};

// The lab's addresses: the appliance's (VIP) and two backends.
inline constexpr const char* kVip4 = "192.0.2.100";
inline constexpr const char* kVip6 = "2001:db8::100";
inline constexpr const char* kBackend4 = "10.0.0.1";
inline constexpr const char* kBackend6 = "2001:db8:1::1";
inline constexpr std::uint16_t kBackendPort = 5062;
inline const Mac kBackendMac{0x02, 0xbe, 0, 0, 0, 0x01};
inline const Mac kEgressMac{0x02, 0xee, 0, 0, 0, 0x01};

// SIP on 5060 and 5080, both VIPs, the guard on with buckets of `burst` messages refilled at
// one per 10 s (far slower than a test runs).
ng911_config lab_config(std::uint64_t burst = 1000);
// Backend 0: both families, on the ingress interface (XDP_TX) unless ifindex says otherwise.
ng911_backend lab_backend(std::uint32_t ifindex = 0, bool v6 = true);

// The classification and forwarding fixtures (not the flood guard's: those depend on order).
std::vector<Fixture> fixtures();

// An emergency INVITE and a REGISTER from the given source, for the flood guard.
std::vector<std::uint8_t> request_from(const std::string& src_ip, const std::string& method,
                                       const std::string& request_uri, const std::string& call_id);

// The control plane's interface over a twin's memory: what BackendPool writes lands where the
// twin's pipeline reads it.
class TwinTables : public DataplaneTables {
 public:
  explicit TwinTables(ng911_twin& twin) : twin_(twin) {}
  void set_config(const ng911_config& config) override { twin_.config = config; }
  void set_backend(std::uint32_t index, const ng911_backend& backend) override { twin_.backends[index] = backend; }
  void write_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) override {
    for (auto s : slots) twin_.table[s] = table[s];
  }
  void write_prior_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) override {
    for (auto s : slots) twin_.prior[s] = table[s];
  }
  void add_port(int) override {}
  ng911_stats read_stats() const override { return twin_.stats; }

 private:
  ng911_twin& twin_;
};

// A request inside a dialog: the To header carries the tag the far end gave.
std::string in_dialog_request(const std::string& method, const std::string& call_id);

// What a drain did to the calls of three backends (10.0.0.1-3:5062), the third drained:
// calls begun before it (INVITE, then BYE, re-INVITE and CANCEL), calls begun during it (INVITE,
// ACK, BYE and the 200 OK), and the same after the drain ended (the drained one removed).
struct DrainReport {
  int old_calls = 0, old_on_drained = 0;
  int old_messages = 0, old_moved = 0, old_reached_drained = 0;  // during the drain
  int new_calls = 0, new_on_drained = 0, new_split = 0;
  int after_new_moved = 0, after_reached_drained = 0;            // after it ended
  int unrouted = 0;                                              // no backend chosen
  std::uint64_t kept = 0, pinned = 0;                            // the path's drain counters
};
// Runs the scenario through `send` (one frame through the path under test, which reads what
// `tables` holds); the pool sets the configuration: the lab's, guard off.
DrainReport drain_scenario(DataplaneTables& tables, const std::function<ng911_twin_result(std::vector<std::uint8_t>&)>& send);

// SIP payloads for differential tests of the classifier (stage one against now, the kernel
// against the twin): real messages of every kind, compact and odd-case Call-IDs among them.
std::vector<std::string> sip_seed_messages();

// The same INVITE with the Call-ID moved across the window's end (NG911_SIP_WINDOW) a byte at a
// time by a padding header: where the kernel's scan stops reading in place.
std::vector<std::string> call_id_near_the_window_end();

// Seeded random edits of the seed messages (bytes replaced, SIP tokens and line ends inserted,
// runs erased or padded, cuts): the same sequence for the same seed.
class SipMutator {
 public:
  explicit SipMutator(std::uint32_t seed) : rng_(seed), seeds_(sip_seed_messages()) {}
  std::string next();

 private:
  std::mt19937 rng_;
  std::vector<std::string> seeds_;
};

}  // namespace ng911::dataplane::test
