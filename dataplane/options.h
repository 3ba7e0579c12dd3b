#pragma once
// The control plane's command-line flags, shared by `ng911-dataplane run` (XDP) and
// ng911-dataplane-dpdk, so both paths take the same options for the same settings.
#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "dataplane/controller.h"

namespace ng911::dataplane {

struct ControllerFlags {
  ControllerConfig config;
  std::string guard = "on", health = "on";
  unsigned interval_ms = 1000, dead_ms = 3000;
  std::vector<std::string> backends;
};

// --vip, --sip-port, --backend, --guard and the rates, --health and its timing, --control,
// --metrics (not the XDP-only --dev, --mode, --pin-dir).
void add_controller_options(boost::program_options::options_description& options, ControllerFlags& flags);
// The configuration once parsed (throws std::invalid_argument on a bad backend).
ControllerConfig controller_config(ControllerFlags& flags, const boost::program_options::variables_map& vm);

// The words of an --eal "ARGS" option (DPDK's EAL arguments; none for an empty line), for the
// DPDK path and the generator's replay.
std::vector<std::string> split_eal_line(const std::string& line);

}  // namespace ng911::dataplane
