#include "controller.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "http/server.h"
#include "server/log.h"
#include "sip/builder.h"
#include "sip/message.h"

namespace ng911::dataplane {
namespace asio = boost::asio;
using namespace std::chrono_literals;

const char* class_name(int klass) {
  static constexpr const char* names[] = {"non_sip",  "emergency_invite", "invite",    "emergency_request", "request",
                                          "response", "keepalive",        "malformed", "tcp",               "fragment"};
  return klass >= 0 && klass < NG911_CLASS_COUNT ? names[klass] : "?";
}

const char* outcome_name(int outcome) {
  static constexpr const char* names[] = {"tx",           "redirect",      "pass_no_backend", "pass_family",
                                          "request_flood", "invite_flood", "malformed",       "call_id_fallback",
                                          "drain_kept",    "drain_pinned"};
  static_assert(std::size(names) == NG911_OUT_COUNT);
  return outcome >= 0 && outcome < NG911_OUT_COUNT ? names[outcome] : "?";
}

ng911_config kernel_config(const ControllerConfig& c) {
  ng911_config k{};
  if (c.guard) k.flags |= NG911_CFG_GUARD;
  if (c.sip_ports.size() > NG911_MAX_SIP_PORTS) throw std::invalid_argument("at most 4 SIP ports");
  for (std::size_t i = 0; i < c.sip_ports.size(); ++i) k.sip_ports[i] = htons(c.sip_ports[i]);
  for (const auto& vip : c.vips) {
    if (inet_pton(AF_INET, vip.c_str(), &k.vip4) == 1) {
      k.flags |= NG911_CFG_VIP4;
    } else if (inet_pton(AF_INET6, vip.c_str(), k.vip6) == 1) {
      k.flags |= NG911_CFG_VIP6;
    } else {
      throw std::invalid_argument("not an IP address: " + vip);
    }
  }
  auto bucket = [](double rate, double burst) {
    if (rate <= 0 || burst < 1) throw std::invalid_argument("rates must be > 0 and bursts >= 1");
    auto cost = static_cast<__u64>(std::llround(1e9 / rate));
    return ng911_bucket_config{cost, static_cast<__u64>(std::llround(burst)) * cost};
  };
  k.request = bucket(c.request_rate, c.request_burst);
  k.invite = bucket(c.invite_rate, c.invite_burst);
  return k;
}

std::string format_stats(const ng911_stats& now, const ng911_stats* before, double seconds) {
  std::ostringstream out;
  auto line = [&](const char* group, const char* name, int i) {
    char buf[128];
    if (before && seconds > 0)
      std::snprintf(buf, sizeof buf, "%-8s %-18s %14llu %12.1f/s\n", group, name,
                    static_cast<unsigned long long>(now.packets[i]),
                    static_cast<double>(now.packets[i] - before->packets[i]) / seconds);
    else
      std::snprintf(buf, sizeof buf, "%-8s %-18s %14llu\n", group, name, static_cast<unsigned long long>(now.packets[i]));
    out << buf;
  };
  for (int c = 0; c < NG911_CLASS_COUNT; ++c) line("class", class_name(c), c);
  for (int o = 0; o < NG911_OUT_COUNT; ++o) line("outcome", outcome_name(o), NG911_OUTCOME(o));
  return out.str();
}

std::string prometheus_stats(const ng911_stats& s) {
  std::string out =
      "# HELP ng911_dataplane_packets_total Packets seen by the XDP program, by class.\n"
      "# TYPE ng911_dataplane_packets_total counter\n";
  for (int c = 0; c < NG911_CLASS_COUNT; ++c)
    out += "ng911_dataplane_packets_total{class=\"" + std::string(class_name(c)) + "\"} " +
           std::to_string(s.packets[c]) + "\n";
  out += "# HELP ng911_dataplane_forwarded_total SIP packets forwarded to a backend, by how.\n"
         "# TYPE ng911_dataplane_forwarded_total counter\n";
  for (int o : {NG911_OUT_TX, NG911_OUT_REDIRECT})
    out += "ng911_dataplane_forwarded_total{via=\"" + std::string(outcome_name(o)) + "\"} " +
           std::to_string(s.packets[NG911_OUTCOME(o)]) + "\n";
  out += "# HELP ng911_dataplane_dropped_total Packets dropped, by reason.\n"
         "# TYPE ng911_dataplane_dropped_total counter\n";
  for (int o : {NG911_OUT_DROP_REQUEST_FLOOD, NG911_OUT_DROP_INVITE_FLOOD, NG911_OUT_DROP_MALFORMED})
    out += "ng911_dataplane_dropped_total{reason=\"" + std::string(outcome_name(o)) + "\"} " +
           std::to_string(s.packets[NG911_OUTCOME(o)]) + "\n";
  out += "# HELP ng911_dataplane_passed_total SIP packets left to the kernel's stack, by reason.\n"
         "# TYPE ng911_dataplane_passed_total counter\n";
  for (int o : {NG911_OUT_PASS_NO_BACKEND, NG911_OUT_PASS_FAMILY})
    out += "ng911_dataplane_passed_total{reason=\"" + std::string(outcome_name(o)) + "\"} " +
           std::to_string(s.packets[NG911_OUTCOME(o)]) + "\n";
  out += "# HELP ng911_dataplane_call_id_fallback_total SIP packets hashed on the 5-tuple: no Call-ID in the window.\n"
         "# TYPE ng911_dataplane_call_id_fallback_total counter\n"
         "ng911_dataplane_call_id_fallback_total " + std::to_string(s.packets[NG911_OUTCOME(NG911_OUT_CALLID_FALLBACK)]) + "\n";
  out += "# HELP ng911_dataplane_drain_total Messages during a drain: calls in progress kept on their backend, calls "
         "begun on a moved slot pinned.\n"
         "# TYPE ng911_dataplane_drain_total counter\n";
  for (int o : {NG911_OUT_DRAIN_KEPT, NG911_OUT_DRAIN_PINNED})
    out += "ng911_dataplane_drain_total{what=\"" + std::string(outcome_name(o) + 6) + "\"} " +
           std::to_string(s.packets[NG911_OUTCOME(o)]) + "\n";
  return out;
}

std::string control_request(const std::string& socket_path, const std::string& request) {
  asio::io_context io;
  asio::local::stream_protocol::socket socket(io);
  boost::system::error_code ec;
  socket.connect(asio::local::stream_protocol::endpoint(socket_path), ec);
  if (ec) throw std::runtime_error("cannot reach " + socket_path + " (is ng911-dataplane running?): " + ec.message());
  asio::write(socket, asio::buffer(request + "\n"));
  socket.shutdown(asio::socket_base::shutdown_send);
  std::string reply;
  char buf[4096];
  while (true) {
    std::size_t n = socket.read_some(asio::buffer(buf), ec);
    reply.append(buf, n);
    if (ec) break;
  }
  return reply;
}

namespace {

std::optional<Mac> interface_mac(const std::string& device) {
  // An ioctl rather than /sys, which shows the mount's network namespace, not ours.
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  Fd owner(fd);
  ifreq req{};
  std::strncpy(req.ifr_name, device.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFHWADDR, &req) != 0) return std::nullopt;
  Mac mac;
  std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, 6);
  return mac;
}

