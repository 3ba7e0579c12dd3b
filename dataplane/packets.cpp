#include "packets.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace ng911::dataplane {
namespace {

void put16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint16_t get16(std::span<const std::uint8_t> in, std::size_t at) {
  return static_cast<std::uint16_t>(in[at] << 8 | in[at + 1]);
}

std::uint32_t sum_words(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) sum += static_cast<std::uint32_t>(bytes[i] << 8 | bytes[i + 1]);
  if (bytes.size() % 2) sum += static_cast<std::uint32_t>(bytes.back() << 8);
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::vector<std::uint8_t> address_bytes(const std::string& ip, bool v6) {
  std::vector<std::uint8_t> out(v6 ? 16 : 4);
  if (inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), out.data()) != 1)
    throw std::invalid_argument("bad address " + ip);
  return out;
}

// The transport checksum over the pseudo-header (RFC 768, RFC 8200 §8.1) and the segment.
std::uint16_t l4_checksum(std::span<const std::uint8_t> src, std::span<const std::uint8_t> dst, std::uint8_t protocol,
                          std::span<const std::uint8_t> segment) {
  std::uint32_t sum = sum_words(src) + sum_words(dst) + protocol;
  sum += static_cast<std::uint32_t>(segment.size() & 0xffff) + static_cast<std::uint32_t>(segment.size() >> 16);
  return static_cast<std::uint16_t>(~fold(sum_words(segment, sum)));
}

struct Layout {
  std::size_t l3 = 0;
  bool v6 = false;
  std::size_t l4 = 0;
  std::uint8_t protocol = 0;
  bool fragment = false, first_fragment = true;
  std::size_t l4_len = 0;
};

std::optional<Layout> layout_of(std::span<const std::uint8_t> f) {
  if (f.size() < 14) return std::nullopt;
  Layout l;
  std::size_t at = 12;
  std::uint16_t type = get16(f, at);
  while (type == 0x8100 || type == 0x88a8) {
    at += 4;
    if (f.size() < at + 2) return std::nullopt;
    type = get16(f, at);
  }
  l.l3 = at + 2;
  if (type == 0x0800) {
    if (f.size() < l.l3 + 20) return std::nullopt;
    std::size_t ihl = (f[l.l3] & 0xf) * 4u;
    l.protocol = f[l.l3 + 9];
    std::uint16_t frag = get16(f, l.l3 + 6);
    l.fragment = (frag & 0x3fff) != 0;
    l.first_fragment = (frag & 0x1fff) == 0;
    l.l4 = l.l3 + ihl;
    std::size_t total = get16(f, l.l3 + 2);
    l.l4_len = total > ihl ? total - ihl : 0;
  } else if (type == 0x86dd) {
    if (f.size() < l.l3 + 40) return std::nullopt;
    l.v6 = true;
    l.protocol = f[l.l3 + 6];
    l.l4 = l.l3 + 40;
    l.l4_len = get16(f, l.l3 + 4);
    if (l.protocol == 44) {
      if (f.size() < l.l4 + 8) return std::nullopt;
      l.protocol = f[l.l4];
      l.fragment = true;
      l.first_fragment = (get16(f, l.l4 + 2) & 0xfff8) == 0;
      l.l4 += 8;
      l.l4_len -= 8;
    }
  } else {
    return std::nullopt;
  }
  return l;
}

}  // namespace

std::optional<Mac> parse_mac(std::string_view text) {
  Mac mac{};
  unsigned v[6];
  std::string s(text);
  char tail;
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
    return std::nullopt;
  for (int i = 0; i < 6; ++i) {
    if (v[i] > 0xff) return std::nullopt;
    mac[i] = static_cast<std::uint8_t>(v[i]);
  }
  return mac;
}

