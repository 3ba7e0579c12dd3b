// ns/packet through BPF_PROG_TEST_RUN for each packet class, beside a bare XDP_DROP program in
// the same run. Used by scripts/bench/dataplane.sh; prints one line per case.
//   ng911-dataplane-bench [REPEAT [ROUNDS [OBJECT...]]]
// Each OBJECT is another build of kernel/ng911_xdp.bpf.c (an earlier revision, say), loaded,
// configured alike and measured in the same run, in a column of its own: before/after figures
// from one machine at one moment, which a shared machine's drift would otherwise spoil.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <stdexcept>
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

struct Figure {
  double median = 0, min = 0;
};

Figure measure(int fd, const std::vector<std::uint8_t>& frame, std::uint32_t repeat, int rounds) {
  std::vector<std::uint32_t> runs;
  for (int i = 0; i < rounds; ++i) runs.push_back(test_run(fd, frame, repeat).duration_ns);
  std::sort(runs.begin(), runs.end());
  return {static_cast<double>(runs[runs.size() / 2]), static_cast<double>(runs.front())};
}

// The hot path as deployed: guard on (rates high enough never to drop here), one backend on the
// ingress interface (XDP_TX after the rewrite). No VIP, so that the frame the program rewrote in
// the previous repetition is still SIP to it.
ng911_config bench_config() {
  ng911_config config{};
  config.flags = NG911_CFG_GUARD;
  config.sip_ports[0] = htons(5060);
  config.request = {1, 1'000'000'000'000ull};
  config.invite = {1, 1'000'000'000'000ull};
  return config;
}

ng911_backend bench_backend() {
  ng911_backend backend{};
  backend.flags = NG911_BACKEND_IP4;
  inet_pton(AF_INET, "10.0.0.1", &backend.ip4);
  return backend;
}

// Another build of the program, configured through its maps by name (the configuration,
// backend and table layouts are the ones of kernel/ng911_dp.h).
class OtherBuild {
 public:
  explicit OtherBuild(const std::string& path) : path_(path) {
    object_ = bpf_object__open_file(path.c_str(), nullptr);
    if (!object_ || bpf_object__load(object_) != 0) throw std::runtime_error("loading " + path);
    fd_ = bpf_program__fd(bpf_object__find_program_by_name(object_, "ng911_xdp"));
    std::uint32_t key = 0;
    auto config = bench_config();
    auto backend = bench_backend();
    if (bpf_map_update_elem(map("ng911_config_map"), &key, &config, BPF_ANY) != 0 ||
        bpf_map_update_elem(map("ng911_backends_map"), &key, &backend, BPF_ANY) != 0)
      throw std::runtime_error("configuring " + path);
    int table = map("ng911_maglev_map");
    for (std::uint32_t slot = 0; slot < NG911_MAGLEV_SIZE; ++slot) bpf_map_update_elem(table, &slot, &key, BPF_ANY);
  }
  ~OtherBuild() { bpf_object__close(object_); }
  OtherBuild(const OtherBuild&) = delete;
  OtherBuild& operator=(const OtherBuild&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int map(const char* name) {
    auto* m = bpf_object__find_map_by_name(object_, name);
    if (!m) throw std::runtime_error(path_ + " has no map " + name);
    return bpf_map__fd(m);
  }
  std::string path_;
  bpf_object* object_ = nullptr;
  int fd_ = -1;
};

}  // namespace

int main(int argc, char** argv) {
  std::uint32_t repeat = argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 1'000'000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  try {
    XdpProgram program;
    program.maps().set_config(bench_config());
    program.maps().set_backend(0, bench_backend());
    std::vector<std::uint32_t> table(NG911_MAGLEV_SIZE, 0), slots(NG911_MAGLEV_SIZE);
    std::iota(slots.begin(), slots.end(), 0u);
    program.maps().write_slots(table, slots);
    std::vector<std::unique_ptr<OtherBuild>> others;
    for (int i = 3; i < argc; ++i) others.push_back(std::make_unique<OtherBuild>(argv[i]));

    std::unique_ptr<xdp_drop, decltype(&xdp_drop__destroy)> drop(xdp_drop__open_and_load(), xdp_drop__destroy);
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

    const char* names[] = {"aborted", "drop", "pass", "tx", "redirect"};
    std::printf("%-32s %6s %10s %8s %8s", "case", "bytes", "ns/packet", "(min)", "verdict");
    for (std::size_t i = 0; i < others.size(); ++i) std::printf("  %10s", ("other#" + std::to_string(i + 1)).c_str());
    std::printf("\n");
    auto first = cases.front().frame;
    auto floor = measure(drop_fd, first, repeat, rounds);
    std::printf("%-32s %6zu %10.1f %8.1f %8s\n", "bare XDP_DROP (floor)", first.size(), floor.median, floor.min, "drop");
    for (const auto& c : cases) {
      auto verdict = test_run(program.program_fd(), c.frame).verdict;
      auto f = measure(program.program_fd(), c.frame, repeat, rounds);
      std::printf("%-32s %6zu %10.1f %8.1f %8s", c.name, c.frame.size(), f.median, f.min, verdict < 5 ? names[verdict] : "?");
      for (const auto& o : others) std::printf("  %10.1f", measure(o->fd(), c.frame, repeat, rounds).median);
      std::printf("\n");
    }
    for (std::size_t i = 0; i < others.size(); ++i) std::printf("other#%zu: %s\n", i + 1, others[i]->path().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ng911-dataplane-bench: %s\n", e.what());
    return 1;
  }
}
