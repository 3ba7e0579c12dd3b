// ng911-pktgen: realistic SIP traffic at the highest rate the machine allows, and its counter.
// See dataplane/gen/README.md.
//   ng911-pktgen live --dev IF --dst-mac MAC --dst-ip ADDR [--mix SPEC] [--count N] [--duration S] [--rate PPS] ...
//   ng911-pktgen pcap --out FILE --count N [--mix SPEC] ...
//   ng911-pktgen replay --pcap FILE --dev IF [--pmd af_packet|af_xdp] [--count N] [--duration S] [--rate PPS]
//   ng911-pktgen count --dev IF [--port P] [--pass-from ADDR] [--duration S] [--until N]
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>

#include "dataplane/options.h"
#include "dataplane/gen/counter.h"
#include "dataplane/gen/replay.h"
#include "dataplane/gen/sender.h"

namespace po = boost::program_options;
using namespace ng911::dataplane;
using namespace ng911::dataplane::gen;

namespace {

int usage() {
  std::cerr << "usage: ng911-pktgen live|pcap|replay|count [options]; --help with each for its options\n";
  return 2;
}

// SIGINT and SIGTERM, blocked in every thread and taken by sigtimedwait: a stop request
// without a signal handler or global state.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // Waits up to `timeout` for one; true when it came.
  bool wait(std::chrono::milliseconds timeout) const {
    timespec ts{static_cast<time_t>(timeout.count() / 1000), static_cast<long>(timeout.count() % 1000) * 1'000'000};
    return sigtimedwait(&set_, nullptr, &ts) > 0;
  }

 private:
  sigset_t set_;
};

// Parses a subcommand's options; false when --help asked for them (printed).
bool parse_options(int argc, char** argv, const po::options_description& o) {
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, o), vm);
  if (vm.count("help")) {
    std::cout << o;
    return false;
  }
  po::notify(vm);
  return true;
}

// A thread that sets `stop` when SIGINT or SIGTERM comes, until it is joined.
std::jthread watch(const StopSignals& signals, std::atomic<bool>& stop) {
  return std::jthread([&signals, &stop](std::stop_token token) {
    while (!token.stop_requested())
      if (signals.wait(std::chrono::milliseconds(100))) stop = true;
  });
}

std::string counts_text(const Counts& counts) {
  std::ostringstream out;
  for (auto kind : all_kinds) out << " " << kind_name(kind) << "=" << counts[static_cast<std::size_t>(kind)];
  return out.str();
}

Mac mac_option(const std::string& text, const char* what) {
  auto mac = parse_mac(text);
  if (!mac) throw std::invalid_argument(std::string("bad ") + what + " MAC: " + text);
  return *mac;
}

// The options that say what is sent, shared by live and pcap.
struct TrafficOptions {
  Endpoints endpoints;
  std::string mix = format_mix(default_mix()), src_mac, dst_mac;
  void add(po::options_description& o) {
    o.add_options()("mix", po::value(&mix), "KIND=WEIGHT,...: emergency register options response flood garbage")
        ("src-ip", po::value(&endpoints.src_ip), "source of the legitimate kinds")
        ("callers", po::value(&endpoints.callers), "legitimate sources: src-ip and the next ones")
        ("dst-ip", po::value(&endpoints.dst_ip), "destination (the appliance's address)")
        ("src-port", po::value(&endpoints.src_port), "UDP source port")
        ("dst-port", po::value(&endpoints.dst_port), "UDP destination port")
        ("src-mac", po::value(&src_mac), "source MAC (live: the interface's by default)")
        ("dst-mac", po::value(&dst_mac), "destination MAC (the next hop's)")
        ("flood-src", po::value(&endpoints.flood_src_ip), "first source address of the INVITE flood")
        ("flood-sources", po::value(&endpoints.flood_sources), "how many sources flood");
  }
  void finish() {
    if (!src_mac.empty()) endpoints.src_mac = mac_option(src_mac, "source");
    if (!dst_mac.empty()) endpoints.dst_mac = mac_option(dst_mac, "destination");
  }
};

