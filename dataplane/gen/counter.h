#pragma once
// The receiving end: an XDP program on an interface that counts the UDP datagrams to a port
// (per kind for the generator's tagged frames) and drops them; the rest goes to the stack.
#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/gen/mix.h"
#include "dataplane/xdp.h"

namespace ng911::dataplane::gen {

struct CounterOptions {
  std::string interface;
  std::uint16_t port = 5060;   // 0: every UDP port
  std::string pass_from;       // IPv4 source to let through uncounted (health checks); "": none
  bool pass_counted = false;   // counted datagrams go on to the stack instead of being dropped
  AttachMode mode = AttachMode::automatic;
};

struct Received {
  std::uint64_t packets = 0, bytes = 0;
  Counts kinds{};
};

class Counter {
 public:
  // Loads and attaches; throws std::runtime_error with the reason.
  explicit Counter(const CounterOptions& options);
  ~Counter();
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  // The counts summed over every CPU.
  Received read() const;
  AttachMode mode() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ng911::dataplane::gen
