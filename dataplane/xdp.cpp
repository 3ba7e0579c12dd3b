#include "xdp.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "ng911_xdp.skel.h"

namespace ng911::dataplane {
namespace {

constexpr unsigned long kBpfFsMagic = 0xcafe4a11;

std::runtime_error error(const std::string& what, int err) {
  return std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
}

void check(int rc, const std::string& what) {
  if (rc < 0) throw error(what, errno ? errno : -rc);
}

}  // namespace

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

const char* DataplaneMaps::pin_name(Map m) {
  static constexpr const char* names[] = {"config", "stats", "maglev", "backends", "ports", "guard", "prior", "pins"};
  static_assert(std::size(names) == map_count_);
  return names[m];
}

DataplaneMaps DataplaneMaps::open_pinned(const std::string& dir) {
  DataplaneMaps maps;
  for (int m = 0; m < map_count_; ++m) {
    std::string path = dir + "/" + pin_name(static_cast<Map>(m));
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) throw error("cannot open pinned map " + path + " (is ng911-dataplane running?)", errno);
    maps.fds_[m] = Fd(fd);
  }
  return maps;
}

void DataplaneMaps::set_config(const ng911_config& config) {
  std::uint32_t key = 0;
  check(bpf_map_update_elem(fd(config_map), &key, &config, BPF_ANY), "writing the configuration");
}

ng911_config DataplaneMaps::config() const {
  std::uint32_t key = 0;
  ng911_config config{};
  check(bpf_map_lookup_elem(fd(config_map), &key, &config), "reading the configuration");
  return config;
}

void DataplaneMaps::set_backend(std::uint32_t index, const ng911_backend& backend) {
  check(bpf_map_update_elem(fd(backends_map), &index, &backend, BPF_ANY), "writing a backend");
}

namespace {

// table[s] into the array map for each slot s: one batched system call for the lot where the
// kernel offers it, slot by slot otherwise.
void write_array_slots(int map_fd, std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots,
                       const char* what) {
  if (slots.empty()) return;
  std::vector<std::uint32_t> keys(slots.begin(), slots.end()), values;
  values.reserve(slots.size());
  for (auto s : slots) values.push_back(table[s]);
  __u32 count = static_cast<__u32>(keys.size());
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  if (bpf_map_update_batch(map_fd, keys.data(), values.data(), &count, &opts) == 0 && count == keys.size()) return;
  for (std::size_t i = 0; i < keys.size(); ++i) check(bpf_map_update_elem(map_fd, &keys[i], &values[i], BPF_ANY), what);
}

}  // namespace

void DataplaneMaps::write_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) {
  write_array_slots(fd(maglev_map), table, slots, "writing the Maglev table");
}

void DataplaneMaps::write_prior_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) {
  write_array_slots(fd(prior_map), table, slots, "writing the prior table");
}

std::vector<std::uint32_t> DataplaneMaps::read_table() const {
  std::vector<std::uint32_t> table(NG911_MAGLEV_SIZE);
  for (std::uint32_t i = 0; i < NG911_MAGLEV_SIZE; ++i)
    check(bpf_map_lookup_elem(fd(maglev_map), &i, &table[i]), "reading the Maglev table");
  return table;
}

void DataplaneMaps::add_port(int ifindex) {
  __u32 key = static_cast<__u32>(ifindex), value = key;
  check(bpf_map_update_elem(fd(ports_map), &key, &value, BPF_ANY), "adding a redirect port");
}

ng911_stats DataplaneMaps::read_stats() const {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) throw error("counting CPUs", -cpus);
  std::vector<ng911_stats> per_cpu(static_cast<std::size_t>(cpus));
  std::uint32_t key = 0;
  check(bpf_map_lookup_elem(fd(stats_map), &key, per_cpu.data()), "reading the counters");
  ng911_stats total{};
  for (const auto& s : per_cpu)
    for (int i = 0; i < NG911_COUNTERS; ++i) total.packets[i] += s.packets[i];
  return total;
}

struct XdpProgram::Impl {
  ng911_xdp* skel = nullptr;
  DataplaneMaps maps;
  std::string pinned_dir;
  ~Impl() {
    if (skel) ng911_xdp__destroy(skel);
  }
};