std::vector<int> parse_cpus(const std::string& text) {
  std::vector<int> cpus;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) cpus.push_back(std::stoi(item));
  return cpus;
}

int live(int argc, char** argv) {
  SendOptions s;
  TrafficOptions t;
  t.endpoints.src_mac = {};  // the interface's
  std::string cpus = "0";
  double duration = 10;
  bool quiet = false;
  po::options_description o("ng911-pktgen live");
  o.add_options()("help", "this help")("dev", po::value(&s.interface)->required(), "interface to send out of")
      ("count", po::value(&s.count), "packets in all (0: until --duration)")
      ("duration", po::value(&duration), "seconds at most (default 10)")
      ("rate", po::value(&s.rate), "packets per second (default: as fast as possible)")
      ("cpus", po::value(&cpus), "CPUs to send from, one thread each (default 0)")
      ("chunk", po::value(&s.chunk), "packets per BPF_PROG_RUN of the rarest kind (default 4096)")
      ("quiet", po::bool_switch(&quiet), "no progress lines");
  t.add(o);
  if (!parse_options(argc, argv, o)) return 0;
  t.finish();
  s.endpoints = t.endpoints;
  s.mix = parse_mix(t.mix);
  s.duration = std::chrono::duration<double>(duration);
  s.cpus = parse_cpus(cpus);
  s.run_id = clock_run_id();
  if (s.chunk == 0) throw std::invalid_argument("--chunk must be at least 1");

  StopSignals signals;
  std::atomic<bool> stop{false};
  auto watcher = watch(signals, stop);
  auto report = send_live(
      s,
      [&](const SendReport& r) {
        if (!quiet)
          std::fprintf(stderr, "ng911-pktgen: %5.1f s  sent %llu  %.3f Mpps\n", r.elapsed.count(),
                       static_cast<unsigned long long>(r.total()), r.rate() / 1e6);
      },
      stop);
  std::printf("sent total=%llu elapsed_s=%.3f pps=%.0f%s\n", static_cast<unsigned long long>(report.total()),
              report.elapsed.count(), report.rate(), counts_text(report.sent).c_str());
  return 0;
}

int pcap(int argc, char** argv) {
  PcapOptions p;
  TrafficOptions t;
  po::options_description o("ng911-pktgen pcap");
  o.add_options()("help", "this help")("out", po::value(&p.path)->required(), "pcap file to write")
      ("count", po::value(&p.count)->required(), "packets")
      ("rate", po::value(&p.rate), "timestamps spaced for this many packets per second (default 1e6)");
  t.add(o);
  if (!parse_options(argc, argv, o)) return 0;
  t.finish();
  p.endpoints = t.endpoints;
  p.mix = parse_mix(t.mix);
  p.run_id = clock_run_id();
  auto written = write_pcap(p);
  std::printf("wrote total=%llu file=%s%s\n", static_cast<unsigned long long>(p.count), p.path.c_str(),
              counts_text(written).c_str());
  return 0;
}

