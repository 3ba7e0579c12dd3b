// ng911-dataplane: stage one of the appliance (XDP classifier, flood guard, Maglev load
// sharer). See docs/dataplane.md.
//   ng911-dataplane run --dev IF [--vip ADDR] [--backend ADDR:PORT[,weight=W][,mac=M][,dev=IF]] ...
//   ng911-dataplane backend add|remove|weight|drain|undrain|list [ARGS] [--control PATH]
//   ng911-dataplane stats [--pin-dir DIR] [--rate SECONDS] | --control PATH
#include <csignal>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>

#include "dataplane/controller.h"
#include "dataplane/options.h"

namespace po = boost::program_options;
using namespace ng911::dataplane;

namespace {

int usage() {
  std::cerr << "usage: ng911-dataplane run|backend|stats [options]; --help with each for its options\n";
  return 2;
}

int run(int argc, char** argv) {
  ControllerFlags flags;
  std::string mode = "auto";
  po::options_description o("ng911-dataplane run");
  o.add_options()("help", "this help")
      ("dev", po::value(&flags.config.interfaces)->composing(), "interface to attach to (repeat for several)")
      ("mode", po::value(&mode), "native, generic or auto (native, generic if refused)")
      ("pin-dir", po::value(&flags.config.pin_dir), "where the maps are pinned");
  add_controller_options(o, flags);
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, o), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << o;
    return 0;
  }
  auto c = controller_config(flags, vm);
  c.mode = mode == "native" ? AttachMode::native : mode == "generic" ? AttachMode::generic : AttachMode::automatic;
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
  std::string pin_dir = ControllerConfig{}.pin_dir, control;
  double rate = 0;
  po::options_description o("ng911-dataplane stats");
  o.add_options()("pin-dir", po::value(&pin_dir), "where the XDP program's maps are pinned")(
      "control", po::value(&control), "ask this control socket instead (the DPDK path: counters per core too)")(
      "rate", po::value(&rate), "also show packets per second over this many seconds (pinned maps)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, o), vm);
  po::notify(vm);
  if (!control.empty()) {
    std::cout << control_request(control, "stats");
    return 0;
  }
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
