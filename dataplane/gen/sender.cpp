#include "dataplane/gen/sender.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "dataplane/xdp.h"
#include "pktgen_send.skel.h"

namespace ng911::dataplane::gen {
namespace {

using Clock = std::chrono::steady_clock;

std::runtime_error system_error(const std::string& what, int err) {
  return std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
}

struct SkeletonDeleter {
  void operator()(pktgen_send* s) const { pktgen_send__destroy(s); }
};

// What the sending threads share. Counts per kind: left to send (count-bounded runs) and sent.
struct Shared {
  std::array<std::atomic<std::uint64_t>, kind_count> left{}, sent{};
  std::atomic<std::uint64_t> next_number{0};
  std::atomic<unsigned> running{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;
};

// Takes up to n of what is left of a kind; 0 when nothing is.
std::uint64_t reserve(std::atomic<std::uint64_t>& left, std::uint64_t n) {
  auto have = left.load();
  while (have && !left.compare_exchange_weak(have, have - std::min(have, n))) {
  }
  return std::min(have, n);
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set); rc != 0)
    throw system_error("pinning a sender to CPU " + std::to_string(cpu), rc);
}

struct Worker {
  const SendOptions& options;
  const std::vector<Template>& templates;  // by kind
  Shared& shared;
  const std::atomic<bool>& stop;
  Clock::time_point deadline;
  int program_fd, params_fd, ifindex;

  void run(int cpu) {
    pin_to(cpu);
    if (cpu < 0 || static_cast<unsigned>(cpu) >= NG911_PKTGEN_MAX_CPUS) throw std::runtime_error("CPU number too high");
    double rate = options.rate / static_cast<double>(options.cpus.size());
    // Paced runs send smaller bursts: about 200 runs a second at most. Each run costs a few
    // hundred microseconds more than its packets (and on a busy machine a reschedule), which
    // smaller bursts would turn into missed rates.
    std::uint64_t chunk = options.chunk;
    if (rate > 0) chunk = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(rate / 200), 1, chunk);
    unsigned rarest = ~0u;
    for (auto w : options.mix.weights)
      if (w) rarest = std::min(rarest, w);
    std::uint64_t unit = (chunk + rarest - 1) / rarest;
    auto due = Clock::now();
    for (;;) {
      bool any = false;
      for (std::size_t k = 0; k < kind_count; ++k) {
        if (!options.mix.weights[k]) continue;
        if (stop || shared.failed || Clock::now() >= deadline) return;
        std::uint64_t n = unit * options.mix.weights[k];
        if (options.count) n = reserve(shared.left[k], n);
        if (!n) continue;
        any = true;
        if (rate > 0) {
          auto now = Clock::now();
          // Fell far behind (a stalled machine): start afresh rather than catch up in a burst.
          if (now - due > std::chrono::seconds(1)) due = now;
          std::this_thread::sleep_until(due);
          due += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(static_cast<double>(n) / rate));
        }
        send(cpu, templates[k], n);
        shared.sent[k] += n;
      }
      if (!any) return;
    }
  }

  void send(int cpu, const Template& t, std::uint64_t n) {
    ng911_pktgen_params params{};
    std::memcpy(params.header, t.frame.data(), NG911_PKTGEN_HEADER_LEN);
    params.call_id_at = t.call_id_at;
    params.branch_at = t.branch_at;
    params.sources = t.sources;
    params.number = options.run_id << 40 | shared.next_number.fetch_add(n);
    __u32 key = static_cast<__u32>(cpu);
    if (bpf_map_update_elem(params_fd, &key, &params, BPF_ANY) != 0) throw system_error("writing the parameters", errno);
    xdp_md ctx{};
    ctx.data_end = static_cast<__u32>(t.frame.size());
    ctx.ingress_ifindex = static_cast<__u32>(ifindex);
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = t.frame.data(), .data_size_in = static_cast<__u32>(t.frame.size()),
                .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = static_cast<int>(n),
                .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
    if (bpf_prog_test_run_opts(program_fd, &run) != 0) throw system_error("BPF_PROG_RUN (live frames)", errno);
  }
};

SendReport snapshot(Shared& shared, Clock::time_point start) {
  SendReport r;
  for (std::size_t k = 0; k < kind_count; ++k) r.sent[k] = shared.sent[k].load();
  r.elapsed = Clock::now() - start;
  return r;
}

}  // namespace

std::uint64_t SendReport::total() const {
  std::uint64_t t = 0;
  for (auto n : sent) t += n;
  return t;
}

double SendReport::rate() const { return elapsed.count() > 0 ? static_cast<double>(total()) / elapsed.count() : 0; }

Mac interface_mac(const std::string& interface) {
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) throw system_error("socket", errno);
  ifreq req{};
  if (interface.size() >= sizeof req.ifr_name) throw std::runtime_error("interface name too long: " + interface);
  std::memcpy(req.ifr_name, interface.c_str(), interface.size());
  if (::ioctl(sock.get(), SIOCGIFHWADDR, &req) != 0) throw system_error("no interface " + interface, errno);
  Mac mac{};
  std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

std::uint64_t clock_run_id() {
  auto ns = std::chrono::system_clock::now().time_since_epoch() / std::chrono::nanoseconds(1);
  return static_cast<std::uint64_t>(ns / 1000) & 0xffffff;
}

SendReport send_live(const SendOptions& options, const std::function<void(const SendReport&)>& progress,
                     const std::atomic<bool>& stop) {
  if (options.cpus.empty()) throw std::invalid_argument("no CPU to send from");
  if (options.mix.total() == 0) throw std::invalid_argument("an empty mix");
  int ifindex = static_cast<int>(if_nametoindex(options.interface.c_str()));
  if (ifindex == 0) throw system_error("no interface " + options.interface, errno);
  Endpoints endpoints = options.endpoints;
  if (endpoints.src_mac == Mac{}) endpoints.src_mac = interface_mac(options.interface);
  std::vector<Template> templates;
  for (auto kind : all_kinds) templates.push_back(make_template(kind, endpoints));

  std::unique_ptr<pktgen_send, SkeletonDeleter> skel(pktgen_send__open_and_load());
  if (!skel) throw system_error("loading the generator's XDP program", errno);

  Shared shared;
  if (options.count) {
    auto counts = apportion(options.mix, options.count);
    for (std::size_t k = 0; k < kind_count; ++k) shared.left[k] = counts[k];
  }
  auto start = Clock::now();
  Worker worker{options,
                templates,
                shared,
                stop,
                start + std::chrono::duration_cast<Clock::duration>(options.duration),
                bpf_program__fd(skel->progs.ng911_pktgen),
                bpf_map__fd(skel->maps.ng911_pktgen_params_map),
                ifindex};
  std::vector<std::jthread> threads;
  shared.running = static_cast<unsigned>(options.cpus.size());
  for (int cpu : options.cpus) {
    threads.emplace_back([&worker, &shared, cpu] {
      try {
        worker.run(cpu);
      } catch (const std::exception& e) {
        std::lock_guard lock(shared.error_mutex);
        if (shared.error.empty()) shared.error = e.what();
        shared.failed = true;
      }
      --shared.running;
    });
  }
  auto next_report = start + std::chrono::seconds(1);
  while (shared.running) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (Clock::now() >= next_report && shared.running) {
      progress(snapshot(shared, start));
      next_report += std::chrono::seconds(1);
    }
  }
  threads.clear();
  auto report = snapshot(shared, start);
  if (shared.failed) throw std::runtime_error(shared.error);
  return report;
}

}  // namespace ng911::dataplane::gen
