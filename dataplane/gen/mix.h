#pragma once
// The traffic the generator sends: kinds of SIP datagrams (emergency INVITEs with PIDF-LO,
// REGISTER, OPTIONS, responses, an INVITE flood from a few sources, garbage) mixed by weights,
// and the exact frame of each numbered packet, the same for the live sender (whose BPF program
// writes the number into a template) and the pcap writer.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/gen/ng911_pktgen.h"
#include "dataplane/packets.h"

namespace ng911::dataplane::gen {

enum class Kind : std::uint8_t {
  emergency_invite = NG911_PKTGEN_EMERGENCY_INVITE,
  register_request = NG911_PKTGEN_REGISTER,
  options_request = NG911_PKTGEN_OPTIONS,
  response = NG911_PKTGEN_RESPONSE,
  flood_invite = NG911_PKTGEN_FLOOD_INVITE,
  garbage = NG911_PKTGEN_GARBAGE,
};
constexpr std::size_t kind_count = NG911_PKTGEN_KINDS;
constexpr std::array<Kind, kind_count> all_kinds{Kind::emergency_invite, Kind::register_request, Kind::options_request,
                                                 Kind::response,         Kind::flood_invite,     Kind::garbage};

// "emergency", "register", "options", "response", "flood", "garbage": the names in a mix spec.
std::string_view kind_name(Kind kind);

using Counts = std::array<std::uint64_t, kind_count>;

struct Mix {
  std::array<unsigned, kind_count> weights{};
  unsigned total() const;
};
// "emergency=40,register=15,options=10,response=20,flood=10,garbage=5"; kinds left out weigh 0.
// Throws std::invalid_argument naming what is wrong.
Mix parse_mix(std::string_view spec);
std::string format_mix(const Mix& mix);
// The default: the weights above.
Mix default_mix();
// n packets split over the kinds in proportion to their weights (largest remainder): sums to n.
Counts apportion(const Mix& mix, std::uint64_t n);

// Where the traffic goes and comes from (IPv4, untagged Ethernet).
struct Endpoints {
  Mac src_mac{0x02, 0, 0, 0, 0, 0x01}, dst_mac{0x02, 0, 0, 0, 0, 0x02};
  std::string src_ip = "192.0.2.1", dst_ip = "192.0.2.100";
  std::uint16_t src_port = 5060, dst_port = 5060;
  std::uint32_t callers = 1;                 // legitimate sources: src_ip and the next callers-1
  std::string flood_src_ip = "198.51.100.1";
  std::uint32_t flood_sources = 4;           // the flood's sources: flood_src_ip and the next ones
};

// Packet `number` of a kind: its Call-ID holds the number as 16 hex digits, least significant
// first, its Via branch the first 8 of them; its source is the kind's first source plus
// number % sources; its IPv4 identification is the kind's tag.
std::vector<std::uint8_t> frame_for(Kind kind, const Endpoints& endpoints, std::uint64_t number);

// Packet 0 of a kind and where the live sender's program writes the number.
struct Template {
  Kind kind{};
  std::vector<std::uint8_t> frame;
  std::uint32_t call_id_at = 0;  // frame offset of the Call-ID's digits; 0: none (garbage)
  std::uint32_t branch_at = 0;   // frame offset of the branch's digits; 0: none
  std::uint32_t sources = 1;
};
Template make_template(Kind kind, const Endpoints& endpoints);

}  // namespace ng911::dataplane::gen
