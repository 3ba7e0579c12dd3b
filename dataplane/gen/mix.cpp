#include "dataplane/gen/mix.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace ng911::dataplane::gen {
namespace {

constexpr std::array<std::string_view, kind_count> kind_names{"emergency", "register", "options",
                                                              "response",  "flood",    "garbage"};

std::string digits(std::uint64_t number) {
  std::string out(NG911_PKTGEN_DIGITS, '0');
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = "0123456789abcdef"[(number >> (4 * i)) & 0xf];
  return out;
}

// The numbered packet's Call-ID. sip_request() repeats its first 8 characters in the branch.
std::string call_id(Kind kind, std::uint64_t number) {
  return digits(number) + "@" + std::string(kind_name(kind)) + ".pktgen.ng911.example";
}

std::string nth_address(const std::string& first, std::uint64_t n) {
  in_addr a{};
  if (inet_pton(AF_INET, first.c_str(), &a) != 1) throw std::invalid_argument("not an IPv4 address: " + first);
  a.s_addr = htonl(ntohl(a.s_addr) + static_cast<std::uint32_t>(n));
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

// Not SIP, and not a keep-alive either: the start of a TLS ClientHello (someone speaking TLS to
// the UDP port), then bytes from a fixed linear congruential sequence.
std::string garbage_payload() {
  std::string out = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03";
  std::uint32_t x = 2463534242u;
  while (out.size() < 180) {
    x = x * 1664525u + 1013904223u;
    out.push_back(static_cast<char>(x >> 24));
  }
  return out;
}

std::string payload(Kind kind, std::uint64_t number) {
  std::string cid = call_id(kind, number);
  switch (kind) {
    case Kind::emergency_invite:
      return emergency_invite_with_pidf(cid);
    case Kind::register_request:
      return sip_request("REGISTER", "sip:registrar.example.com", cid);
    case Kind::options_request:
      return sip_request("OPTIONS", "sip:esrp.example.net", cid);
    case Kind::response:
      return sip_response(200, "OK", cid, "INVITE");
    case Kind::flood_invite: {
      // A TDoS INVITE: emergency Request-URI, an offer, no location.
      std::string sdp =
          "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n"
          "m=audio 40000 RTP/AVP 0\r\n";
      return sip_request("INVITE", "urn:service:sos", cid, sdp, "application/sdp");
    }
    case Kind::garbage:
      return garbage_payload();
  }
  throw std::invalid_argument("unknown kind");
}

void set_ip_identification(std::vector<std::uint8_t>& frame, std::uint16_t id) {
  constexpr std::size_t l3 = NG911_PKTGEN_L3;
  frame[l3 + 4] = static_cast<std::uint8_t>(id >> 8);
  frame[l3 + 5] = static_cast<std::uint8_t>(id);
  frame[l3 + 10] = frame[l3 + 11] = 0;
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += static_cast<std::uint32_t>(frame[l3 + i] << 8 | frame[l3 + i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  auto check = static_cast<std::uint16_t>(~sum);
  frame[l3 + 10] = static_cast<std::uint8_t>(check >> 8);
  frame[l3 + 11] = static_cast<std::uint8_t>(check);
}

std::uint32_t offset_of(const std::vector<std::uint8_t>& frame, std::string_view needle) {
  auto it = std::search(frame.begin(), frame.end(), needle.begin(), needle.end());
  return it == frame.end() ? 0 : static_cast<std::uint32_t>(it - frame.begin() + static_cast<std::ptrdiff_t>(needle.size()));
}

bool is_sip(Kind kind) { return kind != Kind::garbage; }
std::uint32_t sources_of(Kind kind, const Endpoints& e) {
  return std::max<std::uint32_t>(1, kind == Kind::flood_invite ? e.flood_sources : e.callers);
}

}  // namespace

std::string_view kind_name(Kind kind) { return kind_names.at(static_cast<std::size_t>(kind)); }

unsigned Mix::total() const {
  unsigned t = 0;
  for (auto w : weights) t += w;
  return t;
}

Mix parse_mix(std::string_view spec) {
  Mix mix;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    auto item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) throw std::invalid_argument("mix: '" + std::string(item) + "' is not KIND=WEIGHT");
    auto name = item.substr(0, eq), value = item.substr(eq + 1);
    auto at = std::find(kind_names.begin(), kind_names.end(), name);
    if (at == kind_names.end()) throw std::invalid_argument("mix: unknown kind '" + std::string(name) + "'");
    unsigned w = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), w);
    if (ec != std::errc{} || end != value.data() + value.size() || w > 1'000'000)
      throw std::invalid_argument("mix: bad weight '" + std::string(value) + "'");
    mix.weights[static_cast<std::size_t>(at - kind_names.begin())] = w;
  }
  if (mix.total() == 0) throw std::invalid_argument("mix: every weight is zero");
  return mix;
}

