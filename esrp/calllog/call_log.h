#pragma once
// The ESRP's call log (NENA i3 logging service): every step of every call as an append-only
// row of esrp.call_event in PostgreSQL, without ever making a call wait for the database.
//
// append() writes the event to a spool file (write(2), no fsync) and returns: from then on it
// survives the ESRP being stopped or killed. A writer thread fdatasyncs the spool every
// flush_interval, so a crash of the whole machine can lose at most the events of that last
// interval which PostgreSQL had not yet committed. The same thread copies the spool into
// PostgreSQL in batches (each spool line is a row of COPY's text format, so a batch is one COPY;
// records that may be there already go through INSERT ... ON CONFLICT), records how far it got,
// deletes spool segments that are wholly in the database, and reconnects with backoff while
// PostgreSQL is down. A new CallLog on the same spool directory first sends what the database
// does not have yet; event_uid (ESRP id, boot id, sequence) makes sending twice harmless.
// docs/call-log.md has the details.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ng911::esrp {

struct CallEvent {
  std::string kind;  // call_start, location, lost_query, lost_answer, route, retarget, call_end, notify, policy_log, ...
  std::string sip_call_id, emergency_call_id, incident_id;  // empty: the event has none
  std::string detail_json = "{}";                           // a JSON object text
  std::chrono::system_clock::time_point at{};               // when it happened; unset: when appended
};

struct CallLogConfig {
  std::string conninfo;              // libpq; see db::resolve_conninfo
  std::filesystem::path spool_dir;   // created if missing; one CallLog at a time (locked)
  std::string esrp_id;               // this ESRP node, in every event and event_uid
  std::chrono::milliseconds flush_interval{50};  // writer wake-up and spool fdatasync period
  std::size_t batch = 500;                       // events per COPY
  std::uint64_t segment_bytes = 16 << 20;        // spool file size at which a new one starts
  std::chrono::milliseconds reconnect_min{100}, reconnect_max{5000};  // backoff while the database is down
  int connect_timeout_s = 5;         // libpq connect_timeout, so that shutdown is bounded
  std::chrono::milliseconds shutdown_drain{3000};  // how long the destructor keeps sending a backlog
  std::size_t memory_backlog = 100000;  // events kept in memory when the spool cannot be written
  // Called from the writer thread with a one-line JSON object when the database goes down or
  // comes back, and when a spool record is refused or skipped; empty: nothing is reported. It
  // must not call back into the CallLog (flush() from there would wait for itself).
  std::function<void(const std::string&)> report;
};

struct CallLogCounters {
  std::uint64_t appended = 0;        // append() calls
  std::uint64_t written = 0;         // events confirmed in PostgreSQL by this CallLog, replays included
  std::uint64_t spooled_pending = 0; // events in the spool not yet confirmed in PostgreSQL
  std::uint64_t write_failures = 0;  // failed attempts to connect or to write a batch
  std::uint64_t replayed = 0;        // of `written`, events an earlier run had left in the spool
  std::uint64_t duplicates = 0;      // of `written`, events PostgreSQL already had (sent before a kill)
  std::uint64_t spool_failures = 0;  // events the spool could not take, kept in memory for PostgreSQL instead
  std::uint64_t memory_pending = 0;  // of those, not yet in PostgreSQL (lost if the process dies)
  std::uint64_t dropped = 0;         // events lost: the spool failing and the memory backlog full
  std::uint64_t rejected = 0;        // spool records PostgreSQL or the parser refused, moved to rejected.log
  std::uint64_t batches = 0;         // batches stored whole (one COPY, one transaction each)
};

class CallLog {
 public:
  // Opens (and locks) the spool directory and starts the writer thread; throws
  // std::runtime_error when the spool cannot be used, since a log that cannot keep its promise
  // must not pretend to.
  explicit CallLog(CallLogConfig config);
  // Keeps sending to PostgreSQL for at most shutdown_drain (plus one connect_timeout_s), then
  // syncs the spool; what did not reach the database is sent by the next CallLog on the spool.
  // No append() may run during or after destruction.
  ~CallLog();
  CallLog(const CallLog&) = delete;
  CallLog& operator=(const CallLog&) = delete;

  // Thread-safe; returns once the event is in the spool (one write(2)), never waits for the
  // database.
  void append(CallEvent event);
  // Several events of one moment (a call's start, its location and its LoST query) with one
  // write(2): the ESRP's event loop pays a system call per write, not per event.
  void append(std::vector<CallEvent> events);
  // Waits until every event appended before the call is in PostgreSQL (true), or until an
  // attempt to reach PostgreSQL failed (false: the events wait in the spool).
  bool flush();
  CallLogCounters counters() const;
  // Whether the last attempt to connect or to write succeeded.
  bool database_up() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ng911::esrp
