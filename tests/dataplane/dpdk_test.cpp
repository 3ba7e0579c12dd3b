// The packet fixtures through the DPDK path (ng911-dataplane-dpdk on net_pcap ports): each
// fixture's frame into an rx pcap, the same verdicts, counters and forwarded bytes as the
// user-space twin (what is dropped or passed never reaches the tx pcap); a redirect to a second
// port; and backends changed through the control socket while frames arrive live (a pcap port
// on the loopback of a network namespace the test makes). Root.
#define BOOST_TEST_MODULE ng911 dataplane DPDK tests
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "dataplane/controller.h"
#include "dataplane/fixtures.h"

extern char** environ;

using namespace ng911::dataplane;
using namespace ng911::dataplane::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Frame = std::vector<std::uint8_t>;

namespace {

// A directory of this test's own, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/ng911-dpdk-test-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

struct PcapClose {
  void operator()(pcap_t* p) const { pcap_close(p); }
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};

void write_pcap(const fs::path& file, const std::vector<Frame>& frames) {
  std::unique_ptr<pcap_t, PcapClose> pcap(pcap_open_dead(DLT_EN10MB, 65535));
  std::unique_ptr<pcap_dumper_t, PcapClose> dump(pcap_dump_open(pcap.get(), file.c_str()));
  BOOST_REQUIRE(dump);
  long usec = 0;
  for (const auto& f : frames) {
    pcap_pkthdr h{};
    h.ts.tv_usec = ++usec;
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(dump.get()), &h, f.data());
  }
}

std::vector<Frame> read_pcap(const fs::path& file) {
  char err[PCAP_ERRBUF_SIZE];
  std::unique_ptr<pcap_t, PcapClose> pcap(pcap_open_offline(file.c_str(), err));
  BOOST_REQUIRE_MESSAGE(pcap, "cannot read " << file << ": " << err);
  std::vector<Frame> out;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(pcap.get(), &h, &data) == 1) out.emplace_back(data, data + h->caplen);
  return out;
}

// ng911-dataplane-dpdk (or nsenter into a namespace first), its stdout and stderr in files.
class Process {
 public:
  Process(std::vector<std::string> args, const fs::path& out) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (out.string() + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start " << args[0]);
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Its exit status once it ends within `limit`; SIGKILL and -1 otherwise.
  int wait(std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }
  void terminate() { ::kill(pid_, SIGTERM); }

 private:
  pid_t pid_ = -1;
};

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "class NAME N" and "outcome NAME N" lines (format_stats) back into counters.
ng911_stats parse_stats(const std::string& text) {
  std::map<std::string, int> index;
  for (int c = 0; c < NG911_CLASS_COUNT; ++c) index[std::string("class ") + class_name(c)] = c;
  for (int o = 0; o < NG911_OUT_COUNT; ++o) index[std::string("outcome ") + outcome_name(o)] = NG911_OUTCOME(o);
  ng911_stats s{};
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string group, name;
    unsigned long long n = 0;
    if (words >> group >> name >> n)
      if (auto it = index.find(group + " " + name); it != index.end()) s.packets[it->second] = n;
  }
  return s;
}

std::optional<Mac> port_mac(const std::string& out, const std::string& name) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string port, id, dev, mac_word, mac;
    if (words >> port >> id >> dev >> mac_word >> mac && port == "port" && dev == name) return parse_mac(mac);
  }
  return std::nullopt;
}

// The EAL arguments of a bounded run: no hugepages, a runtime directory of its own.
std::string eal(const std::string& vdevs) {
  return "--no-pci --no-huge -m 256 --no-shconf --no-telemetry -l 0-1 --file-prefix ng911dpdktest" +
         std::to_string(::getpid()) + " " + vdevs;
}

// The lab's settings (fixtures.h: lab_config(1000)) as ng911-dataplane-dpdk's flags: SIP on 5060
// and 5080, as the fixtures expect.
std::vector<std::string> lab_flags(const fs::path& dir) {
  return {"--vip", kVip4, "--vip", kVip6, "--sip-port", "5060", "--sip-port", "5080", "--guard", "on",
          "--request-rate", "0.1", "--request-burst", "1000", "--invite-rate", "0.1", "--invite-burst", "1000",
          "--health", "off", "--control", (dir / "control.sock").string(), "--metrics", ""};
}

