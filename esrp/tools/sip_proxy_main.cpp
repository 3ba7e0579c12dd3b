// ng911-sip-proxy: a small stateful SIP proxy on the SIP core, for interoperability tests and
// transaction benchmarks with real peers (SIPp, baresip). Requests addressed to the proxy go to
// --next-hop; others follow Route or their Request-URI.
#include <csignal>
#include <iostream>
#include <thread>

#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include "dataplane/steer.h"

#include "sip/proxy.h"

namespace po = boost::program_options;
using namespace ng911::sip;


int main(int argc, char** argv) {
  try {
    po::options_description desc("ng911-sip-proxy: a stateful SIP proxy on the appliance's SIP core. Options");
    std::string listen = "127.0.0.1:5060";
    desc.add_options()("help,h", "this help")("listen", po::value(&listen)->default_value(listen),
                                              "ADDRESS:PORT for UDP and TCP")(
        "next-hop", po::value<std::vector<std::string>>()->composing(),
        "[udp:|tcp:]ADDRESS:PORT for requests addressed to the proxy; repeat it for serial forking")(
        "branch-timeout-ms", po::value<long>()->default_value(0),
        "ring-no-answer per INVITE branch before the next hop is tried (0: none)")(
        "tls-cert", po::value<std::string>(), "serve SIP over TLS (port + 1) with this certificate chain (PEM)")(
        "tls-key", po::value<std::string>(), "private key of --tls-cert")(
        "tls-ca", po::value<std::string>(), "CAs for peers' certificates (default: the system's store)")(
        "threads", po::value<int>()->default_value(1), "event loops, each with its own transactions, sharing the port")(
        "steer-call-id", po::value<bool>()->default_value(true),
        "with --threads > 1: put every UDP datagram of a call on one loop by its Call-ID (an SO_REUSEPORT "
        "BPF selector; needs CAP_BPF, else the kernel's 4-tuple hash stays)")(
        "dns-server", po::value<std::vector<std::string>>()->composing(),
        "IPV4ADDRESS[:PORT] of a DNS server for next hops named by host names (RFC 3263); none: the system's")(
        "t1-ms", po::value<long>()->default_value(500),
        "RFC 3261 T1 (RTT estimate); lower only on networks known to be fast (tests)");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    ProxyConfig config;
    Endpoint where = parse_endpoint(listen);
    config.address = where.address.to_string();
    config.port = where.port;
    if (vm.count("next-hop"))
      for (const auto& hop : vm["next-hop"].as<std::vector<std::string>>()) config.next_hops.push_back(parse_endpoint(hop));
    config.branch_timeout = std::chrono::milliseconds(vm["branch-timeout-ms"].as<long>());
    config.timers.t1 = std::chrono::milliseconds(vm["t1-ms"].as<long>());
    if (vm.count("tls-cert") != vm.count("tls-key")) throw std::runtime_error("--tls-cert and --tls-key go together");
    if (vm.count("tls-cert"))
      config.tls = TlsConfig{vm["tls-cert"].as<std::string>(), vm["tls-key"].as<std::string>(),
                             vm.count("tls-ca") ? vm["tls-ca"].as<std::string>() : "", 0, false};
    ResolverConfig dns;
    if (vm.count("dns-server"))
      for (const auto& server : vm["dns-server"].as<std::vector<std::string>>()) dns.servers.push_back(parse_dns_server(server));
    config.resolver = std::make_shared<SipResolver>(dns);
    int threads = std::max(1, vm["threads"].as<int>());
    config.shared_port = threads > 1;
    std::vector<std::unique_ptr<boost::asio::io_context>> loops;
    std::vector<std::unique_ptr<StatefulProxy>> proxies;
    for (int i = 0; i < threads; ++i) {
      loops.push_back(std::make_unique<boost::asio::io_context>(1));
      proxies.push_back(std::make_unique<StatefulProxy>(*loops.back(), config));
      config.port = proxies.front()->port();  // the others join the port the first one got
      if (config.tls) config.tls->port = proxies.front()->tls_port();
    }
    if (threads > 1) {
      std::vector<StatefulProxy*> all;
      for (const auto& p : proxies) all.push_back(p.get());
      StatefulProxy::join_loops(all);
    }
    auto& io = *loops.front();
    auto& proxy = *proxies.front();
    std::string steering = threads > 1 ? "kernel" : "none";  // as ng911-esrp says it
    std::unique_ptr<ng911::dataplane::CallIdSteering> steer;
    if (threads > 1 && vm["steer-call-id"].as<bool>()) {
      std::vector<int> fds;
      for (const auto& p : proxies) fds.push_back(p->udp_socket_fd());
      std::string why;
      if ((steer = ng911::dataplane::steer_if_possible(fds, why))) steering = "call-id";
      else
        std::cerr << "{\"event\":\"steering_unavailable\",\"why\":\"" << why
                  << "\",\"fallback\":\"the kernel's 4-tuple hash\"}" << std::endl;
    }
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
      for (auto& l : loops) l->stop();
    });
    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) workers.emplace_back([&, i] { loops[i]->run(); });
    std::cerr << "{\"event\":\"listening\",\"address\":\"" << config.address << "\",\"port\":" << proxy.port()
              << ",\"tls_port\":" << proxy.tls_port() << ",\"threads\":" << threads << ",\"steering\":\"" << steering
              << "\"}"
              << std::endl;
    io.run();
    for (auto& w : workers) w.join();
    ProxyCounters c;
    std::string per_loop;  // requests each loop handled: how the port's datagrams were spread
    for (const auto& p : proxies) {
      per_loop += (per_loop.empty() ? "" : ",") + std::to_string(p->counters().requests);
      c += p->counters();
    }
    std::cerr << "{\"event\":\"stopped\",\"requests\":" << c.requests << ",\"responses\":" << c.responses
              << ",\"forwarded\":" << c.forwarded << ",\"rejected\":" << c.rejected
              << ",\"retransmissions_absorbed\":" << c.retransmissions_absorbed << ",\"timeouts\":" << c.timeouts
              << ",\"transport_failures\":" << c.transport_failures << ",\"malformed\":" << c.malformed
              << ",\"retargets\":" << c.retargets << ",\"branch_timeouts\":" << c.branch_timeouts
              << ",\"large_over_tcp\":" << c.large_over_tcp << ",\"udp_fallbacks\":" << c.udp_fallbacks
              << ",\"handed_off\":" << c.handed_off << ",\"dns_waits\":" << c.dns_waits
              << ",\"dns_failures\":" << c.dns_failures
              << ",\"requests_per_loop\":[" << per_loop << "]}"
              << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ng911-sip-proxy: " << e.what() << "\n";
    return 2;
  }
}
