#include "options.h"

#include <sstream>

namespace ng911::dataplane {
namespace po = boost::program_options;

void add_controller_options(po::options_description& o, ControllerFlags& f) {
  auto& c = f.config;
  o.add_options()
      ("vip", po::value(&c.vips)->composing(), "the appliance's SIP address (one IPv4, one IPv6); none: any")
      ("sip-port", po::value(&c.sip_ports)->composing(), "SIP port (up to 4; default 5060)")
      ("backend", po::value(&f.backends)->composing(), "ADDR:PORT[,weight=W][,mac=MAC][,dev=IF]")
      ("guard", po::value(&f.guard), "flood guard on|off")
      ("request-rate", po::value(&c.request_rate), "non-emergency requests per second per source")
      ("request-burst", po::value(&c.request_burst), "... and the burst")
      ("invite-rate", po::value(&c.invite_rate), "INVITEs per second per source")
      ("invite-burst", po::value(&c.invite_burst), "... and the burst")
      ("health", po::value(&f.health), "health checks by SIP OPTIONS on|off (off: backends are alive once added)")
      ("health-interval-ms", po::value(&f.interval_ms), "OPTIONS to each backend this often")
      ("dead-after-ms", po::value(&f.dead_ms), "a backend silent this long leaves the table")
      ("control", po::value(&c.control), "control socket")
      ("metrics", po::value(&c.metrics), "ADDR:PORT for /metrics (empty: none)");
}

ControllerConfig controller_config(ControllerFlags& f, const po::variables_map& vm) {
  ControllerConfig c = f.config;
  // Ports given replace the default 5060 (taken from the parsed values, whether or not
  // program_options has already stored them over the default).
  if (vm.count("sip-port")) c.sip_ports = vm["sip-port"].as<std::vector<std::uint16_t>>();
  c.guard = f.guard != "off";
  c.health_checks = f.health != "off";
  c.health_interval = std::chrono::milliseconds(f.interval_ms);
  c.dead_after = std::chrono::milliseconds(f.dead_ms);
  for (const auto& b : f.backends) c.backends.push_back(parse_backend(b));
  return c;
}

std::vector<std::string> split_eal_line(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace ng911::dataplane