// The IPv4 neighbour table's entry for address: its MAC and interface.
std::optional<std::pair<Mac, std::string>> neighbour(const std::string& address) {
  std::ifstream arp("/proc/net/arp");
  std::string line;
  std::getline(arp, line);
  while (std::getline(arp, line)) {
    std::istringstream fields(line);
    std::string ip, type, flags, mac, mask, device;
    fields >> ip >> type >> flags >> mac >> mask >> device;
    if (ip != address || std::stoul(flags, nullptr, 16) == 0) continue;  // 0: incomplete
    if (auto m = parse_mac(mac)) return std::make_pair(*m, device);
  }
  return std::nullopt;
}

// One backend's health: an OPTIONS every interval on a socket connected to it.
struct Probe {
  asio::ip::udp::socket socket;
  std::array<char, 65536> buffer{};
  std::chrono::steady_clock::time_point last_answer{};
  unsigned sent = 0;
  explicit Probe(asio::io_context& io) : socket(io) {}
};

class Controller {
 public:
  Controller(const ControllerConfig& config, DataplaneTables& tables, LinkResolver& links, const ServeHooks& hooks)
      : config_(config), tables_(tables), links_(links), hooks_(hooks), pool_(tables), signals_(io_, SIGINT, SIGTERM),
        tick_(io_), stop_check_(io_), control_(io_) {}

