// Call-ID steering of an SO_REUSEPORT group (kernel/ng911_steer.bpf.c): real UDP sockets on
// loopback, datagrams from several source ports per call. Every datagram of a call must reach the
// socket of its Call-ID's loop, computed in user space with the twin's classifier; datagrams
// without a Call-ID must still be delivered. Root (BPF).
#define BOOST_TEST_MODULE ng911 Call-ID steering tests
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataplane/steer.h"
#include "dataplane/twin.h"
#include "dataplane/xdp.h"

using ng911::dataplane::CallIdSteering;
using ng911::dataplane::Fd;

namespace {

Fd udp_socket(bool reuseport) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  BOOST_TEST_REQUIRE(fd.get() >= 0);
  int one = 1;
  if (reuseport) BOOST_TEST_REQUIRE(::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0);
  int buffer = 4 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  return fd;
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// N sockets of one reuseport group on 127.0.0.1 and a free port.
struct Group {
  std::vector<Fd> sockets;
  std::uint16_t port = 0;
  explicit Group(int n) {
    for (int i = 0; i < n; ++i) {
      sockets.push_back(udp_socket(true));
      sockaddr_in a = loopback(port);
      BOOST_TEST_REQUIRE(::bind(sockets.back().get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
      socklen_t len = sizeof a;
      ::getsockname(sockets.back().get(), reinterpret_cast<sockaddr*>(&a), &len);
      port = ntohs(a.sin_port);
    }
  }
  std::vector<int> fds() const {
    std::vector<int> out;
    for (const auto& s : sockets) out.push_back(s.get());
    return out;
  }
  // Every datagram waiting, as (socket index, text); returns once `expected` arrived or 2 s passed.
  std::vector<std::pair<int, std::string>> receive(std::size_t expected) {
    std::vector<std::pair<int, std::string>> got;
    std::vector<pollfd> polls;
    for (const auto& s : sockets) polls.push_back({s.get(), POLLIN, 0});
    while (got.size() < expected && ::poll(polls.data(), polls.size(), 2000) > 0) {
      for (std::size_t i = 0; i < polls.size(); ++i) {
        if (!(polls[i].revents & POLLIN)) continue;
        char buffer[4096];
        ssize_t n = ::recv(polls[i].fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) got.emplace_back(static_cast<int>(i), std::string(buffer, static_cast<std::size_t>(n)));
      }
    }
    return got;
  }
};

std::string sip_message(const std::string& start_line, const std::string& call_id, int cseq, bool compact) {
  return start_line + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK" + std::to_string(cseq) + "x" + call_id +
         "\r\nFrom: <sip:caller@example.com>;tag=a1\r\nTo: <urn:service:sos>\r\n" +
         (compact ? "i: " : "Call-ID: ") + call_id + "\r\nCSeq: " + std::to_string(cseq) +
         " INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

int expected_loop(const std::string& message, std::uint32_t loops) {
  int found = 0;
  __u64 hash = ng911_twin_call_id_hash(reinterpret_cast<const __u8*>(message.data()),
                                       static_cast<__u32>(message.size()), &found);
  BOOST_TEST_REQUIRE(found == 1, "the twin finds the Call-ID of " << message.substr(0, 40));
  return static_cast<int>(ng911_steer_loop(hash, loops));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dataplane_steer)

BOOST_AUTO_TEST_CASE(every_datagram_of_a_call_reaches_its_loop) {
  constexpr int kLoops = 4, kCalls = 200;
  Group group(kLoops);
  auto fds = group.fds();
  CallIdSteering steering(fds);
  BOOST_TEST(steering.loops() == 4u);

  // Four senders (four source ports): the kernel's own hash would scatter one call's messages.
  std::vector<Fd> senders;
  for (int i = 0; i < 4; ++i) senders.push_back(udp_socket(false));
  sockaddr_in to = loopback(group.port);
  std::map<std::string, int> loop_of;  // Call-ID -> expected loop
  std::size_t sent = 0;
  for (int c = 0; c < kCalls; ++c) {
    std::string call_id = "c" + std::to_string(c * 7919) + "-" + std::to_string(c) + "@192.0.2." + std::to_string(c % 250);
    const std::string lines[] = {"INVITE urn:service:sos SIP/2.0", "SIP/2.0 180 Ringing", "ACK sip:psap@192.0.2.9 SIP/2.0",
                                 "BYE sip:psap@192.0.2.9 SIP/2.0"};
    for (int m = 0; m < 4; ++m) {
      std::string message = sip_message(lines[m], call_id, m + 1, (c + m) % 3 == 0);
      int loop = expected_loop(message, kLoops);
      auto [it, inserted] = loop_of.emplace(call_id, loop);
      BOOST_TEST(it->second == loop, "one loop per Call-ID whatever the message");
      const Fd& sender = senders[static_cast<std::size_t>((c + m) % 4)];
      BOOST_TEST_REQUIRE(::sendto(sender.get(), message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&to),
                                  sizeof to) == static_cast<ssize_t>(message.size()));
      ++sent;
    }
  }
  auto got = group.receive(sent);
  BOOST_TEST_REQUIRE(got.size() == sent);
  std::map<int, int> per_loop;
  std::size_t right = 0;
  for (const auto& [loop, text] : got) {
    auto at = text.find("Call-ID: ");
    auto skip = 9u;
    if (at == std::string::npos) {
      at = text.find("\r\ni: ");
      skip = 5u;
    }
    BOOST_TEST_REQUIRE(at != std::string::npos);
    std::string call_id = text.substr(at + skip, text.find("\r\n", at + skip) - at - skip);
    if (loop_of.at(call_id) == loop) ++right;
    ++per_loop[loop];
  }
  BOOST_TEST(right == sent, right << " of " << sent << " datagrams on their Call-ID's loop");
  for (int i = 0; i < kLoops; ++i)
    BOOST_TEST(per_loop[i] > static_cast<int>(sent) / 8, "loop " << i << " got " << per_loop[i] << " of " << sent);
  auto stats = steering.stats();
  BOOST_TEST(stats.datagrams[NG911_STEER_CALL_ID] == sent);
  BOOST_TEST(stats.datagrams[NG911_STEER_NO_SOCKET] == 0u);
}

BOOST_AUTO_TEST_CASE(datagrams_without_a_call_id_are_still_delivered) {
  Group group(3);
  auto fds = group.fds();
  CallIdSteering steering(fds);
  Fd sender = udp_socket(false);
  sockaddr_in to = loopback(group.port);
  const std::string others[] = {"\r\n\r\n", "not SIP at all",
                                "OPTIONS sip:esrp@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n\r\n"};
  for (const auto& text : others)
    BOOST_TEST_REQUIRE(::sendto(sender.get(), text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
                       static_cast<ssize_t>(text.size()));
  auto got = group.receive(3);
  BOOST_TEST(got.size() == 3u);
  std::set<std::string> texts;
  for (const auto& [loop, text] : got) texts.insert(text);
  for (const auto& text : others) BOOST_TEST(texts.count(text) == 1u);
  BOOST_TEST(steering.stats().datagrams[NG911_STEER_NO_CALL_ID] == 3u);
}

BOOST_AUTO_TEST_CASE(refuses_what_it_cannot_steer) {
  BOOST_CHECK_THROW(CallIdSteering(std::vector<int>{}), std::runtime_error);
  Fd plain = udp_socket(false);  // not in a reuseport group, not bound
  std::vector<int> one{plain.get()};
  BOOST_CHECK_THROW(CallIdSteering{one}, std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
