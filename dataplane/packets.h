#pragma once
// Ethernet frames for the tests, the benchmark and (later) the traffic generator: VLAN tags,
// IPv4/IPv6, UDP/TCP, fragments, with correct checksums; and a checker that recomputes every
// checksum of a frame from scratch.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ng911::dataplane {

using Mac = std::array<std::uint8_t, 6>;
// "aa:bb:cc:dd:ee:ff"; nullopt when malformed.
std::optional<Mac> parse_mac(std::string_view text);
std::string format_mac(const Mac& mac);

struct FrameSpec {
  Mac src_mac{0x02, 0, 0, 0, 0, 0x01}, dst_mac{0x02, 0, 0, 0, 0, 0x02};
  std::vector<std::uint16_t> vlan_tpids{};  // outermost first: 0x88a8 (802.1ad), 0x8100 (802.1Q)
  std::string src_ip = "192.0.2.1", dst_ip = "192.0.2.100";  // both IPv4 or both IPv6
  std::uint8_t protocol = 17;                                 // UDP; 6 for TCP
  std::uint16_t src_port = 5060, dst_port = 5060;
  std::string payload{};
  bool udp_checksum = true;             // IPv4 only: false sends zero (no checksum)
  std::uint16_t fragment_offset = 0;    // in 8-byte units; nonzero: no transport header
  bool more_fragments = false;
  std::size_t truncate_to = 0;          // nonzero: cut the frame (a short capture / bad length)
};

std::vector<std::uint8_t> build_frame(const FrameSpec& spec);

// Checks the IPv4 header checksum and the UDP/TCP checksum (skipped for fragments and for IPv4
// UDP sent without one). Returns an empty string when all are right, else what is wrong.
std::string check_frame(std::span<const std::uint8_t> frame);

struct FrameAddresses {
  Mac src_mac, dst_mac;
  std::string src_ip, dst_ip;
  std::uint16_t src_port = 0, dst_port = 0;
};
// The addresses of an (untagged or tagged) IPv4/IPv6 UDP/TCP frame; nullopt otherwise.
std::optional<FrameAddresses> frame_addresses(std::span<const std::uint8_t> frame);

// A SIP message as the tests and the benchmark send it (CRLF line ends, Content-Length set).
std::string sip_request(std::string_view method, std::string_view request_uri, std::string_view call_id,
                        std::string_view body = {}, std::string_view content_type = {});
std::string sip_response(int status, std::string_view reason, std::string_view call_id, std::string_view cseq_method);
// An emergency INVITE of about 1 KB: SDP and a PIDF-LO with a geodetic point (multipart/mixed).
std::string emergency_invite_with_pidf(std::string_view call_id);

}  // namespace ng911::dataplane
