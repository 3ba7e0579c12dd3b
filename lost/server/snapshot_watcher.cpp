#include "server/snapshot_watcher.h"

#include <map>

#include <pqxx/pqxx>

namespace ng911::lost {
namespace {

class PublishListener final : public pqxx::notification_receiver {
 public:
  PublishListener(pqxx::connection_base& c, bool& flag) : pqxx::notification_receiver(c, "ng911_gis_published"), flag_(flag) {}
  void operator()(const std::string&, int) override { flag_ = true; }

 private:
  bool& flag_;
};

std::map<std::string, std::int64_t> published_versions(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  std::map<std::string, std::int64_t> out;
  for (const auto& r : tx.exec("SELECT layer, version_id FROM gis.published_layer")) out[r[0].c_str()] = r[1].as<std::int64_t>();
  return out;
}

std::string describe(const std::map<std::string, std::int64_t>& versions) {
  std::string s;
  for (const auto& [layer, v] : versions) s += (s.empty() ? "" : ",") + layer + ":" + std::to_string(v);
  return s;
}

}  // namespace

SnapshotWatcher::SnapshotWatcher(std::string conninfo, std::chrono::seconds check_every, Logger& log)
    : conninfo_(std::move(conninfo)), check_every_(check_every), log_(log) {}

SnapshotWatcher::~SnapshotWatcher() { stop(); }

void SnapshotWatcher::start() { thread_ = std::thread([this] { run(); }); }

void SnapshotWatcher::stop() {
  stopping_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SnapshotWatcher::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_.load(); });
  return !stopping_;
}

void SnapshotWatcher::run() {
  std::chrono::milliseconds backoff(500);
  while (!stopping_) {
    try {
      pqxx::connection conn(conninfo_);
      bool notified = true;  // load at once
      PublishListener listener(conn, notified);
      auto last_check = std::chrono::steady_clock::now();
      backoff = std::chrono::milliseconds(500);
      while (!stopping_) {
        auto now = std::chrono::steady_clock::now();
        bool due = now - last_check >= check_every_;
        if (notified || due) {
          last_check = now;
          auto current = snapshot_.load();
          auto versions = published_versions(conn);
          if (notified || !current || versions != current->versions()) {
            notified = false;
            auto started = std::chrono::steady_clock::now();
            std::shared_ptr<const ecrf::Snapshot> next;
            {
              pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(conn);
              next = ecrf::Snapshot::load(tx);
            }
            double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            snapshot_.store(next);
            ++loads_;
            last_load_seconds_ = seconds;
            log_.write("info", "snapshot_loaded",
                       {{"versions", describe(next->versions())}, {"boundaries", next->boundary_count()},
                        {"civic_records", next->civic().size()}, {"seconds", seconds}});
          }
        }
        // Wakes on NOTIFY or after a second, so stop() and the periodic check stay prompt.
        conn.await_notification(1, 0);
      }
    } catch (const std::exception& e) {
      ++failures_;
      log_.write("error", "snapshot_load_failed",
                 {{"error", e.what()}, {"retry_ms", static_cast<long>(backoff.count())},
                  {"serving", snapshot_.load() ? "previous snapshot" : "nothing yet"}});
      if (!sleep_for(backoff)) break;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
    }
  }
}

}  // namespace ng911::lost
