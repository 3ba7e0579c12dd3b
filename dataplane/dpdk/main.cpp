// ng911-dataplane-dpdk: the dataplane's pipeline on DPDK ports, with ng911-dataplane's control
// interface. See docs/dataplane.md, "DPDK path".
//   ng911-dataplane-dpdk [run] --dev IF [--pmd af_xdp|af_packet] [--eal "EAL ARGS"] [controller flags]
//                        [--exit-after-packets N] [--duration S] [--burst N] [-- EAL ARGS]
//   ng911-dataplane-dpdk backend add|remove|weight|drain|undrain|list [ARGS] --control PATH
//   ng911-dataplane-dpdk stats --control PATH
#include <boost/program_options.hpp>
#include <iostream>

#include "dataplane/dpdk/dpdk_path.h"
#include "dataplane/options.h"

namespace po = boost::program_options;
using namespace ng911::dataplane;

namespace {

constexpr const char* kControl = "/run/ng911-dataplane-dpdk.sock";

int run(int argc, char** argv) {
  // Everything after "--" belongs to the EAL.
  std::vector<std::string> eal;
  int own = argc;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--") {
      own = i;
      eal.assign(argv + i + 1, argv + argc);
      break;
    }
  ControllerFlags flags;
  flags.config.control = kControl;
  flags.config.metrics = "127.0.0.1:8201";  // beside the XDP path's 8200
  dpdk::DpdkConfig config;
  std::string eal_line;
  po::options_description o("ng911-dataplane-dpdk");
  o.add_options()("help", "this help")
      ("dev", po::value(&flags.config.interfaces)->composing(), "kernel interface to open as a DPDK port (repeat)")
      ("pmd", po::value(&config.pmd), "driver for --dev: af_xdp (default) or af_packet")
      ("eal", po::value(&eal_line), "EAL arguments, e.g. \"--no-huge -m 512 --no-pci --vdev=net_pcap0,rx_pcap=IN,tx_pcap=OUT\"")
      ("burst", po::value(&config.burst), "packets per rx burst (default 32)")
      ("exit-after-packets", po::value(&config.exit_after_packets), "stop once this many packets were received")
      ("duration", po::value(&config.duration_s), "stop after this many seconds");
  add_controller_options(o, flags);
  po::variables_map vm;
  po::store(po::parse_command_line(own, argv, o), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << o;
    return 0;
  }
  config.eal = split_eal_line(eal_line);
  config.eal.insert(config.eal.end(), eal.begin(), eal.end());
  config.controller = controller_config(flags, vm);
  return dpdk::run(config, argv[0]);
}

int control(const std::string& verb, int argc, char** argv) {
  std::string socket = kControl;
  std::vector<std::string> words;
  po::options_description o("ng911-dataplane-dpdk backend add SPEC | remove NAME | weight NAME W | drain NAME | "
                            "undrain NAME | list; ng911-dataplane-dpdk stats");
  o.add_options()("control", po::value(&socket), "control socket")("words", po::value(&words), "");
  po::positional_options_description p;
  p.add("words", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(o).positional(p).run(), vm);
  po::notify(vm);
  std::string request = verb == "stats" ? "stats" : "";
  for (const auto& w : words) request += (request.empty() ? "" : " ") + w;
  if (request.empty()) {
    std::cout << o;
    return 2;
  }
  std::string reply = control_request(socket, request);
  std::cout << reply;
  return reply.starts_with("error") ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string first = argc > 1 ? argv[1] : "";
    if (first == "backend" || first == "stats") return control(first, argc - 1, argv + 1);
    if (first == "run") {
      argv[1] = argv[0];
      return run(argc - 1, argv + 1);
    }
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ng911-dataplane-dpdk: " << e.what() << "\n";
    return 1;
  }
}
