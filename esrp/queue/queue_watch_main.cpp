// ng911-queue-watch: subscribes to PSAP queues' emergency-QueueState, as the ESRP does, and
// prints one JSON line per change of a queue's state on stdout: for operators checking what a
// PSAP tells the ESRP, and for interop tests against other notifiers.
#include <csignal>
#include <ctime>
#include <iostream>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "queue/queue_monitor.h"

namespace po = boost::program_options;
using namespace ng911;

namespace {

std::string utc_time(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string line(const esrp::QueueInfo& q) {
  nlohmann::ordered_json j;
  j["queue"] = q.uri;
  j["state"] = q.status ? nlohmann::ordered_json(std::string(esrp::queue_status_name(*q.status))) : nlohmann::ordered_json();
  j["length"] = q.length;
  j["max"] = q.max_length;
  j["subscribed"] = q.subscribed;
  j["reason"] = q.reason;
  j["updated"] = q.updated.time_since_epoch().count() ? nlohmann::ordered_json(utc_time(q.updated)) : nlohmann::ordered_json();
  return j.dump();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    po::options_description desc(
        "ng911-queue-watch: subscribe to PSAP queues (NENA i3 emergency-QueueState) and print each change as a JSON "
        "line. Options");
    std::string listen = "127.0.0.1:0";
    std::vector<std::string> queues;
    desc.add_options()("help,h", "this help")("queue", po::value(&queues)->composing(),
                                              "SIP URI of a PSAP queue (literal address); repeat for more")(
        "listen", po::value(&listen)->default_value(listen), "ADDRESS:PORT to subscribe from (0: any free port)")(
        "expires", po::value<long>()->default_value(3600), "subscription duration asked for, in seconds")(
        "retry-ms", po::value<long>()->default_value(5000), "wait before subscribing again after a failure (doubled each time)")(
        "max-retry-ms", po::value<long>()->default_value(60000), "longest wait between tries")(
        "from", po::value<std::string>()->default_value("sip:esrp@127.0.0.1"), "our URI (From)")(
        "duration-ms", po::value<long>()->default_value(0), "exit after this long (0: at SIGINT/SIGTERM)")(
        "t1-ms", po::value<long>()->default_value(500), "RFC 3261 T1");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (queues.empty()) throw std::runtime_error("no --queue to watch");
    if (vm["expires"].as<long>() < 1 || vm["retry-ms"].as<long>() < 1 || vm["t1-ms"].as<long>() < 1)
      throw std::runtime_error("--expires, --retry-ms and --t1-ms must be positive");

    esrp::QueueMonitorConfig config;
    sip::Endpoint where = sip::parse_endpoint(listen);
    config.address = where.address.to_string();
    config.port = where.port;
    config.queues = queues;
    config.expires = std::chrono::seconds(vm["expires"].as<long>());
    config.retry_interval = std::chrono::milliseconds(vm["retry-ms"].as<long>());
    config.max_retry_interval = std::chrono::milliseconds(vm["max-retry-ms"].as<long>());
    config.from_uri = vm["from"].as<std::string>();
    config.timers.t1 = std::chrono::milliseconds(vm["t1-ms"].as<long>());

    boost::asio::io_context io(1);
    esrp::QueueMonitor monitor(io, config, [](const esrp::QueueInfo& q) { std::cout << line(q) << std::endl; });
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
    boost::asio::steady_timer deadline(io);
    if (long ms = vm["duration-ms"].as<long>(); ms > 0) {
      deadline.expires_after(std::chrono::milliseconds(ms));
      deadline.async_wait([&](boost::system::error_code ec) {
        if (!ec) io.stop();
      });
    }
    std::cerr << "{\"event\":\"listening\",\"address\":\"" << config.address << "\",\"port\":" << monitor.port()
              << ",\"queues\":" << queues.size() << "}" << std::endl;
    io.run();

    // Leave no subscription behind: unsubscribe, and wait (a little) for the PSAPs' last word.
    signals.cancel();
    deadline.cancel();
    monitor.set_queues({});
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (monitor.unsubscribing() && std::chrono::steady_clock::now() < give_up) {
      io.restart();
      io.run_for(std::chrono::milliseconds(20));
    }
    const auto& c = monitor.counters();
    std::cerr << "{\"event\":\"stopped\",\"subscribes\":" << c.subscribes << ",\"refreshes\":" << c.refreshes
              << ",\"failures\":" << c.failures << ",\"notifies\":" << c.notifies << ",\"bad_notifies\":" << c.bad_notifies
              << ",\"unknown_notifies\":" << c.unknown_notifies << "}" << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ng911-queue-watch: " << e.what() << "\n";
    return 2;
  }
}
