// ng911-esrp: the Emergency Services Routing Proxy (first cut): a stateful SIP proxy that routes
// each emergency call by the caller's location through the ECRF (LoST), with the default and
// last-resort routes as failover, ring-no-answer per route, and NENA's ids added.
#include <csignal>
#include <iostream>
#include <sstream>

#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include "service/policy.h"

namespace po = boost::program_options;
using namespace ng911;

int main(int argc, char** argv) {
  try {
    po::options_description desc("ng911-esrp: emergency call routing proxy (NENA i3 ESRP). Options");
    std::string listen = "127.0.0.1:5060";
    std::vector<std::string> lost, defaults;
    desc.add_options()("help,h", "this help")("listen", po::value(&listen)->default_value(listen), "ADDRESS:PORT (UDP, TCP)")(
        "lost", po::value(&lost)->composing(), "LoST server URL (http://127.0.0.1:8180/); repeat for failover")(
        "lost-timeout-ms", po::value<long>()->default_value(1000), "per LoST server")(
        "default-route", po::value(&defaults)->composing(), "\"SERVICE URI\": where a service's calls go when the ECRF cannot say")(
        "last-resort", po::value<std::string>()->default_value(""), "SIP URI tried when every other route failed")(
        "ring-timeout-ms", po::value<long>()->default_value(20000), "ring-no-answer per route before the next one")(
        "id", po::value<std::string>()->default_value("esrp.ng911.example"), "domain of the call and incident ids we make")(
        "t1-ms", po::value<long>()->default_value(500), "RFC 3261 T1");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    sip::ProxyConfig proxy_config;
    sip::Endpoint where = sip::parse_endpoint(listen);
    proxy_config.address = where.address.to_string();
    proxy_config.port = where.port;
    proxy_config.timers.t1 = std::chrono::milliseconds(vm["t1-ms"].as<long>());
    proxy_config.branch_timeout = std::chrono::milliseconds(vm["ring-timeout-ms"].as<long>());

    esrp::PolicyConfig policy;
    policy.esrp_id = vm["id"].as<std::string>();
    policy.ecrf.servers = lost;
    policy.ecrf.timeout = std::chrono::milliseconds(vm["lost-timeout-ms"].as<long>());
    for (const auto& d : defaults) {
      std::istringstream in(d);
      std::string service, uri;
      if (!(in >> service >> uri)) throw std::runtime_error("--default-route '" + d + "': expected SERVICE URI");
      policy.default_routes[service] = uri;
    }
    policy.last_resort = vm["last-resort"].as<std::string>();

    boost::asio::io_context io(1);
    auto log = [](const std::string& line) { std::cerr << line << std::endl; };
    esrp::RoutingPolicy routing(io, policy, log);
    proxy_config.router = [&routing](const sip::Message& m, std::function<void(sip::Routing)> done) {
      routing.route(m, std::move(done));
    };
    sip::StatefulProxy proxy(io, proxy_config);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
    std::cerr << "{\"event\":\"listening\",\"address\":\"" << proxy_config.address << "\",\"port\":" << proxy.port()
              << ",\"lost_servers\":" << lost.size() << "}" << std::endl;
    io.run();
    const auto& c = proxy.counters();
    const auto& e = routing.ecrf_counters();
    std::cerr << "{\"event\":\"stopped\",\"requests\":" << c.requests << ",\"forwarded\":" << c.forwarded
              << ",\"retargets\":" << c.retargets << ",\"branch_timeouts\":" << c.branch_timeouts
              << ",\"ecrf_queries\":" << e.queries << ",\"ecrf_cache_hits\":" << e.cache_hits
              << ",\"ecrf_server_failures\":" << e.server_failures << ",\"ecrf_errors\":" << e.errors << "}" << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ng911-esrp: " << e.what() << "\n";
    return 2;
  }
}