struct PcapRun {
  std::string out;                  // its stdout
  ng911_stats stats{};              // its final counters
  std::map<std::string, std::vector<Frame>> tx;  // what each tx pcap holds
  Mac mac0{}, mac1{};
};

// The frames through ng911-dataplane-dpdk on net_pcap0 (and a tx-only net_pcap1 when
// `second_port`), with one backend.
PcapRun run_pcap(const std::vector<Frame>& frames, const std::string& backend, bool second_port = false) {
  TempDir dir;
  write_pcap(dir.path / "in.pcap", frames);
  std::string vdevs = "--vdev=net_pcap0,rx_pcap=" + (dir.path / "in.pcap").string() +
                      ",tx_pcap=" + (dir.path / "out0.pcap").string();
  if (second_port) vdevs += " --vdev=net_pcap1,tx_pcap=" + (dir.path / "out1.pcap").string();
  std::vector<std::string> args{NG911_DPDK_BIN, "--eal", eal(vdevs), "--backend", backend,
                                "--exit-after-packets", std::to_string(frames.size()), "--duration", "30"};
  for (auto& f : lab_flags(dir.path)) args.push_back(f);
  Process p(args, dir.path / "stdout");
  int rc = p.wait(60s);
  PcapRun r;
  r.out = slurp(dir.path / "stdout");
  BOOST_REQUIRE_MESSAGE(rc == 0, "ng911-dataplane-dpdk exited " << rc << "\n" << r.out << slurp(dir.path / "stdout.err"));
  r.stats = parse_stats(r.out.substr(r.out.find("final stats")));
  r.tx["net_pcap0"] = read_pcap(dir.path / "out0.pcap");
  if (second_port) r.tx["net_pcap1"] = read_pcap(dir.path / "out1.pcap");
  auto m0 = port_mac(r.out, "net_pcap0");
  BOOST_REQUIRE(m0);
  r.mac0 = *m0;
  if (second_port) {
    auto m1 = port_mac(r.out, "net_pcap1");
    BOOST_REQUIRE(m1);
    r.mac1 = *m1;
  }
  return r;
}

// The twin with the tables the controller writes for one backend: backend 0 in every slot.
struct Twin {
  std::unique_ptr<ng911_twin> twin = std::make_unique<ng911_twin>();
  explicit Twin(const ng911_backend& backend) {
    ng911_twin_init(twin.get());
    twin->config = lab_config(1000);
    twin->now_ns = 1'000'000'000ull;
    twin->backends[0] = backend;
    for (auto& s : twin->table) s = 0;
  }
};

ng911_backend backend_entry(bool v6, const Mac& src_mac, std::uint32_t ifindex) {
  ng911_backend b = lab_backend(ifindex, v6);
  b.flags = v6 ? NG911_BACKEND_IP6 : NG911_BACKEND_IP4;
  if (v6) b.ip4 = 0;
  else std::memset(b.ip6, 0, sizeof b.ip6);
  std::memcpy(b.src_mac, src_mac.data(), 6);
  return b;
}

std::string backend_flag(bool v6, const std::string& dev) {
  std::string address = v6 ? std::string("[") + kBackend6 + "]" : std::string(kBackend4);
  return address + ":" + std::to_string(kBackendPort) + ",mac=" + format_mac(kBackendMac) + ",dev=" + dev;
}

