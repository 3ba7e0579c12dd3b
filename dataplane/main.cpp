// ng911-dataplane: stage one of the appliance (XDP classifier, flood guard, Maglev load
// sharer). See docs/dataplane.md.
//   ng911-dataplane run --dev IF [--vip ADDR] [--backend ADDR:PORT[,weight=W][,mac=M][,dev=IF]] ...
//   ng911-dataplane backend add|remove|weight|drain|undrain|list [ARGS] [--control PATH]
//   ng911-dataplane stats [--pin-dir DIR] [--rate SECONDS]
#include <csignal>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>

#include "dataplane/controller.h"

namespace po = boost::program_options;
using namespace ng911::dataplane;

namespace {

int usage() {
  std::cerr << "usage: ng911-dataplane run|backend|stats [options]; --help with each for its options\n";
  return 2;
}

int run(int argc, char** argv) {
  ControllerConfig c;
  std::string mode = "auto", guard = "on";
  std::vector<std::string> backends;
  unsigned interval_ms = 1000, dead_ms = 3000;
  po::options_description o("ng911-dataplane run");
  o.add_options()("help", "this help")
      ("dev", po::value(&c.interfaces)->composing(), "interface to attach to (repeat for several)")
      ("mode", po::value(&mode), "native, generic or auto (native, generic if refused)")
      ("vip", po::value(&c.vips)->composing(), "the appliance's SIP address (one IPv4, one IPv6); none: any")
      ("sip-port", po::value(&c.sip_ports)->composing(), "SIP port (up to 4; default 5060)")
      ("backend", po::value(&backends)->composing(), "ADDR:PORT[,weight=W][,mac=MAC][,dev=IF]")
      ("guard", po::value(&guard), "flood guard on|off")
      ("request-rate", po::value(&c.request_rate), "non-emergency requests per second per source")
      ("request-burst", po::value(&c.request_burst), "... and the burst")
      ("invite-rate", po::value(&c.invite_rate), "INVITEs per second per source")
      ("invite-burst", po::value(&c.invite_burst), "... and the burst")
      ("health-interval-ms", po::value(&interval_ms), "OPTIONS to each backend this often")
      ("dead-after-ms", po::value(&dead_ms), "a backend silent this long leaves the table")
      ("pin-dir", po::value(&c.pin_dir), "where the maps are pinned")
      ("control", po::value(&c.control), "control socket")
      ("metrics", po::value(&c.metrics), "ADDR:PORT for /metrics (empty: none)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, o), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << o;
    return 0;
  }
  if (vm.count("sip-port")) c.sip_ports.erase(c.sip_ports.begin());  // the default goes when ports are given
  c.mode = mode == "native" ? AttachMode::native : mode == "generic" ? AttachMode::generic : AttachMode::automatic;
  c.guard = guard != "off";
  c.health_interval = std::chrono::milliseconds(interval_ms);
  c.dead_after = std::chrono::milliseconds(dead_ms);
  for (const auto& b : backends) c.backends.push_back(parse_backend(b));
  return run_controller(c);
}

int backend(int argc, char** argv) {
  std::string control = ControllerConfig{}.control;
  std::vector<std::string> words;
  po::options_description o("ng911-dataplane backend add SPEC | remove NAME | weight NAME W | drain NAME | undrain NAME | list");
  o.add_options()("control", po::value(&control), "control socket")("words", po::value(&words), "");
  po::positional_options_description p;
  p.add("words", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(o).positional(p).run(), vm);
  po::notify(vm);
  if (words.empty()) {
    std::cout << o;
    return 2;
  }
  std::string request;
  for (const auto& w : words) request += (request.empty() ? "" : " ") + w;
  std::string reply = control_request(control, request);
  std::cout << reply;
  return reply.starts_with("error") ? 1 : 0;
}

int stats(int argc, char** argv) {
  std::string pin_dir = ControllerConfig{}.pin_dir;
  double rate = 0;
  po::options_description o("ng911-dataplane stats");
  o.add_options()("pin-dir", po::value(&pin_dir), "where the maps are pinned")(
      "rate", po::value(&rate), "also show packets per second over this many seconds");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, o), vm);
  po::notify(vm);
  auto maps = DataplaneMaps::open_pinned(pin_dir);
  auto before = maps.read_stats();
  if (rate > 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(rate));
    auto now = maps.read_stats();
    std::cout << format_stats(now, &before, rate);
  } else {
    std::cout << format_stats(before);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string command = argv[1];
  try {
    if (command == "run") return run(argc - 1, argv + 1);
    if (command == "backend") return backend(argc - 1, argv + 1);
    if (command == "stats") return stats(argc - 1, argv + 1);
    return usage();
  } catch (const std::exception& e) {
    std::cerr << "ng911-dataplane: " << e.what() << "\n";
    return 1;
  }
}
