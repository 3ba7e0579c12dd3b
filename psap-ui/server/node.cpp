#include "node.h"

#include <csignal>
#include <iostream>

#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include "db/conninfo.h"

namespace ng911::psap {

namespace po = boost::program_options;

namespace {

// "ADDRESS:PORT" (IPv6 in brackets).
std::pair<std::string, std::uint16_t> host_port(const std::string& text, const char* option) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument(std::string(option) + ": want ADDRESS:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) throw std::invalid_argument(std::string(option) + ": bad port in '" + text + "'");
  return {host, static_cast<std::uint16_t>(port)};
}

}  // namespace

std::optional<PsapOptions> parse_options(int argc, char** argv) {
  PsapOptions o;
  std::string listen = "127.0.0.1:5070", http = "127.0.0.1:8280", db;
  std::vector<std::string> queues;
  unsigned t1_ms = 500, held_timeout_ms = 3000, session_hours = 12, max_subscription_s = 3600;
  po::options_description d("ng911-psap: the PSAP endpoint (SIP queues, storage, console API)\n"
                            "  ng911-psap [OPTIONS]\n  ng911-psap user add NAME --role call-taker|supervisor  (password on stdin)\n\nOptions");
  d.add_options()("help,h", "this help")
      ("listen", po::value(&listen)->default_value(listen), "SIP address:port, UDP and TCP (port 0: any)")
      ("queue", po::value(&queues)->composing(), "a queue served here, as a SIP URI (repeat); default sip:psap-a@LISTEN")
      ("queue-max", po::value(&o.psap.queue_max)->default_value(o.psap.queue_max), "calls ringing at once per queue")
      ("esrp", po::value(&o.psap.esrp_uri)->default_value(o.psap.esrp_uri), "the ESRP that transfers are sent through")
      ("http", po::value(&http)->default_value(http), "console and API address:port (port 0: any)")
      ("db", po::value(&db), "PostgreSQL conninfo (default: PG* variables, then the local cluster)")
      ("console-dir", po::value(&o.api.console_dir)->default_value("psap-ui/console/dist"), "static files of the console")
      ("session-hours", po::value(&session_hours)->default_value(session_hours), "how long a login lasts")
      ("secure-cookie", po::bool_switch(&o.api.secure_cookie), "mark the session cookie Secure (behind TLS)")
      ("t1-ms", po::value(&t1_ms)->default_value(t1_ms), "SIP timer T1 in ms")
      ("held-timeout-ms", po::value(&held_timeout_ms)->default_value(held_timeout_ms), "a rebid's HELD dereference limit")
      ("max-subscription-s", po::value(&max_subscription_s)->default_value(max_subscription_s),
       "longest emergency-QueueState subscription granted");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
  if (vm.count("help")) {
    std::cout << d << "\n";
    return std::nullopt;
  }
  po::notify(vm);
  std::tie(o.psap.sip_address, o.psap.sip_port) = host_port(listen, "--listen");
  std::tie(o.http.address, o.http.port) = host_port(http, "--http");
  o.psap.queues = queues;
  o.psap.timers.t1 = std::chrono::milliseconds(t1_ms);
  o.psap.held.timeout = std::chrono::milliseconds(held_timeout_ms);
  o.psap.max_subscription = std::chrono::seconds(max_subscription_s);
  o.api.session_seconds = static_cast<int>(session_hours * 3600);
  if (vm.count("db")) o.db = db;
  return o;
}

int run_psap(const PsapOptions& options) {
  lost::Logger log;
  boost::asio::io_context io;
  Store store(db::resolve_conninfo(options.db));
  PsapConfig config = options.psap;
  std::unique_ptr<ConsoleServer> console;
  // The queue's default URI needs the SIP port, which port 0 only tells once bound: the
  // Psap takes the port first, then names its default queue after it.
  if (config.queues.empty()) {
    if (config.sip_port == 0) throw std::invalid_argument("--listen with port 0 needs --queue");
    config.queues.push_back("sip:psap-a@" + config.sip_address + ":" + std::to_string(config.sip_port));
  }
  Psap psap(io, config, store, log, [&console](const nlohmann::json& event) {
    if (console) console->broadcast(event);
  });
  Api api(psap, store, log, options.api);
  console = std::make_unique<ConsoleServer>(io, options.http, api, psap);
  api.extra_metrics = [&console] { return console->metrics(); };
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    log.write("info", "stopping", {});
    console->stop();
    io.stop();
  });
  std::string queues;
  for (const auto& q : config.queues) queues += (queues.empty() ? "" : " ") + q;
  log.write("info", "listening", {{"sip", config.sip_address + ":" + std::to_string(psap.sip_port())},
                                  {"http", options.http.address + ":" + std::to_string(console->port())},
                                  {"queues", queues}});
  io.run();
  log.flush();
  return 0;
}

int user_command(int argc, char** argv) {
  // argv: ng911-psap user add NAME --role ROLE [--db CONNINFO]
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 3 || args[0] != "user" || args[1] != "add") {
    std::cerr << "usage: ng911-psap user add NAME --role call-taker|supervisor [--db CONNINFO]  (password on stdin)\n";
    return 2;
  }
  std::string name = args[2];
  std::optional<Role> role;
  std::optional<std::string> db;
  for (std::size_t i = 3; i < args.size(); ++i) {
    if (args[i] == "--role" && i + 1 < args.size()) role = parse_role(args[++i]);
    else if (args[i] == "--db" && i + 1 < args.size()) db = args[++i];
    else {
      std::cerr << "ng911-psap user add: unknown argument '" << args[i] << "'\n";
      return 2;
    }
  }
  if (!role) {
    std::cerr << "ng911-psap user add: --role call-taker or --role supervisor\n";
    return 2;
  }
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() < 8) {
    std::cerr << "ng911-psap user add: the password (first line of stdin) needs at least 8 characters\n";
    return 1;
  }
  try {
    Store store(db::resolve_conninfo(db));
    store.add_user(name, *role, hash_password(password));
    store.audit("", "user add", std::nullopt, "ok", {{"user", name}, {"role", role_name(*role)}});
  } catch (const std::invalid_argument& e) {
    std::cerr << "ng911-psap user add: " << e.what() << "\n";
    return 1;
  }
  std::cout << "user " << name << " (" << role_name(*role) << ") added\n";
  return 0;
}

}  // namespace ng911::psap
