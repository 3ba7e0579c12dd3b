#pragma once
// Call-ID steering for a process with several SIP event loops: one UDP socket per loop, bound to
// the same address and port with SO_REUSEPORT, and the kernel's selector replaced by
// kernel/ng911_steer.bpf.c, which sends every datagram of a call (by its Call-ID, hashed by the
// dataplane's classifier) to the same loop. Datagrams without a Call-ID keep the kernel's
// 4-tuple hash.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "ng911_steer.h"

namespace ng911::dataplane {

class CallIdSteering {
 public:
  // Loads the program, puts socket_fds[i] at loop i and attaches the program to their group.
  // The sockets must be UDP, bound with SO_REUSEPORT to one address and port, at most
  // NG911_STEER_MAX_LOOPS of them. Throws std::runtime_error with the reason (no rights, a
  // socket the map refuses). The program stays attached to the group after this object goes.
  explicit CallIdSteering(std::span<const int> socket_fds);
  ~CallIdSteering();
  CallIdSteering(const CallIdSteering&) = delete;
  CallIdSteering& operator=(const CallIdSteering&) = delete;

  std::uint32_t loops() const { return loops_; }
  ng911_steer_stats stats() const;  // summed over CPUs

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint32_t loops_ = 0;
};

// Steering for a group where this process may have it; otherwise null, with the reason in `why`
// (no CAP_BPF, a socket the map refuses), and the group keeps the kernel's 4-tuple hash.
std::unique_ptr<CallIdSteering> steer_if_possible(std::span<const int> socket_fds, std::string& why);

}  // namespace ng911::dataplane
