#include "dataplane/gen/counter.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

#include "pktgen_count.skel.h"

namespace ng911::dataplane::gen {

struct Counter::Impl {
  struct Deleter {
    void operator()(pktgen_count* s) const { pktgen_count__destroy(s); }
  };
  std::unique_ptr<pktgen_count, Deleter> skel;
  std::optional<XdpAttachment> attachment;  // detached before the program goes
  ~Impl() { attachment.reset(); }
};

Counter::Counter(const CounterOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->skel.reset(pktgen_count__open());
  if (!impl_->skel) throw std::runtime_error(std::string("opening the counting program: ") + std::strerror(errno));
  auto* ro = impl_->skel->rodata;
  ro->count_port = htons(options.port);
  if (!options.pass_from.empty()) {
    in_addr a{};
    if (inet_pton(AF_INET, options.pass_from.c_str(), &a) != 1)
      throw std::invalid_argument("not an IPv4 address: " + options.pass_from);
    ro->pass_from = a.s_addr;
  }
  ro->counted_verdict = options.pass_counted ? XDP_PASS : XDP_DROP;
  if (int rc = pktgen_count__load(impl_->skel.get()); rc != 0)
    throw std::runtime_error(std::string("loading the counting program: ") + std::strerror(-rc));
  impl_->attachment.emplace(options.interface, bpf_program__fd(impl_->skel->progs.ng911_count), options.mode);
}

Counter::~Counter() = default;

AttachMode Counter::mode() const { return impl_->attachment->mode(); }

Received Counter::read() const {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) throw std::runtime_error("counting CPUs failed");
  std::vector<ng911_pktgen_counts> per_cpu(static_cast<std::size_t>(cpus));
  __u32 key = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.ng911_count_map), &key, per_cpu.data()) != 0)
    throw std::runtime_error(std::string("reading the counters: ") + std::strerror(errno));
  Received r;
  for (const auto& c : per_cpu) {
    r.packets += c.packets;
    r.bytes += c.bytes;
    for (std::size_t k = 0; k < kind_count; ++k) r.kinds[k] += c.kinds[k];
  }
  return r;
}

}  // namespace ng911::dataplane::gen