XdpProgram::XdpProgram() : impl_(std::make_unique<Impl>()) {
  impl_->skel = ng911_xdp__open_and_load();
  if (!impl_->skel) throw error("loading the XDP program", errno);
  bpf_map* maps[] = {impl_->skel->maps.ng911_config_map, impl_->skel->maps.ng911_stats_map,
                     impl_->skel->maps.ng911_maglev_map, impl_->skel->maps.ng911_backends_map,
                     impl_->skel->maps.ng911_ports_map,  impl_->skel->maps.ng911_guard_map,
                     impl_->skel->maps.ng911_prior_map,  impl_->skel->maps.ng911_pins_map};
  for (int m = 0; m < DataplaneMaps::map_count_; ++m) {
    int fd = ::dup(bpf_map__fd(maps[m]));
    if (fd < 0) throw error("dup", errno);
    impl_->maps.fds_[m] = Fd(fd);
  }
  // An empty table: every slot says "no backend", so SIP goes to the stack until backends join.
  std::vector<std::uint32_t> table(NG911_MAGLEV_SIZE, NG911_NO_BACKEND), all(NG911_MAGLEV_SIZE);
  for (std::uint32_t i = 0; i < NG911_MAGLEV_SIZE; ++i) all[i] = i;
  impl_->maps.write_slots(table, all);
  impl_->maps.write_prior_slots(table, all);
}

XdpProgram::~XdpProgram() {
  try {
    unpin();
  } catch (...) {
  }
}

int XdpProgram::program_fd() const { return bpf_program__fd(impl_->skel->progs.ng911_xdp); }
DataplaneMaps& XdpProgram::maps() { return impl_->maps; }

void ensure_bpffs() {
  struct statfs fs{};
  if (::statfs("/sys/fs/bpf", &fs) == 0 && static_cast<unsigned long>(fs.f_type) == kBpfFsMagic) return;
  ::mkdir("/sys/fs/bpf", 0700);
  if (::mount("bpf", "/sys/fs/bpf", "bpf", 0, nullptr) != 0) throw error("mounting bpffs on /sys/fs/bpf", errno);
}

void XdpProgram::pin(const std::string& dir) {
  if (dir.rfind("/sys/fs/bpf", 0) == 0) ensure_bpffs();
  std::filesystem::create_directories(dir);
  for (int m = 0; m < DataplaneMaps::map_count_; ++m) {
    std::string path = dir + "/" + DataplaneMaps::pin_name(static_cast<DataplaneMaps::Map>(m));
    ::unlink(path.c_str());
    check(bpf_obj_pin(impl_->maps.fd(static_cast<DataplaneMaps::Map>(m)), path.c_str()), "pinning " + path);
  }
  impl_->pinned_dir = dir;
}

void XdpProgram::unpin() {
  if (impl_->pinned_dir.empty()) return;
  for (int m = 0; m < DataplaneMaps::map_count_; ++m)
    ::unlink((impl_->pinned_dir + "/" + DataplaneMaps::pin_name(static_cast<DataplaneMaps::Map>(m))).c_str());
  ::rmdir(impl_->pinned_dir.c_str());
  impl_->pinned_dir.clear();
}

XdpAttachment::XdpAttachment(const std::string& interface, int program_fd, AttachMode mode) {
  ifindex_ = static_cast<int>(if_nametoindex(interface.c_str()));
  if (ifindex_ == 0) throw error("no interface " + interface, errno);
  if (mode != AttachMode::generic) {
    if (bpf_xdp_attach(ifindex_, program_fd, XDP_FLAGS_DRV_MODE, nullptr) == 0) {
      mode_ = AttachMode::native;
      return;
    }
    if (mode == AttachMode::native) throw error("attaching XDP (native) to " + interface, errno);
  }
  check(bpf_xdp_attach(ifindex_, program_fd, XDP_FLAGS_SKB_MODE, nullptr), "attaching XDP (generic) to " + interface);
  mode_ = AttachMode::generic;
}

XdpAttachment::~XdpAttachment() {
  bpf_xdp_detach(ifindex_, mode_ == AttachMode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE, nullptr);
}

TestRun test_run(int program_fd, std::span<const std::uint8_t> frame, std::uint32_t repeat) {
  TestRun r;
  r.out.resize(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = r.out.data(),
              .data_size_in = static_cast<__u32>(frame.size()), .data_size_out = static_cast<__u32>(r.out.size()),
              .repeat = static_cast<int>(repeat));
  check(bpf_prog_test_run_opts(program_fd, &opts), "BPF_PROG_TEST_RUN");
  r.out.resize(opts.data_size_out);
  r.verdict = opts.retval;
  r.duration_ns = opts.duration;
  return r;
}

}  // namespace ng911::dataplane
