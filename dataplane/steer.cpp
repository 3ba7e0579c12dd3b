#include "steer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "ng911_steer.skel.h"

namespace ng911::dataplane {
namespace {

std::runtime_error error(const std::string& what, int err) {
  return std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
}

}  // namespace

struct CallIdSteering::Impl {
  ng911_steer* skel = nullptr;
  ~Impl() {
    if (skel) ng911_steer__destroy(skel);
  }
};

CallIdSteering::CallIdSteering(std::span<const int> socket_fds) : impl_(std::make_unique<Impl>()) {
  if (socket_fds.empty() || socket_fds.size() > NG911_STEER_MAX_LOOPS)
    throw std::runtime_error("Call-ID steering: 1 to " + std::to_string(NG911_STEER_MAX_LOOPS) + " sockets, not " +
                             std::to_string(socket_fds.size()));
  impl_->skel = ng911_steer__open_and_load();
  if (!impl_->skel) throw error("loading the Call-ID steering program", errno);
  int sockets = bpf_map__fd(impl_->skel->maps.ng911_steer_sockets);
  for (std::uint32_t i = 0; i < socket_fds.size(); ++i) {
    std::uint64_t fd = static_cast<std::uint64_t>(socket_fds[i]);
    if (bpf_map_update_elem(sockets, &i, &fd, BPF_ANY) != 0)
      throw error("Call-ID steering: socket " + std::to_string(i) + " (SO_REUSEPORT UDP, bound?)", errno);
  }
  loops_ = static_cast<std::uint32_t>(socket_fds.size());
  // The configuration last: until it names the loops, every datagram keeps the kernel's hash.
  ng911_steer_config config{.loops = loops_};
  std::uint32_t zero = 0;
  if (bpf_map_update_elem(bpf_map__fd(impl_->skel->maps.ng911_steer_config_map), &zero, &config, BPF_ANY) != 0)
    throw error("Call-ID steering: configuration", errno);
  int program = bpf_program__fd(impl_->skel->progs.ng911_steer);
  if (::setsockopt(socket_fds[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &program, sizeof program) != 0)
    throw error("Call-ID steering: SO_ATTACH_REUSEPORT_EBPF", errno);
}

CallIdSteering::~CallIdSteering() = default;

ng911_steer_stats CallIdSteering::stats() const {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) throw error("counting CPUs", cpus);
  std::vector<ng911_steer_stats> per_cpu(static_cast<std::size_t>(cpus));
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.ng911_steer_stats_map), &zero, per_cpu.data()) != 0)
    throw error("reading the steering counters", errno);
  ng911_steer_stats total{};
  for (const auto& s : per_cpu)
    for (int i = 0; i < NG911_STEER_COUNT; ++i) total.datagrams[i] += s.datagrams[i];
  return total;
}

std::unique_ptr<CallIdSteering> steer_if_possible(std::span<const int> socket_fds, std::string& why) {
  try {
    return std::make_unique<CallIdSteering>(socket_fds);
  } catch (const std::exception& e) {
    why = e.what();
    return nullptr;
  }
}

}  // namespace ng911::dataplane
