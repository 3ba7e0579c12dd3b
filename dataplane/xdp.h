#pragma once
// The XDP program in user space: loading it (libbpf skeleton), attaching it to interfaces,
// pinning its maps, and reading and writing the maps (kernel/ng911_dp.h) from this process or,
// through the pins, from another one (`ng911-dataplane stats`).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataplane/tables.h"
#include "ng911_dp.h"

namespace ng911::dataplane {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// The XDP program's maps: the tables as the kernel holds them.
class DataplaneMaps : public DataplaneTables {
 public:
  // The maps pinned under dir by a running controller; throws std::runtime_error if absent.
  static DataplaneMaps open_pinned(const std::string& dir);

  void set_config(const ng911_config& config) override;
  ng911_config config() const;
  void set_backend(std::uint32_t index, const ng911_backend& backend) override;
  void write_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) override;
  void write_prior_slots(std::span<const std::uint32_t> table, std::span<const std::uint32_t> slots) override;
  std::vector<std::uint32_t> read_table() const;
  // Lets XDP_REDIRECT send out of ifindex (the devmap).
  void add_port(int ifindex) override;
  ng911_stats read_stats() const override;

  enum Map { config_map, stats_map, maglev_map, backends_map, ports_map, guard_map, prior_map, pins_map, map_count_ };
  static const char* pin_name(Map m);
  int fd(Map m) const { return fds_[m].get(); }

 private:
  friend class XdpProgram;
  Fd fds_[map_count_];
};

class XdpProgram {
 public:
  // Opens and loads the program; throws std::runtime_error with the reason (verifier, no rights).
  XdpProgram();
  ~XdpProgram();
  XdpProgram(const XdpProgram&) = delete;
  XdpProgram& operator=(const XdpProgram&) = delete;

  int program_fd() const;
  DataplaneMaps& maps();
  // Pins every map under dir, replacing pins an earlier run left; mounts bpffs on /sys/fs/bpf
  // when dir lies there and it is not mounted.
  void pin(const std::string& dir);
  void unpin();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class AttachMode { automatic, native, generic };

// The program attached to one interface for the attachment's lifetime.
class XdpAttachment {
 public:
  // automatic: native (driver) mode, generic (skb) mode if the driver refuses.
  XdpAttachment(const std::string& interface, int program_fd, AttachMode mode = AttachMode::automatic);
  ~XdpAttachment();
  XdpAttachment(const XdpAttachment&) = delete;
  XdpAttachment& operator=(const XdpAttachment&) = delete;
  AttachMode mode() const { return mode_; }  // native or generic, as attached
  int ifindex() const { return ifindex_; }

 private:
  int ifindex_ = 0;
  AttachMode mode_ = AttachMode::native;
};

// BPF_PROG_TEST_RUN: one frame through a program. `out` receives the frame as the program left
// it; returns the XDP verdict. With repeat > 1, duration_ns gets the mean time per run.
struct TestRun {
  std::uint32_t verdict = 0;
  std::vector<std::uint8_t> out;
  std::uint32_t duration_ns = 0;
};
TestRun test_run(int program_fd, std::span<const std::uint8_t> frame, std::uint32_t repeat = 1);

// Mounts bpffs on /sys/fs/bpf unless mounted; throws on failure.
void ensure_bpffs();

}  // namespace ng911::dataplane
