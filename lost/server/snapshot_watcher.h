#pragma once
// Keeps the LoST server's snapshot of published GIS data current: loads it at start, then
// reloads it whole when ng911-gis publishes or rolls back (PostgreSQL NOTIFY on
// ng911_gis_published, and a periodic check of the published versions as a safety net), and
// swaps it in atomically. A failed reload keeps the old snapshot serving.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ecrf/snapshot.h"
#include "server/log.h"

namespace ng911::lost {

class SnapshotWatcher {
 public:
  SnapshotWatcher(std::string conninfo, std::chrono::seconds check_every, Logger& log);
  ~SnapshotWatcher();
  SnapshotWatcher(const SnapshotWatcher&) = delete;
  SnapshotWatcher& operator=(const SnapshotWatcher&) = delete;

  void start();
  void stop();
  std::shared_ptr<const ecrf::Snapshot> current() const { return snapshot_.load(); }

  std::uint64_t loads() const { return loads_.load(); }
  std::uint64_t load_failures() const { return failures_.load(); }
  double last_load_seconds() const { return last_load_seconds_.load(); }

 private:
  void run();
  bool sleep_for(std::chrono::milliseconds d);  // false when stopping

  std::string conninfo_;
  std::chrono::seconds check_every_;
  Logger& log_;
  std::atomic<std::shared_ptr<const ecrf::Snapshot>> snapshot_;
  std::atomic<std::uint64_t> loads_{0}, failures_{0};
  std::atomic<double> last_load_seconds_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace ng911::lost
