#include "service/config.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

namespace ng911::esrp {

namespace po = boost::program_options;

std::optional<EsrpOptions> parse_options(int argc, char** argv) {
  EsrpOptions o;
  std::string listen = "127.0.0.1:5060", default_location, config_file, call_log_db = "default";
  std::vector<std::string> lost, defaults;
  po::options_description desc(
      "ng911-esrp: the Emergency Services Routing Proxy (NENA i3 ESRP)\n"
      "Routes each emergency call (INVITE, MESSAGE) by the caller's location through the ECRF\n"
      "(LoST), the policy rules and the PSAP queues' state, with failover to the default and\n"
      "last-resort routes. Options (also as `name = value` lines in --config FILE)");
  long lost_timeout = 1000, held_timeout = 1500, ring = 20000, t1 = 500, poll = 2000, qexp = 3600, qretry = 5000,
       drain = 30000;
  std::size_t max_pending = o.max_pending;
  int threads = o.threads;
  std::string tls_cert, tls_key, tls_ca, last_resort, id = o.router.esrp_id, policy, http = o.http, spool = o.spool_dir;
  std::vector<std::string> queues, dns_servers;
  long dns_timeout = o.dns.timeout.count();
  int tls_port = 0;
  bool tls_client_cert = false, no_queue_subscriptions = false;
  std::string lost_ca, held_ca, resource_priority = "esnet.1";
  desc.add_options()("help,h", "this help")("config", po::value(&config_file), "FILE with `name = value` lines")(
      "listen", po::value(&listen)->default_value(listen), "ADDRESS:PORT for SIP over UDP and TCP")(
      "tls-cert", po::value(&tls_cert), "PEM certificate: SIP over TLS on --tls-port")(
      "tls-key", po::value(&tls_key), "PEM private key of --tls-cert")(
      "tls-ca", po::value(&tls_ca), "CA file that peers' certificates must chain to")(
      "tls-port", po::value(&tls_port)->default_value(0), "TLS port (0: the SIP port + 1, e.g. 5061)")(
      "tls-require-client-cert", po::bool_switch(&tls_client_cert), "mutual TLS")(
      "http", po::value(&http)->default_value(http), "ADDRESS:PORT of /metrics and /healthz (\"off\": none)")(
      "lost", po::value(&lost)->composing(), "LoST server URL (http://127.0.0.1:8180/); repeat for failover, in order")(
      "lost-timeout-ms", po::value(&lost_timeout)->default_value(lost_timeout), "per LoST server")(
      "lost-cache-entries", po::value(&o.router.ecrf.cache_entries)->default_value(o.router.ecrf.cache_entries),
      "LoST answers kept until they expire, at most (0: none); full, the one that expires first goes")(
      "lost-ca", po::value(&lost_ca), "CA file for https LoST servers")(
      "held-timeout-ms", po::value(&held_timeout)->default_value(held_timeout), "HELD dereference of a location by reference")(
      "held-ca", po::value(&held_ca), "CA file for https location references")(
      "default-route", po::value(&defaults)->composing(), "\"SERVICE URI\": where a service's calls go when the ECRF cannot say")(
      "last-resort", po::value(&last_resort), "SIP URI tried when every other route failed")(
      "default-location", po::value(&default_location),
      "\"LAT LON [RADIUS_M]\": routed on and inserted when a call has no usable location")(
      "policy", po::value(&policy), "policy rule file (JSON, docs/policy.md); reloaded on change and on SIGHUP")(
      "policy-poll-ms", po::value(&poll)->default_value(poll), "how often the rule file is checked for changes")(
      "queue", po::value(&queues)->composing(), "PSAP queue URI to watch (emergency-QueueState) besides the rules' ones")(
      "no-queue-subscriptions", po::bool_switch(&no_queue_subscriptions), "do not SUBSCRIBE to queue state")(
      "queue-expires", po::value(&qexp)->default_value(qexp), "seconds a queue state subscription lasts")(
      "queue-retry-ms", po::value(&qretry)->default_value(qretry), "retry of a failed queue state subscription")(
      "call-log-db", po::value(&call_log_db)->default_value(call_log_db),
      "PostgreSQL conninfo of the call log; \"default\": the local database (PG* variables, else 127.0.0.1:55432); \"off\": none")(
      "spool-dir", po::value(&spool)->default_value(spool), "call log events wait here until PostgreSQL has them")(
      "dns-server", po::value(&dns_servers)->composing(),
      "IPV4ADDRESS[:PORT] of a DNS server for route URIs with host names (RFC 3263: NAPTR, SRV, A/AAAA); repeat "
      "for more; none: the system's (/etc/resolv.conf, /etc/hosts)")(
      "dns-timeout-s", po::value(&dns_timeout)->default_value(dns_timeout), "per DNS query and server (2 tries)")(
      "ring-timeout-ms", po::value(&ring)->default_value(ring), "ring-no-answer per route before the next one")(
      "resource-priority", po::value(&resource_priority)->default_value(resource_priority), "added when a call has none")(
      "id", po::value(&id)->default_value(id), "this ESRP's domain: in the call and incident ids it makes")(
      "max-pending", po::value(&max_pending)->default_value(max_pending),
      "requests awaiting an answer beyond which non-emergency requests are refused (503); emergency calls never are")(
      "drain-timeout-ms", po::value(&drain)->default_value(drain), "on SIGTERM: how long calls under way may take")(
      "threads", po::value(&threads)->default_value(threads),
      "SIP event loops sharing the port (1-64); UDP is steered to them by Call-ID (needs CAP_BPF, else the kernel's "
      "4-tuple hash)")(
      "t1-ms", po::value(&t1)->default_value(t1), "RFC 3261 T1");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  if (vm.count("config")) {
    std::ifstream in(vm["config"].as<std::string>());
    if (!in) throw std::runtime_error("--config " + vm["config"].as<std::string>() + ": cannot read");
    po::store(po::parse_config_file(in, desc), vm);
  }
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return std::nullopt;
  }
  o.listen = sip::parse_endpoint(listen);
  if (!tls_cert.empty() || !tls_key.empty()) {
    if (tls_cert.empty() || tls_key.empty()) throw std::runtime_error("--tls-cert and --tls-key go together");
    o.tls = sip::TlsConfig{tls_cert, tls_key, tls_ca, static_cast<std::uint16_t>(tls_port), tls_client_cert};
  }
  o.http = http == "off" ? "" : http;
  o.router.esrp_id = id;
  o.router.ecrf.servers = lost;
  o.router.ecrf.timeout = std::chrono::milliseconds(lost_timeout);
  o.router.ecrf.ca_file = lost_ca;
  o.router.held.timeout = std::chrono::milliseconds(held_timeout);
  o.router.held.ca_file = held_ca;
  o.router.resource_priority = resource_priority;
  for (const auto& d : defaults) {
    std::istringstream in(d);
    std::string service, uri;
    if (!(in >> service >> uri)) throw std::runtime_error("--default-route '" + d + "': expected SERVICE URI");
    o.router.default_routes[service] = uri;
  }
  o.router.last_resort = last_resort;
  for (const auto& server : dns_servers) o.dns.servers.push_back(sip::parse_dns_server(server));
  if (dns_timeout < 1 || dns_timeout > 30) throw std::runtime_error("--dns-timeout-s: 1 to 30");
  o.dns.timeout = std::chrono::seconds(dns_timeout);
  if (!default_location.empty()) {
    std::istringstream in(default_location);
    double lat = 0, lon = 0, radius = 0;
    if (!(in >> lat >> lon)) throw std::runtime_error("--default-location '" + default_location + "': expected LAT LON [RADIUS_M]");
    in >> radius;
    o.router.default_location = make_default_location(lat, lon, radius, id);
  }
  o.policy_file = policy;
  o.policy_poll = std::chrono::milliseconds(poll);
  o.queues = queues;
  o.queue_subscriptions = !no_queue_subscriptions;
  o.queue_expires = std::chrono::seconds(qexp);
  o.queue_retry = std::chrono::milliseconds(qretry);
  if (call_log_db == "off") o.call_log = false;
  else if (call_log_db != "default") o.call_log_db = call_log_db;
  o.spool_dir = spool;
  o.ring_timeout = std::chrono::milliseconds(ring);
  o.t1 = std::chrono::milliseconds(t1);
  o.max_pending = max_pending;
  o.drain_timeout = std::chrono::milliseconds(drain);
  if (threads < 1 || threads > 64) throw std::runtime_error("--threads " + std::to_string(threads) + ": 1 to 64");
  o.threads = threads;
  return o;
}

}  // namespace ng911::esrp
