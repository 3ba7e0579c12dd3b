#include "dataplane/fixtures.h"

#include <arpa/inet.h>

#include <cstring>

namespace ng911::dataplane::test {
namespace {

// The defaults address the IPv4 VIP from 192.0.2.1:5060.
std::vector<std::uint8_t> sip_frame(const std::string& payload, FrameSpec spec = {}) {
  spec.payload = payload;
  return build_frame(spec);
}

FrameSpec v6() {
  FrameSpec s;
  s.src_ip = "2001:db8::1";
  s.dst_ip = kVip6;
  return s;
}

Expected forwarded(std::uint32_t klass, bool ipv6 = false) {
  return {klass, kTx, ipv6 ? kBackend6 : kBackend4, kBackendPort};
}

}  // namespace

ng911_config lab_config(std::uint64_t burst) {
  ng911_config c{};
  c.flags = NG911_CFG_GUARD | NG911_CFG_VIP4 | NG911_CFG_VIP6;
  c.sip_ports[0] = htons(5060);
  c.sip_ports[1] = htons(5080);
  inet_pton(AF_INET, kVip4, &c.vip4);
  inet_pton(AF_INET6, kVip6, c.vip6);
  c.request = {10'000'000'000ull, burst * 10'000'000'000ull};
  c.invite = {10'000'000'000ull, burst * 10'000'000'000ull};
  return c;
}

ng911_backend lab_backend(std::uint32_t ifindex, bool with_v6) {
  ng911_backend b{};
  std::memcpy(b.mac, kBackendMac.data(), 6);
  std::memcpy(b.src_mac, kEgressMac.data(), 6);
  b.ifindex = ifindex;
  b.flags = NG911_BACKEND_IP4 | (with_v6 ? NG911_BACKEND_IP6 : 0);
  inet_pton(AF_INET, kBackend4, &b.ip4);
  inet_pton(AF_INET6, kBackend6, b.ip6);
  b.port = htons(kBackendPort);
  return b;
}

std::vector<std::uint8_t> request_from(const std::string& src_ip, const std::string& method,
                                       const std::string& request_uri, const std::string& call_id) {
  FrameSpec s;
  s.src_ip = src_ip;
  return sip_frame(sip_request(method, request_uri, call_id), s);
}

std::vector<Fixture> fixtures() {
  std::vector<Fixture> f;
  const std::string cid = "a84b4c76e66710@pc33.example.com";
  f.push_back({"emergency INVITE, bare URN", sip_frame(sip_request("INVITE", "urn:service:sos", cid)),
               forwarded(NG911_CLASS_EMERGENCY_INVITE)});
  f.push_back({"emergency INVITE, 1 KB with PIDF-LO", sip_frame(emergency_invite_with_pidf(cid)),
               forwarded(NG911_CLASS_EMERGENCY_INVITE)});
  f.push_back({"emergency INVITE, sip: URI", sip_frame(sip_request("INVITE", "sip:urn:service:sos@esrp.example.net", cid)),
               forwarded(NG911_CLASS_EMERGENCY_INVITE)});
  f.push_back({"emergency INVITE, sips: sub-service", sip_frame(sip_request("INVITE", "sips:urn:service:sos.police;user=x", cid)),
               forwarded(NG911_CLASS_EMERGENCY_INVITE)});
  f.push_back({"emergency INVITE, URN in capitals", sip_frame(sip_request("INVITE", "URN:Service:SOS.fire", cid)),
               forwarded(NG911_CLASS_EMERGENCY_INVITE)});
  f.push_back({"emergency MESSAGE", sip_frame(sip_request("MESSAGE", "urn:service:sos", cid)),
               forwarded(NG911_CLASS_EMERGENCY_REQUEST)});
  f.push_back({"INVITE to a user", sip_frame(sip_request("INVITE", "sip:bob@example.com", cid)),
               forwarded(NG911_CLASS_INVITE)});
  f.push_back({"INVITE to urn:service:sosx (not a sub-service)", sip_frame(sip_request("INVITE", "urn:service:sosx", cid)),
               forwarded(NG911_CLASS_INVITE)});
  f.push_back({"INVITE to urn:service:sos. (empty sub-service)", sip_frame(sip_request("INVITE", "urn:service:sos.", cid)),
               forwarded(NG911_CLASS_INVITE)});
  f.push_back({"REGISTER", sip_frame(sip_request("REGISTER", "sip:registrar.example.com", cid)),
               forwarded(NG911_CLASS_REQUEST)});
  f.push_back({"OPTIONS on the second SIP port", [&] {
                 FrameSpec s;
                 s.dst_port = 5080;
                 return sip_frame(sip_request("OPTIONS", "sip:esrp.example.net", cid), s);
               }(), forwarded(NG911_CLASS_REQUEST)});
  f.push_back({"200 OK response", sip_frame(sip_response(200, "OK", cid, "INVITE")), forwarded(NG911_CLASS_RESPONSE)});
  f.push_back({"802.1Q tagged emergency INVITE", [&] {
                 FrameSpec s;
                 s.vlan_tpids = {0x8100};
                 return sip_frame(sip_request("INVITE", "urn:service:sos", cid), s);
               }(), forwarded(NG911_CLASS_EMERGENCY_INVITE)});
  f.push_back({"802.1ad + 802.1Q (QinQ) tagged response", [&] {
                 FrameSpec s;
                 s.vlan_tpids = {0x88a8, 0x8100};
                 return sip_frame(sip_response(180, "Ringing", cid, "INVITE"), s);
               }(), forwarded(NG911_CLASS_RESPONSE)});
  f.push_back({"IPv6 emergency INVITE", sip_frame(sip_request("INVITE", "urn:service:sos", cid), v6()),
               forwarded(NG911_CLASS_EMERGENCY_INVITE, true)});
  f.push_back({"IPv6 REGISTER tagged 802.1Q", [&] {
                 FrameSpec s = v6();
                 s.vlan_tpids = {0x8100};
                 return sip_frame(sip_request("REGISTER", "sip:example.com", cid), s);
               }(), forwarded(NG911_CLASS_REQUEST, true)});
  {
    std::string compact = sip_request("INVITE", "urn:service:sos", cid);
    compact.replace(compact.find("Call-ID: "), 9, "i:");
    f.push_back({"compact Call-ID (i:)", sip_frame(compact), forwarded(NG911_CLASS_EMERGENCY_INVITE)});
    std::string spaced = sip_request("INVITE", "urn:service:sos", cid);
    spaced.replace(spaced.find("Call-ID: "), 9, "cALL-iD \t:  ");
    f.push_back({"Call-ID in odd case with white space before the colon", sip_frame(spaced),
                 forwarded(NG911_CLASS_EMERGENCY_INVITE)});
  }
  f.push_back({"UDP checksum zero stays zero", [&] {
                 FrameSpec s;
                 s.udp_checksum = false;
                 return sip_frame(sip_request("INVITE", "urn:service:sos", cid), s);
               }(), forwarded(NG911_CLASS_EMERGENCY_INVITE)});
  f.push_back({"CRLF keep-alive", sip_frame("\r\n\r\n"), forwarded(NG911_CLASS_KEEPALIVE)});
  f.push_back({"SIP over TCP", [&] {
                 FrameSpec s;
                 s.protocol = 6;
                 s.src_port = 40000;
                 return sip_frame(sip_request("INVITE", "urn:service:sos", cid), s);
               }(), forwarded(NG911_CLASS_TCP)});
  f.push_back({"IPv4 first fragment", [&] {
                 FrameSpec s;
                 s.more_fragments = true;
                 return sip_frame(sip_request("INVITE", "urn:service:sos", cid), s);
               }(), forwarded(NG911_CLASS_FRAGMENT)});
  f.push_back({"IPv4 later fragment", [&] {
                 FrameSpec s;
                 s.fragment_offset = 100;
                 return sip_frame(std::string(200, 'x'), s);
               }(), {NG911_CLASS_FRAGMENT, kTx, kBackend4, 0}});
  f.push_back({"IPv6 later fragment", [&] {
                 FrameSpec s = v6();
                 s.fragment_offset = 100;
                 return sip_frame(std::string(200, 'x'), s);
               }(), {NG911_CLASS_FRAGMENT, kTx, kBackend6, 0}});
  // Not ours: to the stack, untouched.
  f.push_back({"DNS (UDP, another port)", [&] {
                 FrameSpec s;
                 s.dst_port = 53;
                 return sip_frame("\x12\x34\x01\x00", s);
               }(), {NG911_CLASS_NON_SIP, kPass}});
  f.push_back({"SIP to another address (routed through)", [&] {
                 FrameSpec s;
                 s.dst_ip = "198.51.100.7";
                 s.payload = sip_request("INVITE", "urn:service:sos", cid);
                 return build_frame(s);
               }(), {NG911_CLASS_NON_SIP, kPass}});
  f.push_back({"ARP", [] {
                 std::vector<std::uint8_t> arp(60, 0);
                 std::memset(arp.data(), 0xff, 6);
                 arp[12] = 0x08;
                 arp[13] = 0x06;
                 return arp;
               }(), {NG911_CLASS_NON_SIP, kPass}});
  f.push_back({"frame cut inside the IP header", [&] {
                 FrameSpec s;
                 s.payload = "x";
                 s.truncate_to = 24;
                 return build_frame(s);
               }(), {NG911_CLASS_NON_SIP, kPass}});
  // On a SIP port but not SIP: dropped.
  f.push_back({"garbage on the SIP port", sip_frame("HELLO WORLD this is not SIP\r\n\r\n"), {NG911_CLASS_MALFORMED, kDrop}});
  f.push_back({"empty UDP payload", sip_frame(""), {NG911_CLASS_MALFORMED, kDrop}});
  f.push_back({"request line without SIP/2.0", sip_frame("INVITE urn:service:sos HTTP/1.1\r\nCall-ID: x\r\n\r\n"),
               {NG911_CLASS_MALFORMED, kDrop}});
  f.push_back({"response with a bad status code", sip_frame("SIP/2.0 2x0 OK\r\nCall-ID: x\r\n\r\n"),
               {NG911_CLASS_MALFORMED, kDrop}});
  f.push_back({"request without Call-ID", [&] {
                 std::string m = sip_request("INVITE", "urn:service:sos", cid);
                 m.erase(m.find("Call-ID:"), m.find("\r\n", m.find("Call-ID:")) + 2 - m.find("Call-ID:"));
                 return sip_frame(m);
               }(), {NG911_CLASS_MALFORMED, kDrop}});
  f.push_back({"empty Call-ID", [&] {
                 std::string m = sip_request("INVITE", "urn:service:sos", cid);
                 m.replace(m.find(cid), cid.size(), "");
                 return sip_frame(m);
               }(), {NG911_CLASS_MALFORMED, kDrop}});
  f.push_back({"datagram cut short (UDP length beyond the frame)", [&] {
                 FrameSpec s;
                 s.payload = sip_request("INVITE", "urn:service:sos", cid);
                 s.dst_ip = kVip4;
                 s.truncate_to = 14 + 20 + 8 + 40;
                 return build_frame(s);
               }(), {NG911_CLASS_MALFORMED, kDrop}});
  return f;
}

std::vector<std::string> sip_seed_messages() {
  const std::string cid = "a84b4c76e66710@pc33.atlanta.example.com";
  std::vector<std::string> s = {
      sip_request("INVITE", "urn:service:sos", cid),
      sip_request("INVITE", "sip:urn:service:sos.police@esrp.example.net;user=phone", cid),
      sip_request("MESSAGE", "urn:service:sos", cid, "help", "text/plain"),
      sip_request("REGISTER", "sip:registrar.example.com", cid),
      sip_request("OPTIONS", "sip:esrp.example.net", "x"),
      sip_request("BYE", "sip:caller@192.0.2.1", std::string(200, 'k')),
      sip_response(200, "OK", cid, "INVITE"),
      sip_response(486, "Busy Here", cid, "INVITE"),
      emergency_invite_with_pidf(cid),
      "\r\n\r\n",
  };
  std::string compact = sip_request("ACK", "sip:esrp@192.0.2.100", cid);
  compact.replace(compact.find("Call-ID: "), 9, "i:\t ");
  s.push_back(compact);
  std::string spaced = sip_request("INVITE", "URN:SERVICE:SOS", cid);
  spaced.replace(spaced.find("Call-ID: "), 9, "cALL-iD \t: :");
  s.push_back(spaced);
  return s;
}

std::vector<std::string> call_id_near_the_window_end() {
  std::vector<std::string> out;
  std::string base = sip_request("INVITE", "urn:service:sos", "edge-of-window@example.com");
  auto at = base.find("Call-ID");
  for (std::size_t target = NG911_SIP_WINDOW - 80; target <= NG911_SIP_WINDOW + 8; ++target) {
    std::string m = base;
    std::size_t pad = target - at - 9;  // "X-Pad: " ... "\r\n"
    m.insert(at, "X-Pad: " + std::string(pad, 'p') + "\r\n");
    out.push_back(std::move(m));
  }
  return out;
}

std::string SipMutator::next() {
  static const std::vector<std::string> inserts = {"Call-ID", "call-id:", "i:", "I ", "\r\n", "\r\n\r\n", " : ", ":",
                                                   "\t", "urn:service:sos", "SIP/2.0", "sip:", "@",
                                                   std::string(1, '\0'), "\n"};
  static const std::string bytes(":: \t\r\n\0iIcC-.@xS9", 17);
  std::string m = seeds_[rng_() % seeds_.size()];
  int edits = 1 + static_cast<int>(rng_() % 4);
  for (int e = 0; e < edits && !m.empty(); ++e) {
    std::size_t pos = rng_() % (m.size() + 1);
    switch (rng_() % 5) {
      case 0: if (pos < m.size()) m[pos] = bytes[rng_() % bytes.size()]; break;
      case 1: m.insert(pos, inserts[rng_() % inserts.size()]); break;
      case 2: m.erase(pos, rng_() % 16); break;
      case 3: m.resize(pos); break;
      default: m.insert(pos, std::string(rng_() % 1500, static_cast<char>('a' + rng_() % 26))); break;
    }
  }
  return m;
}

std::string in_dialog_request(const std::string& method, const std::string& call_id) {
  std::string m = sip_request(method, "sip:esrp@192.0.2.100", call_id);
  auto to = m.find("\r\nTo: ");
  m.insert(m.find("\r\n", to + 2), ";tag=psap-" + call_id.substr(0, 6));
  return m;
}

DrainReport drain_scenario(DataplaneTables& tables,
                           const std::function<ng911_twin_result(std::vector<std::uint8_t>&)>& send) {
  BackendPool pool(tables);
  ng911_config config = lab_config();
  config.flags &= ~NG911_CFG_GUARD;  // one source sends everything here
  pool.set_config(config);
  for (int i = 1; i <= 3; ++i) {
    auto spec = parse_backend("10.0.0." + std::to_string(i) + ":5062");
    pool.add(spec);
    pool.set_link(spec.name(), Mac{0x02, 0xbe, 0, 0, 0, static_cast<std::uint8_t>(i)}, 1, kEgressMac);
    pool.set_healthy(spec.name(), true);
  }
  pool.apply();
  const std::string drained = "10.0.0.3:5062";
  DrainReport r;
  auto backend = [&](const std::string& payload) {
    auto frame = build_frame({.payload = payload});
    auto result = send(frame);
    if (result.backend == NG911_NO_BACKEND) ++r.unrouted;
    return pool.name_of(result.backend);
  };
  const int calls = 600;
  std::vector<std::string> before(calls), during(calls);
  for (int i = 0; i < calls; ++i) {
    before[i] = backend(sip_request("INVITE", "urn:service:sos", "old-" + std::to_string(i) + "@caller.example"));
    r.old_on_drained += before[i] == drained;
  }
  r.old_calls = calls;

  pool.set_drained(drained, true);
  pool.apply();
  for (int i = 0; i < calls; ++i) {
    std::string id = "old-" + std::to_string(i) + "@caller.example";
    for (const auto& m : {in_dialog_request("INVITE", id), in_dialog_request("BYE", id),
                          sip_request("CANCEL", "urn:service:sos", id)}) {
      auto b = backend(m);
      ++r.old_messages;
      r.old_moved += b != before[i];
      r.old_reached_drained += b == drained;
    }
  }
  for (int i = 0; i < calls; ++i) {
    std::string id = "new-" + std::to_string(i) + "@caller.example";
    during[i] = backend(sip_request("INVITE", "urn:service:sos", id));
    r.new_on_drained += during[i] == drained;
    for (const auto& m : {in_dialog_request("ACK", id), in_dialog_request("BYE", id),
                          sip_response(200, "OK", id, "INVITE")})
      r.new_split += backend(m) != during[i];
  }
  r.new_calls = calls;

  pool.remove(drained);  // its calls are over: the drain ends
  pool.apply();
  for (int i = 0; i < calls; ++i) {
    auto b = backend(in_dialog_request("BYE", "new-" + std::to_string(i) + "@caller.example"));
    r.after_new_moved += b != during[i];
    r.after_reached_drained += b == drained;
    r.after_reached_drained += backend(in_dialog_request("BYE", "old-" + std::to_string(i) + "@caller.example")) == drained;
  }
  auto stats = tables.read_stats();
  r.kept = stats.packets[NG911_OUTCOME(NG911_OUT_DRAIN_KEPT)];
  r.pinned = stats.packets[NG911_OUTCOME(NG911_OUT_DRAIN_PINNED)];
  return r;
}

}  // namespace ng911::dataplane::test