void check_against_twin(bool v6) {
  auto all = fixtures();
  std::vector<Frame> frames;
  for (const auto& f : all) frames.push_back(f.frame);
  auto run = run_pcap(frames, backend_flag(v6, "net_pcap0"));

  Twin twin(backend_entry(v6, run.mac0, 1));
  std::vector<std::pair<std::string, Frame>> forwarded;
  std::size_t same_family_checked = 0;
  for (const auto& f : all) {
    Frame copy = f.frame;
    auto r = ng911_twin_run(twin.twin.get(), copy.data(), static_cast<__u32>(copy.size()), 1);
    if (r.action == kTx) forwarded.emplace_back(f.name, copy);
    // Fixtures of the backend's family keep the verdict fixtures.h names (the other family's
    // forwarded ones become pass_family here).
    auto a = frame_addresses(f.frame);
    if (f.expected.action == kTx && a && a->dst_port == 5060 && (a->dst_ip.find(':') != std::string::npos) == v6) {
      BOOST_TEST_CONTEXT(f.name) { BOOST_TEST(r.action == f.expected.action); }
      ++same_family_checked;
    }
  }
  BOOST_TEST(same_family_checked >= 2u);
  BOOST_TEST(forwarded.size() >= 3u);

  const auto& out = run.tx["net_pcap0"];
  BOOST_TEST(out.size() == forwarded.size(), "the tx pcap holds exactly the frames the twin forwards");
  for (std::size_t i = 0; i < std::min(out.size(), forwarded.size()); ++i) {
    BOOST_TEST_CONTEXT(forwarded[i].first) {
      BOOST_TEST(out[i] == forwarded[i].second, "byte for byte the twin's output");
      BOOST_TEST(check_frame(out[i]) == "");
    }
  }
  for (int i = 0; i < NG911_COUNTERS; ++i)
    BOOST_TEST_CONTEXT("counter " << (i < NG911_CLASS_COUNT ? class_name(i) : outcome_name(i - NG911_CLASS_COUNT))) {
      BOOST_TEST(run.stats.packets[i] == twin.twin->stats.packets[i]);
    }
  BOOST_TEST(run.stats.packets[NG911_OUTCOME(NG911_OUT_DROP_MALFORMED)] > 5u);
}