  int run() {
    pool_.set_config(kernel_config(config_));
    for (const auto& spec : config_.backends) add(spec);
    pool_.apply();
    snapshot();
    ::unlink(config_.control.c_str());
    control_.open();
    control_.bind(asio::local::stream_protocol::endpoint(config_.control));
    control_.listen();
    accept();
    signals_.async_wait([this](auto, int) {
      log_.write("info", "stopping", {});
      io_.stop();
    });
    if (config_.health_checks) tick();
    if (hooks_.stop_when) check_stop();
    io_.run();
    ::unlink(config_.control.c_str());
    return 0;
  }

  std::string backends_text() {
    std::lock_guard lock(snapshot_mutex_);
    return snapshot_;
  }

 private:
  void add(const BackendSpec& spec) {
    const auto& b = pool_.add(spec);
    if (auto link = links_.given(spec)) pool_.set_link(b.spec.name(), link->mac, link->ifindex, link->src_mac);
    if (!config_.health_checks) {
      pool_.set_healthy(b.spec.name(), true);
      log_.write("info", "backend_added", {{"backend", b.spec.name()}, {"weight", b.spec.weight}});
      return;
    }
    auto probe = std::make_unique<Probe>(io_);
    asio::ip::udp::endpoint to(asio::ip::make_address(spec.address), spec.port);
    probe->socket.open(to.protocol());
    probe->socket.connect(to);
    receive(b.spec.name(), *probe);
    probes_[b.spec.name()] = std::move(probe);
    log_.write("info", "backend_added", {{"backend", b.spec.name()}, {"weight", b.spec.weight}});
  }