int replay(int argc, char** argv, const char* program) {
  ReplayOptions r;
  double duration = 10;
  std::string eal_line;
  bool quiet = false;
  po::options_description o("ng911-pktgen replay");
  o.add_options()("help", "this help")("pcap", po::value(&r.pcap)->required(), "pcap file of Ethernet frames")
      ("dev", po::value(&r.interface)->required(), "interface to send out of (a DPDK port is opened on it)")
      ("pmd", po::value(&r.pmd), "DPDK driver for --dev: af_packet (default) or af_xdp")
      ("eal", po::value(&eal_line), "EAL arguments (default: --no-pci --no-huge -m 512 ...)")
      ("count", po::value(&r.count), "frames in all, the file over and over (0: until --duration)")
      ("duration", po::value(&duration), "seconds at most (default 10)")
      ("rate", po::value(&r.rate), "frames per second (default: as fast as the port takes them)")
      ("burst", po::value(&r.burst), "frames per tx burst (default 32)")
      ("quiet", po::bool_switch(&quiet), "no progress lines");
  if (!parse_options(argc, argv, o)) return 0;
  r.eal = split_eal_line(eal_line);
  r.duration = std::chrono::duration<double>(duration);
  StopSignals signals;
  std::atomic<bool> stop{false};
  auto watcher = watch(signals, stop);
  auto report = replay_pcap(
      r, program,
      [&](const ReplayReport& p) {
        if (!quiet)
          std::fprintf(stderr, "ng911-pktgen: %5.1f s  replayed %llu  %.3f Mpps\n", p.elapsed.count(),
                       static_cast<unsigned long long>(p.sent), p.rate() / 1e6);
      },
      stop);
  std::printf("sent total=%llu elapsed_s=%.3f pps=%.0f file_frames=%llu%s\n", static_cast<unsigned long long>(report.sent),
              report.elapsed.count(), report.rate(), static_cast<unsigned long long>(report.file_frames),
              counts_text(report.kinds).c_str());
  return 0;
}

int count(int argc, char** argv) {
  CounterOptions c;
  std::string mode = "auto";
  double duration = 0;
  std::uint64_t until = 0;
  bool progress = false;
  po::options_description o("ng911-pktgen count");
  o.add_options()("help", "this help")("dev", po::value(&c.interface)->required(), "interface to count on")
      ("port", po::value(&c.port), "UDP destination port counted (default 5060; 0: all)")
      ("pass-from", po::value(&c.pass_from), "IPv4 source let through uncounted (health checks)")
      ("pass", po::bool_switch(&c.pass_counted), "counted datagrams go on to the stack (default: dropped)")
      ("mode", po::value(&mode), "native, generic or auto")
      ("duration", po::value(&duration), "stop after this many seconds (default: at SIGINT/SIGTERM)")
      ("until", po::value(&until), "stop once this many are counted")
      ("progress", po::bool_switch(&progress), "a line a second");
  if (!parse_options(argc, argv, o)) return 0;
  c.mode = mode == "native" ? AttachMode::native : mode == "generic" ? AttachMode::generic : AttachMode::automatic;

  StopSignals signals;
  Counter counter(c);
  std::fprintf(stderr, "ng911-pktgen: counting on %s (%s)\n", c.interface.c_str(),
               counter.mode() == AttachMode::native ? "native" : "generic");
  auto start = std::chrono::steady_clock::now();
  auto last = start;
  std::uint64_t last_packets = 0;
  for (;;) {
    bool signalled = signals.wait(std::chrono::milliseconds(until ? 20 : 200));
    auto now = std::chrono::steady_clock::now();
    auto r = counter.read();
    if (progress && now - last >= std::chrono::seconds(1)) {
      double s = std::chrono::duration<double>(now - last).count();
      std::fprintf(stderr, "ng911-pktgen: received %llu  %.3f Mpps\n", static_cast<unsigned long long>(r.packets),
                   static_cast<double>(r.packets - last_packets) / s / 1e6);
      last = now;
      last_packets = r.packets;
    }
    if (signalled || (until && r.packets >= until) ||
        (duration > 0 && std::chrono::duration<double>(now - start).count() >= duration))
      break;
  }
  auto r = counter.read();
  std::printf("received total=%llu bytes=%llu%s\n", static_cast<unsigned long long>(r.packets),
              static_cast<unsigned long long>(r.bytes), counts_text(r.kinds).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string command = argv[1];
  try {
    if (command == "live") return live(argc - 1, argv + 1);
    if (command == "pcap") return pcap(argc - 1, argv + 1);
    if (command == "replay") return replay(argc - 1, argv + 1, argv[0]);
    if (command == "count") return count(argc - 1, argv + 1);
    return usage();
  } catch (const std::exception& e) {
    std::cerr << "ng911-pktgen: " << e.what() << "\n";
    return 1;
  }
}