// fn in a thread that entered the network namespace (setns applies to one thread only).
void in_netns(const std::string& ns, const std::function<void()>& fn) {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error("cannot enter " + ns);
      ::close(fd);
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

// A namespace of the test's own, removed however the test ends.
struct Netns {
  std::string name = "ng911dpdk" + std::to_string(::getpid());
  Netns() {
    std::system(("ip netns del " + name + " 2>/dev/null").c_str());
    BOOST_REQUIRE(std::system(("ip netns add " + name).c_str()) == 0);
    BOOST_REQUIRE(std::system(("ip -n " + name + " link set lo up").c_str()) == 0);
  }
  ~Netns() { std::system(("ip netns del " + name).c_str()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dataplane_dpdk)

BOOST_AUTO_TEST_CASE(fixtures_through_net_pcap_match_the_twin_ipv4_backend) { check_against_twin(false); }

BOOST_AUTO_TEST_CASE(fixtures_through_net_pcap_match_the_twin_ipv6_backend) { check_against_twin(true); }

BOOST_AUTO_TEST_CASE(a_backend_on_another_port_is_sent_out_of_that_port) {
  std::vector<Frame> frames;
  for (int i = 0; i < 20; ++i)
    frames.push_back(request_from("192.0.2." + std::to_string(1 + i), i % 2 ? "REGISTER" : "INVITE",
                                  i % 2 ? "sip:example.com" : "urn:service:sos", "redirect-" + std::to_string(i) + "@x"));
  auto run = run_pcap(frames, backend_flag(false, "net_pcap1"), true);
  Twin twin(backend_entry(false, run.mac1, 2));
  std::vector<Frame> expected;
  for (auto f : frames) {
    auto r = ng911_twin_run(twin.twin.get(), f.data(), static_cast<__u32>(f.size()), 1);
    BOOST_TEST(r.action == kRedirect);
    expected.push_back(f);
  }
  BOOST_TEST(run.tx["net_pcap0"].empty(), "nothing goes back out of the ingress port");
  BOOST_TEST(run.tx["net_pcap1"] == expected);
  BOOST_TEST(run.stats.packets[NG911_OUTCOME(NG911_OUT_REDIRECT)] == 20u);
}

BOOST_AUTO_TEST_CASE(backends_changed_through_the_control_socket_change_forwarding) {
  Netns ns;
  TempDir dir;
  auto control = (dir.path / "control.sock").string();
  // Frames arrive live on the namespace's loopback (inbound only: each frame is seen once).
  std::string vdevs = "--vdev=net_pcap0,rx_iface_in=lo,tx_pcap=" + (dir.path / "out.pcap").string();
  std::vector<std::string> args{"/usr/bin/nsenter", "--net=/run/netns/" + ns.name, NG911_DPDK_BIN, "--eal", eal(vdevs),
                                "--duration", "60"};
  for (auto& f : lab_flags(dir.path)) args.push_back(f);
  args.back() = "127.0.0.1:18201";  // --metrics, inside the namespace
  Process p(args, dir.path / "stdout");

  bool answered = false;
  auto stats = [&] {
    try {
      auto s = parse_stats(control_request(control, "stats"));
      answered = true;
      return s;
    } catch (const std::exception&) {
      return ng911_stats{};
    }
  };
  auto until = [&](const std::function<bool(const ng911_stats&)>& done) {
    for (int i = 0; i < 250; ++i) {
      if (done(stats())) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  BOOST_REQUIRE_MESSAGE(until([&](const ng911_stats&) { return answered; }), "the control socket is up");
  std::this_thread::sleep_for(300ms);  // the worker starts 100 ms after serve()

  constexpr int kCalls = 20;
  int round = 0;
  auto send = [&] {
    ++round;
    in_netns(ns.name, [&] {
      int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
      if (fd < 0) throw std::runtime_error("no packet socket");
      sockaddr_ll to{};
      to.sll_family = AF_PACKET;
      to.sll_ifindex = 1;  // lo: the first interface of every namespace
      to.sll_halen = 6;
      for (int i = 0; i < kCalls; ++i) {
        auto f = request_from("192.0.2." + std::to_string(1 + i), "INVITE", "urn:service:sos",
                              "ctl-" + std::to_string(round) + "-" + std::to_string(i) + "@x");
        ::sendto(fd, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      }
      ::close(fd);
    });
  };
  auto emergency = [](const ng911_stats& s) { return s.packets[NG911_CLASS_EMERGENCY_INVITE]; };
  auto tx = [](const ng911_stats& s) { return s.packets[NG911_OUTCOME(NG911_OUT_TX)]; };

  // No backend: to the (absent) stack.
  send();
  BOOST_REQUIRE(until([&](const ng911_stats& s) { return emergency(s) >= kCalls; }));
  BOOST_TEST(stats().packets[NG911_OUTCOME(NG911_OUT_PASS_NO_BACKEND)] == unsigned(kCalls));
  BOOST_TEST(tx(stats()) == 0u);

  // One backend added: every call to it.
  auto reply = control_request(control, "add 10.0.0.1:5062,mac=02:be:00:00:00:01,dev=net_pcap0");
  BOOST_TEST(reply.starts_with("ok"), reply);
  send();
  BOOST_REQUIRE(until([&](const ng911_stats& s) { return emergency(s) >= 2 * kCalls; }));
  BOOST_TEST(tx(stats()) == unsigned(kCalls));

  // A second one added and the first drained: every call to the second.
  BOOST_TEST(control_request(control, "add 10.0.0.2:5062,mac=02:be:00:00:00:02,dev=net_pcap0").starts_with("ok"));
  BOOST_TEST(control_request(control, "drain 10.0.0.1:5062").starts_with("ok"));
  send();
  BOOST_REQUIRE(until([&](const ng911_stats& s) { return emergency(s) >= 3 * kCalls; }));
  BOOST_TEST(tx(stats()) == unsigned(2 * kCalls));
  auto text = control_request(control, "stats");
  BOOST_TEST(text.find("lcore") != std::string::npos, "per-lcore counters in stats");

  // /metrics from inside the namespace.
  std::string metrics;
  in_netns(ns.name, [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(18201);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      ::send(fd, req.data(), req.size(), 0);
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) metrics.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
  });
  BOOST_TEST(metrics.find("ng911_dataplane_forwarded_total{via=\"tx\"} " + std::to_string(2 * kCalls)) !=
                 std::string::npos,
             metrics);

  p.terminate();
  BOOST_TEST(p.wait(20s) == 0);
  auto out = read_pcap(dir.path / "out.pcap");
  BOOST_REQUIRE(out.size() == std::size_t(2 * kCalls));
  for (int i = 0; i < 2 * kCalls; ++i) {
    auto a = frame_addresses(out[static_cast<std::size_t>(i)]);
    BOOST_REQUIRE(a);
    BOOST_TEST(a->dst_ip == (i < kCalls ? "10.0.0.1" : "10.0.0.2"));
    BOOST_TEST(a->dst_port == 5062);
  }
}

BOOST_AUTO_TEST_SUITE_END()