  void check_stop() {
    stop_check_.expires_after(100ms);
    stop_check_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (hooks_.stop_when()) {
        log_.write("info", "stopping", {{"reason", "stop condition"}});
        io_.stop();
        return;
      }
      check_stop();
    });
  }

  void receive(const std::string& name, Probe& probe) {
    probe.socket.async_receive(asio::buffer(probe.buffer), [this, name, &probe](boost::system::error_code ec, std::size_t n) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto m = sip::Message::parse(std::string(probe.buffer.data(), n));
        // Any response shows a SIP server alive there (405 or 404 included).
        if (m.ok() && m.is_response() && m.call_id().starts_with("ng911-dp-health-")) {
          probe.last_answer = std::chrono::steady_clock::now();
          check(name);
        }
      }
      if (probes_.count(name)) receive(name, probe);
    });
  }

  void send_options(Probe& probe) {
    boost::system::error_code ec;
    auto local = probe.socket.local_endpoint(ec);
    auto remote = probe.socket.remote_endpoint(ec);
    if (ec) return;
    std::string host = local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string();
    std::string target = remote.address().is_v6() ? "[" + remote.address().to_string() + "]" : remote.address().to_string();
    std::string n = std::to_string(++probe.sent);
    auto options = std::make_shared<std::string>();
    *options = sip::MessageBuilder::request("OPTIONS", "sip:" + target + ":" + std::to_string(remote.port()))
                       .add("Via", "SIP/2.0/UDP " + host + ":" + std::to_string(local.port()) + ";branch=z9hG4bK-ng911dp-" + n)
                       .add("Max-Forwards", "70")
                       .add("From", "<sip:ng911-dataplane@" + host + ">;tag=ng911dp")
                       .add("To", "<sip:" + target + ">")
                       .add("Call-ID", "ng911-dp-health-" + n + "@" + host)
                       .add("CSeq", n + " OPTIONS")
                       .add("Accept", "application/sdp")
                       .str();
    probe.socket.async_send(asio::buffer(*options), [options](auto, auto) {});
  }

  // Health and link state of one backend; rewrites the table when something changed.
  void check(const std::string& name) {
    auto it = probes_.find(name);
    if (it == probes_.end()) return;
    auto& b = pool_.at(name);
    bool alive = it->second->last_answer.time_since_epoch().count() != 0 &&
                 std::chrono::steady_clock::now() - it->second->last_answer <= config_.dead_after;
    if (alive && !b.mac) {
      if (auto link = links_.learned(b.spec)) pool_.set_link(name, link->mac, link->ifindex, link->src_mac);
    }
    bool was_in = b.in_table();
    pool_.set_healthy(name, alive);
    if (was_in != b.in_table()) {
      auto slots = pool_.apply();
      log_.write(b.in_table() ? "info" : "warn", b.in_table() ? "backend_up" : "backend_down",
                 {{"backend", name}, {"slots_written", slots}});
      snapshot();
    }
  }

  void tick() {
    for (auto& [name, probe] : probes_) {
      send_options(*probe);
      check(name);
    }
    snapshot();
    tick_.expires_after(config_.health_interval);
    tick_.async_wait([this](boost::system::error_code ec) {
      if (!ec) tick();
    });
  }

  void snapshot() {
    std::ostringstream out;
    for (const auto& [name, b] : pool_.backends())
      out << name << " weight=" << b.spec.weight << " healthy=" << b.healthy << " drained=" << b.drained
          << " in_table=" << b.in_table() << " mac=" << (b.mac ? format_mac(*b.mac) : "?") << " ifindex=" << b.ifindex
          << "\n";
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = out.str();
  }

  void accept() {
    control_.async_accept([this](boost::system::error_code ec, asio::local::stream_protocol::socket peer) {
      if (ec) return;
      auto conn = std::make_shared<asio::local::stream_protocol::socket>(std::move(peer));
      auto buf = std::make_shared<asio::streambuf>(4096);
      asio::async_read_until(*conn, *buf, '\n', [this, conn, buf](boost::system::error_code rec, std::size_t) {
        std::string reply;
        if (!rec || rec == asio::error::eof) {
          std::istream in(buf.get());
          std::string line;
          std::getline(in, line);
          reply = command(line);
        }
        auto text = std::make_shared<std::string>(reply);
        asio::async_write(*conn, asio::buffer(*text), [conn, text](auto, auto) {});
      });
      accept();
    });
  }

  std::string command(const std::string& line) {
    std::istringstream words(line);
    std::string verb, arg, value;
    words >> verb >> arg >> value;
    try {
      if (verb == "list") {
        snapshot();
        return backends_text();
      }
      if (verb == "stats") return format_stats(tables_.read_stats()) + (hooks_.more_stats ? hooks_.more_stats() : "");
      if (verb == "add") {
        auto spec = parse_backend(arg);
        add(spec);
        if (auto it = probes_.find(spec.name()); it != probes_.end()) send_options(*it->second);
      } else if (verb == "remove") {
        pool_.at(arg);
        probes_.erase(arg);
        pool_.remove(arg);
      } else if (verb == "weight") {
        pool_.set_weight(arg, static_cast<std::uint32_t>(std::stoul(value)));
      } else if (verb == "drain" || verb == "undrain") {
        pool_.set_drained(arg, verb == "drain");
      } else {
        return "error: unknown command '" + verb + "' (add, remove, weight, drain, undrain, list, stats)\n";
      }
      auto slots = pool_.apply();
      log_.write("info", "backends_changed", {{"command", line}, {"slots_written", slots}});
      snapshot();
      return "ok " + std::to_string(slots) + " slots written\n";
    } catch (const std::exception& e) {
      return std::string("error: ") + e.what() + "\n";
    }
  }

  const ControllerConfig& config_;
  DataplaneTables& tables_;
  LinkResolver& links_;
  const ServeHooks& hooks_;
  BackendPool pool_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer tick_;
  asio::steady_timer stop_check_;
  asio::local::stream_protocol::acceptor control_;
  std::map<std::string, std::unique_ptr<Probe>> probes_;
  lost::Logger log_;
  std::mutex snapshot_mutex_;
  std::string snapshot_;
};

}  // namespace

