// ns/packet through BPF_PROG_TEST_RUN for each packet class, beside a bare XDP_DROP program in
// the same run. Used by scripts/bench/dataplane.sh; prints one line per case.
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "dataplane/packets.h"
#include "dataplane/xdp.h"
#include "xdp_drop.skel.h"

using namespace ng911::dataplane;

namespace {

struct Case {
  const char* name;
  std::vector<std::uint8_t> frame;
};

double median_ns(int fd, const std::vector<std::uint8_t>& frame, std::uint32_t repeat, int rounds) {
  std::vector<std::uint32_t> runs;
  for (int i = 0; i < rounds; ++i) runs.push_back(test_run(fd, frame, repeat).duration_ns);
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::uint32_t repeat = argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 1'000'000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  try {
    XdpProgram program;
    // The hot path as deployed: guard on (rates high enough never to drop here), one backend
    // on the ingress interface (XDP_TX after the rewrite). No VIP, so that the frame the
    // program rewrote in the previous repetition is still SIP to it.
    ng911_config config{};
    config.flags = NG911_CFG_GUARD;
    config.sip_ports[0] = htons(5060);
    config.request = {1, 1'000'000'000'000ull};
    config.invite = {1, 1'000'000'000'000ull};
    program.maps().set_config(config);
    ng911_backend backend{};
    backend.flags = NG911_BACKEND_IP4;
    inet_pton(AF_INET, "10.0.0.1", &backend.ip4);
    program.maps().set_backend(0, backend);
    std::vector<std::uint32_t> table(NG911_MAGLEV_SIZE, 0), slots(NG911_MAGLEV_SIZE);
    std::iota(slots.begin(), slots.end(), 0u);
    program.maps().write_slots(table, slots);

    auto* drop = xdp_drop__open_and_load();
    if (!drop) throw std::runtime_error("loading xdp_drop");
    int drop_fd = bpf_program__fd(drop->progs.xdp_drop);

    std::string cid = "3848276298220188511@pc33.example.com";
    std::vector<Case> cases;
    FrameSpec s;
    s.payload = emergency_invite_with_pidf(cid);
    cases.push_back({"emergency INVITE with PIDF-LO", build_frame(s)});
    s.payload = sip_request("REGISTER", "sip:registrar.example.com", cid);
    cases.push_back({"REGISTER", build_frame(s)});
    s.payload = sip_response(200, "OK", cid, "INVITE");
    cases.push_back({"200 OK response", build_frame(s)});
    s.dst_port = 53;
    s.payload = std::string(64, 'd');
    cases.push_back({"non-SIP (UDP to port 53)", build_frame(s)});

    std::printf("%-32s %6s %10s %10s\n", "case", "bytes", "ns/packet", "verdict");
    auto first = cases.front().frame;
    std::printf("%-32s %6zu %10.1f %10s\n", "bare XDP_DROP (floor)", first.size(), median_ns(drop_fd, first, repeat, rounds),
                "drop");
    for (const auto& c : cases) {
      auto verdict = test_run(program.program_fd(), c.frame).verdict;
      const char* names[] = {"aborted", "drop", "pass", "tx", "redirect"};
      std::printf("%-32s %6zu %10.1f %10s\n", c.name, c.frame.size(), median_ns(program.program_fd(), c.frame, repeat, rounds),
                  verdict < 5 ? names[verdict] : "?");
    }
    xdp_drop__destroy(drop);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ng911-dataplane-bench: %s\n", e.what());
    return 1;
  }
}