std::string format_mac(const Mac& mac) {
  char out[18];
  std::snprintf(out, sizeof out, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return out;
}

std::vector<std::uint8_t> build_frame(const FrameSpec& spec) {
  bool v6 = spec.src_ip.find(':') != std::string::npos;
  auto src = address_bytes(spec.src_ip, v6), dst = address_bytes(spec.dst_ip, v6);
  bool has_l4 = spec.fragment_offset == 0;
  bool fragment = spec.fragment_offset != 0 || spec.more_fragments;
  std::size_t l4_header = !has_l4 ? 0 : spec.protocol == 6 ? 20 : 8;
  std::vector<std::uint8_t> segment(l4_header + spec.payload.size());
  std::memcpy(segment.data() + l4_header, spec.payload.data(), spec.payload.size());
  if (has_l4) {
    put16(segment, 0, spec.src_port);
    put16(segment, 2, spec.dst_port);
    if (spec.protocol == 6) {
      segment[12] = 5 << 4;  // data offset
      segment[13] = 0x18;    // PSH ACK
      put16(segment, 14, 65535);
    } else {
      put16(segment, 4, static_cast<std::uint16_t>(segment.size()));
    }
    // A fragment's transport checksum covers the whole datagram; only this part exists here,
    // so it is computed over this part (the tests only check that it is updated consistently).
    std::size_t check_at = spec.protocol == 6 ? 16 : 6;
    if (spec.protocol == 6 || v6 || spec.udp_checksum) {
      std::uint16_t c = l4_checksum(src, dst, spec.protocol, segment);
      if (c == 0 && spec.protocol == 17) c = 0xffff;
      put16(segment, check_at, c);
    }
  }

  std::vector<std::uint8_t> f;
  f.insert(f.end(), spec.dst_mac.begin(), spec.dst_mac.end());
  f.insert(f.end(), spec.src_mac.begin(), spec.src_mac.end());
  std::uint16_t vid = 100;
  for (auto tpid : spec.vlan_tpids) {
    f.resize(f.size() + 4);
    put16(f, f.size() - 4, tpid);
    put16(f, f.size() - 2, vid++);
  }
  f.resize(f.size() + 2);
  put16(f, f.size() - 2, v6 ? 0x86dd : 0x0800);
  std::size_t l3 = f.size();
  if (v6) {
    std::size_t ext = fragment ? 8 : 0;
    f.resize(l3 + 40 + ext);
    f[l3] = 0x60;
    put16(f, l3 + 4, static_cast<std::uint16_t>(segment.size() + ext));
    f[l3 + 6] = fragment ? 44 : spec.protocol;
    f[l3 + 7] = 64;
    std::memcpy(&f[l3 + 8], src.data(), 16);
    std::memcpy(&f[l3 + 24], dst.data(), 16);
    if (fragment) {
      f[l3 + 40] = spec.protocol;
      put16(f, l3 + 42, static_cast<std::uint16_t>(spec.fragment_offset << 3 | (spec.more_fragments ? 1 : 0)));
      put16(f, l3 + 44, 0x1234);
    }
  } else {
    f.resize(l3 + 20);
    f[l3] = 0x45;
    put16(f, l3 + 2, static_cast<std::uint16_t>(20 + segment.size()));
    put16(f, l3 + 4, 0x4242);
    put16(f, l3 + 6, static_cast<std::uint16_t>((spec.more_fragments ? 0x2000 : 0) | spec.fragment_offset));
    f[l3 + 8] = 64;
    f[l3 + 9] = spec.protocol;
    std::memcpy(&f[l3 + 12], src.data(), 4);
    std::memcpy(&f[l3 + 16], dst.data(), 4);
    put16(f, l3 + 10, static_cast<std::uint16_t>(~fold(sum_words(std::span(f).subspan(l3, 20)))));
  }
  f.insert(f.end(), segment.begin(), segment.end());
  if (spec.truncate_to && spec.truncate_to < f.size()) f.resize(spec.truncate_to);
  return f;
}

std::string check_frame(std::span<const std::uint8_t> f) {
  auto l = layout_of(f);
  if (!l) return "not an IP frame";
  if (!l->v6 && fold(sum_words(f.subspan(l->l3, (f[l->l3] & 0xf) * 4u))) != 0xffff) return "bad IPv4 header checksum";
  if (l->fragment) return {};
  if (f.size() < l->l4 + l->l4_len) return "frame shorter than its IP length";
  auto segment = f.subspan(l->l4, l->l4_len);
  std::size_t check_at = l->protocol == 6 ? 16 : 6;
  if (segment.size() < check_at + 2) return "short transport header";
  if (l->protocol == 17 && !l->v6 && get16(segment, 6) == 0) return {};
  auto src = f.subspan(l->l3 + (l->v6 ? 8 : 12), l->v6 ? 16 : 4);
  auto dst = f.subspan(l->l3 + (l->v6 ? 24 : 16), l->v6 ? 16 : 4);
  std::uint32_t sum = sum_words(src) + sum_words(dst) + l->protocol + static_cast<std::uint32_t>(segment.size());
  if (fold(sum_words(segment, sum)) != 0xffff) return l->protocol == 6 ? "bad TCP checksum" : "bad UDP checksum";
  if (l->protocol == 17 && get16(segment, 6) == 0) return "UDP checksum zero (must be sent as 0xffff)";
  return {};
}

std::optional<FrameAddresses> frame_addresses(std::span<const std::uint8_t> f) {
  auto l = layout_of(f);
  if (!l) return std::nullopt;
  FrameAddresses a;
  std::memcpy(a.dst_mac.data(), f.data(), 6);
  std::memcpy(a.src_mac.data(), f.data() + 6, 6);
  char text[INET6_ADDRSTRLEN];
  int family = l->v6 ? AF_INET6 : AF_INET;
  inet_ntop(family, f.data() + l->l3 + (l->v6 ? 8 : 12), text, sizeof text);
  a.src_ip = text;
  inet_ntop(family, f.data() + l->l3 + (l->v6 ? 24 : 16), text, sizeof text);
  a.dst_ip = text;
  if (l->first_fragment && f.size() >= l->l4 + 4) {
    a.src_port = get16(f, l->l4);
    a.dst_port = get16(f, l->l4 + 2);
  }
  return a;
}

std::string sip_request(std::string_view method, std::string_view request_uri, std::string_view call_id,
                        std::string_view body, std::string_view content_type) {
  std::string m;
  m.append(method).append(" ").append(request_uri).append(" SIP/2.0\r\n");
  m.append("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-").append(call_id.substr(0, 8)).append("\r\n");
  m.append("Max-Forwards: 70\r\n");
  m.append("From: <sip:caller@example.com>;tag=1928301774\r\n");
  m.append("To: <").append(request_uri).append(">\r\n");
  m.append("Call-ID: ").append(call_id).append("\r\n");
  m.append("CSeq: 1 ").append(method).append("\r\n");
  m.append("Contact: <sip:caller@192.0.2.1:5060>\r\n");
  if (!content_type.empty()) m.append("Content-Type: ").append(content_type).append("\r\n");
  m.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return m;
}

std::string sip_response(int status, std::string_view reason, std::string_view call_id, std::string_view cseq_method) {
  std::string m = "SIP/2.0 " + std::to_string(status) + " ";
  m.append(reason).append("\r\n");
  m.append("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-77\r\n");
  m.append("From: <sip:caller@example.com>;tag=1928301774\r\n");
  m.append("To: <sip:psap@example.net>;tag=a6c85cf\r\n");
  m.append("Call-ID: ").append(call_id).append("\r\n");
  m.append("CSeq: 1 ").append(cseq_method).append("\r\nContent-Length: 0\r\n\r\n");
  return m;
}

std::string emergency_invite_with_pidf(std::string_view call_id) {
  std::string sdp =
      "v=0\r\no=caller 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
  std::string pidf =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
      "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\"\r\n"
      " xmlns:gml=\"http://www.opengis.net/gml\" entity=\"pres:caller@example.com\">\r\n"
      " <tuple id=\"loc\"><status><gp:geopriv><gp:location-info>\r\n"
      "  <gml:Point srsName=\"urn:ogc:def:crs:EPSG::4326\"><gml:pos>30.2672 -97.7431</gml:pos></gml:Point>\r\n"
      " </gp:location-info><gp:usage-rules/><gp:method>GPS</gp:method></gp:geopriv></status></tuple>\r\n"
      "</presence>\r\n";
  std::string body = "--boundary1\r\nContent-Type: application/sdp\r\n\r\n" + sdp +
                     "--boundary1\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@example.com>\r\n\r\n" +
                     pidf + "--boundary1--\r\n";
  std::string m = sip_request("INVITE", "urn:service:sos", call_id, body, "multipart/mixed;boundary=boundary1");
  // The i3 headers a real emergency INVITE carries, placed before the body as a phone sends them.
  std::string extra = "Geolocation: <cid:loc@example.com>\r\nGeolocation-Routing: yes\r\n"
                      "Priority: emergency\r\nSupported: geolocation\r\n";
  m.insert(m.find("Content-Type:"), extra);
  return m;
}

}  // namespace ng911::dataplane
