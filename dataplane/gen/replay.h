#pragma once
// DPDK replay of a pcap file (ng911-pktgen pcap writes one): the frames go out of an interface
// through a DPDK port, over and over, as fast as the port takes them or at a given rate. DPDK's
// own pcap driver reads the file (net_pcap with infinite_rx: the frames are loaded into mbufs once
// and handed out again and again); on a PCI NIC the same loop drives the card.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/gen/mix.h"

namespace ng911::dataplane::gen {

struct ReplayOptions {
  std::string pcap;                     // Ethernet frames, sent in the file's order
  std::string interface;                // kernel interface a DPDK port is opened on
  std::string pmd = "af_packet";        // af_packet or af_xdp (ports.h)
  std::vector<std::string> eal;         // EAL arguments; empty: ports.h's defaults
  std::uint64_t count = 0;              // frames in all; 0: until `duration`
  std::chrono::duration<double> duration{10};  // always a bound, also with a count
  double rate = 0;                      // frames per second; 0: as fast as the port takes them
  std::uint16_t burst = 32;
};

struct ReplayReport {
  std::uint64_t sent = 0;
  std::uint64_t file_frames = 0;        // frames in the pcap file
  Counts kinds{};                       // by the generator's IPv4 identification tag, where present
  std::chrono::duration<double> elapsed{};
  double rate() const;
};

// Frames in a pcap file. Throws std::runtime_error when it cannot be read or holds none.
std::uint64_t pcap_frame_count(const std::string& path);

// Replays until the count is sent, the duration is over or `stop` is set; `progress` about once
// a second. Throws std::runtime_error with DPDK's reason when the EAL or a port cannot start.
ReplayReport replay_pcap(const ReplayOptions& options, const std::string& program,
                         const std::function<void(const ReplayReport&)>& progress, const std::atomic<bool>& stop);

}  // namespace ng911::dataplane::gen