std::optional<BackendLink> KernelLinks::given(const BackendSpec& spec) {
  if (!spec.mac || spec.device.empty()) return std::nullopt;
  int ifindex = static_cast<int>(if_nametoindex(spec.device.c_str()));
  auto src = interface_mac(spec.device);
  if (ifindex <= 0 || !src) return std::nullopt;
  return BackendLink{*spec.mac, ifindex, *src};
}

std::optional<BackendLink> KernelLinks::learned(const BackendSpec& spec) {
  if (spec.address.find(':') != std::string::npos) return std::nullopt;  // IPv6: give mac= and dev=
  auto n = neighbour(spec.address);
  if (!n) return std::nullopt;
  std::string device = spec.device.empty() ? n->second : spec.device;
  auto src = interface_mac(device);
  int ifindex = static_cast<int>(if_nametoindex(device.c_str()));
  if (!src || ifindex <= 0) return std::nullopt;
  return BackendLink{spec.mac.value_or(n->first), ifindex, *src};
}

int serve(const ControllerConfig& config, DataplaneTables& tables, LinkResolver& links, const ServeHooks& hooks) {
  Controller controller(config, tables, links, hooks);
  std::unique_ptr<http::Server> metrics;
  std::thread metrics_thread;
  lost::Logger log;
  if (!config.metrics.empty()) {
    http::ServerOptions so;
    auto colon = config.metrics.rfind(':');
    so.address = config.metrics.substr(0, colon);
    so.port = static_cast<unsigned short>(std::stoul(config.metrics.substr(colon + 1)));
    so.threads = 1;
    metrics = std::make_unique<http::Server>(so, [&tables, &controller](http::Request& req) -> asio::awaitable<http::Response> {
      http::Response r;
      if (req.target == "/metrics") {
        r.content_type = "text/plain; version=0.0.4";
        r.body = prometheus_stats(tables.read_stats());
      } else if (req.target == "/backends") {
        r.body = controller.backends_text();
      } else {
        r.status = 404;
        r.body = "not found\n";
      }
      co_return r;
    });
    log.write("info", "metrics", {{"address", so.address}, {"port", metrics->port()}});
    metrics_thread = std::thread([&] { metrics->run(); });
  }
  int rc = controller.run();
  if (metrics) {
    metrics->stop();
    metrics_thread.join();
  }
  return rc;
}

int run_controller(const ControllerConfig& config) {
  if (config.interfaces.empty()) throw std::invalid_argument("no interface to attach to (--dev)");
  XdpProgram program;
  program.maps().set_config(kernel_config(config));
  program.pin(config.pin_dir);
  std::vector<std::unique_ptr<XdpAttachment>> attached;
  lost::Logger log;
  for (const auto& dev : config.interfaces) {
    attached.push_back(std::make_unique<XdpAttachment>(dev, program.program_fd(), config.mode));
    log.write("info", "attached",
              {{"dev", dev}, {"mode", attached.back()->mode() == AttachMode::native ? "native" : "generic"}});
  }
  KernelLinks links;
  return serve(config, program.maps(), links);
}

}  // namespace ng911::dataplane
