#pragma once
// Sending a mix: live, through BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES into an interface
// (the kernel turns each run into real frames out of that interface; per-packet numbering by a
// small XDP program), or into a pcap file for tcpreplay or DPDK's net_pcap. Both send the same
// frames for the same packet numbers (gen/mix.h).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/gen/mix.h"

namespace ng911::dataplane::gen {

struct SendOptions {
  std::string interface;      // frames leave by it (looked up in the caller's network namespace)
  Endpoints endpoints;        // src_mac: the interface's own when all zero
  Mix mix = default_mix();
  std::uint64_t count = 0;    // packets in all; 0: until `duration`
  std::chrono::duration<double> duration{10};  // always a bound, also with a count
  double rate = 0;            // packets per second in all; 0: as fast as the machine allows
  std::vector<int> cpus{0};   // one sending thread pinned to each
  std::uint32_t chunk = 4096; // packets per BPF_PROG_RUN of the rarest kind (fewer syscalls)
  std::uint64_t run_id = 0;   // high bits of every packet's number: distinct Call-IDs across runs
};

struct SendReport {
  Counts sent{};
  std::chrono::duration<double> elapsed{};
  std::uint64_t total() const;
  double rate() const;  // packets per second
};

// Sends until the count is sent, the duration is over or `stop` is set. Calls `progress` from
// the calling thread about once a second. Throws std::runtime_error when the program cannot be
// loaded or the kernel refuses a run (no rights, no such interface).
SendReport send_live(const SendOptions& options, const std::function<void(const SendReport&)>& progress,
                     const std::atomic<bool>& stop);

struct PcapOptions {
  std::string path;
  Endpoints endpoints;
  Mix mix = default_mix();
  std::uint64_t count = 0;
  double rate = 1e6;          // spacing of the timestamps
  std::uint64_t run_id = 0;
};
// Writes `count` frames, the kinds interleaved evenly by weight; returns what it wrote.
Counts write_pcap(const PcapOptions& options);

// The MAC address of an interface in the caller's network namespace.
Mac interface_mac(const std::string& interface);

// A run identifier from the clock, so that two runs do not repeat each other's Call-IDs.
std::uint64_t clock_run_id();

}  // namespace ng911::dataplane::gen