std::string format_mix(const Mix& mix) {
  std::string out;
  for (std::size_t k = 0; k < kind_count; ++k) {
    if (!mix.weights[k]) continue;
    if (!out.empty()) out += ',';
    out.append(kind_names[k]).append("=").append(std::to_string(mix.weights[k]));
  }
  return out;
}

Mix default_mix() { return parse_mix("emergency=40,register=15,options=10,response=20,flood=10,garbage=5"); }

Counts apportion(const Mix& mix, std::uint64_t n) {
  Counts counts{};
  std::array<std::uint64_t, kind_count> remainder{};
  std::uint64_t total = mix.total(), given = 0;
  for (std::size_t k = 0; k < kind_count; ++k) {
    // n * weight can exceed 64 bits only past 1.8e13 packets; the count is bounded far below.
    counts[k] = n * mix.weights[k] / total;
    remainder[k] = n * mix.weights[k] % total;
    given += counts[k];
  }
  while (given < n) {
    auto k = static_cast<std::size_t>(std::max_element(remainder.begin(), remainder.end()) - remainder.begin());
    ++counts[k];
    remainder[k] = 0;
    ++given;
  }
  return counts;
}

std::vector<std::uint8_t> frame_for(Kind kind, const Endpoints& e, std::uint64_t number) {
  FrameSpec spec;
  spec.src_mac = e.src_mac;
  spec.dst_mac = e.dst_mac;
  spec.src_ip = nth_address(kind == Kind::flood_invite ? e.flood_src_ip : e.src_ip, number % sources_of(kind, e));
  spec.dst_ip = e.dst_ip;
  spec.src_port = e.src_port;
  spec.dst_port = e.dst_port;
  spec.payload = payload(kind, is_sip(kind) ? number : 0);
  auto frame = build_frame(spec);
  if (frame.size() < NG911_PKTGEN_HEADER_LEN || frame[12] != 0x08 || frame[13] != 0x00)
    throw std::invalid_argument("the generator sends IPv4 only");
  set_ip_identification(frame, static_cast<std::uint16_t>(NG911_PKTGEN_TAG | static_cast<unsigned>(kind)));
  return frame;
}

Template make_template(Kind kind, const Endpoints& e) {
  Template t;
  t.kind = kind;
  t.frame = frame_for(kind, e, 0);
  t.sources = sources_of(kind, e);
  if (is_sip(kind)) {
    std::string zeros(NG911_PKTGEN_DIGITS, '0');
    t.call_id_at = offset_of(t.frame, "Call-ID: ");
    t.branch_at = offset_of(t.frame, "branch=z9hG4bK-" + zeros.substr(0, NG911_PKTGEN_BRANCH_DIGITS));
    if (t.branch_at) t.branch_at -= NG911_PKTGEN_BRANCH_DIGITS;
    if (!t.call_id_at || t.call_id_at + NG911_PKTGEN_DIGITS > t.frame.size() || t.call_id_at > NG911_PKTGEN_MAX_AT ||
        t.branch_at > NG911_PKTGEN_MAX_AT)
      throw std::logic_error("template without its Call-ID digits where the program can write them");
  }
  return t;
}

}  // namespace ng911::dataplane::gen
