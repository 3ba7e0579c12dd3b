#include "calllog/call_log.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include "calllog/json_check.h"
#include "server/log.h"

namespace ng911::esrp {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// Bounds that keep one hostile or buggy event from making a record PostgreSQL or the reader
// cannot take: identifiers are cut, an oversized detail is replaced by its size.
constexpr std::size_t kMaxFieldBytes = 4096;
constexpr std::size_t kMaxRecordBytes = 256 * 1024;
constexpr std::size_t kReadChunk = 512 * 1024;
constexpr auto kSpoolRetry = std::chrono::seconds(1);
constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// PostgreSQL refuses text that is not UTF-8: bad sequences become U+FFFD (the library's
// replacement, by a round trip through JSON; only for events the fast path could not take).
std::string valid_utf8_or_replaced(const std::string& s) {
  if (valid_utf8(s)) return s;
  return json::parse(dump(json(s))).get<std::string>();
}

// The spool holds each event as one row of COPY's text format, so a batch goes to PostgreSQL
// as it lies in the spool: COPY takes rows at about half the server's CPU of an INSERT ...
// SELECT FROM jsonb_array_elements (which parses the batch as one jsonb value and picks every
// field out of it: 36 against 18 us a row, measured with this table's indexes).
constexpr const char* kColumns[] = {"event_uid", "esrp_id", "at", "sip_call_id", "emergency_call_id",
                                    "incident_id", "kind", "detail"};
constexpr std::size_t kFieldCount = std::size(kColumns);

// COPY cannot skip a row it already has: records that may have been stored before (an earlier
// run's spool, a batch whose commit went unanswered) go through this session's staging table,
// whose INSERT ... ON CONFLICT keeps the first copy and the spool's order.
constexpr const char* kStagingSql = R"SQL(
CREATE TEMP TABLE IF NOT EXISTS call_event_incoming (
    ord bigserial, event_uid text, esrp_id text, at timestamptz, sip_call_id text,
    emergency_call_id text, incident_id text, kind text, detail jsonb
) ON COMMIT DELETE ROWS
)SQL";
constexpr const char* kFromStagingSql = R"SQL(
INSERT INTO esrp.call_event (event_uid, esrp_id, at, sip_call_id, emergency_call_id, incident_id, kind, detail)
SELECT event_uid, esrp_id, at, sip_call_id, emergency_call_id, incident_id, kind, detail
FROM call_event_incoming ORDER BY ord
ON CONFLICT (event_uid) DO NOTHING
)SQL";

// COPY text format: backslash, newline, carriage return and tab become backslash sequences.
// Every event's detail passes through here on the event loop, nearly all of it plain.
void append_copy_escaped(std::string& out, std::string_view s) {
  lost::append_escaped_by_words(
      out, s, [](std::uint64_t w) { return !lost::word_has_byte_below(w, 0x20) && !lost::word_has_byte(w, '\\'); },
      [](unsigned char c) { return c == '\\' || c == '\n' || c == '\r' || c == '\t'; },
      [](std::string& o, unsigned char c) {
        o += '\\';
        o += c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
      });
}

// One spool line, newline included. A field without a value (nullopt) is COPY's NULL, \N; the
// call's identifiers are NULL when empty, as the table documents.
using Fields = std::array<std::optional<std::string_view>, kFieldCount>;
std::string copy_row(const Fields& fields) {
  std::size_t size = kFieldCount + 8;
  for (const auto& f : fields) size += f ? f->size() : 2;
  std::string row;
  row.reserve(size);
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    if (i > 0) row += '\t';
    const bool id = i >= 3 && i <= 5;
    if (!fields[i] || (id && fields[i]->empty())) row += "\\N";
    else append_copy_escaped(row, *fields[i]);
  }
  row += '\n';
  return row;
}

// Writes rows (lines of COPY text, the last without its newline) into a table. libpqxx 6.4's
// stream_to escapes every value itself and keeps write_raw_line private; our rows are already
// escaped, so this uses tablewriter, deprecated there but the one public way to send them as they
// are (libpqxx 7: stream_to::raw_table and its public write_raw_line).
void copy_rows(pqxx::work& tx, const std::string& table, const std::string& rows) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter writer(tx, table, std::begin(kColumns), std::end(kColumns));
#pragma GCC diagnostic pop
  writer.write_raw_line(rows);
  writer.complete();
}

// A line of an earlier run's spool, as a row to send: a row as encode() writes them (eight
// fields: whether PostgreSQL takes their values is its to say), or a record in the JSON format
// of versions before the COPY rows (one object per line). Anything else is not a record.
std::optional<std::string> earlier_record(std::string_view line) {
  // Tabs first: a row's ESRP id could begin with '{', and JSON records have no raw tab.
  if (std::count(line.begin(), line.end(), '\t') == kFieldCount - 1) return std::string(line);
  if (!line.starts_with('{')) return std::nullopt;
  json record = json::parse(line, nullptr, false);
  if (!record.is_object()) return std::nullopt;
  std::array<std::string, kFieldCount> values;
  Fields fields;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    auto it = record.find(kColumns[i]);
    if (it == record.end() || it->is_null()) continue;  // NULL: the table says whether it may be
    values[i] = it->is_string() ? it->get<std::string>() : dump(*it);
    fields[i] = values[i];
  }
  std::string row = copy_row(fields);
  row.pop_back();
  return row;
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Position {
  std::uint64_t segment = 0, offset = 0;
  auto operator<=>(const Position&) const = default;
};

std::string segment_name(std::uint64_t n) {
  char name[48];
  std::snprintf(name, sizeof name, "segment-%020llu.spool", static_cast<unsigned long long>(n));
  return name;
}

std::optional<std::uint64_t> segment_number(std::string_view name) {
  constexpr std::string_view prefix = "segment-", suffix = ".spool";
  if (name.size() != prefix.size() + 20 + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
    return std::nullopt;
  std::uint64_t n = 0;
  for (char c : name.substr(prefix.size(), 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

std::vector<std::uint64_t> list_segments(const fs::path& dir) {
  std::vector<std::uint64_t> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (auto n = segment_number(entry.path().filename().native())) found.push_back(*n);
  std::sort(found.begin(), found.end());
  return found;
}

// YYYY-MM-DDTHH:MM:SS.uuuuuuZ, digits written directly: one per event on the event loop, where
// snprintf cost more than the rest of the record.
// PostgreSQL's text and jsonb cannot hold U+0000, which a SIP header or a detail could carry.
void scrub(std::string& s, std::size_t max_bytes) {
  if (s.size() > max_bytes) s.resize(max_bytes);  // a cut UTF-8 sequence is replaced when dumped
  for (std::size_t at = s.find('\0'); at != std::string::npos; at = s.find('\0', at + 3))
    s.replace(at, 1, kReplacement);
}

void scrub_json(json& j) {
  if (j.is_string()) {
    scrub(j.get_ref<std::string&>(), std::string::npos);
  } else if (j.is_array()) {
    for (auto& v : j) scrub_json(v);
  } else if (j.is_object()) {
    json clean = json::object();
    for (auto& [key, value] : j.items()) {
      std::string k = key;
      scrub(k, std::string::npos);
      scrub_json(value);
      clean[k] = std::move(value);
    }
    j = std::move(clean);
  }
}

// libpq waits for ever on an unanswering host by default; the destructor must not.
std::string with_connect_timeout(const std::string& conninfo, int seconds) {
  if (seconds <= 0 || conninfo.find("connect_timeout") != std::string::npos) return conninfo;
  std::string value = "connect_timeout=" + std::to_string(seconds);
  if (conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://"))
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + value;
  return conninfo.empty() ? value : conninfo + " " + value;
}

// Class 22 (data exception) and 23 (integrity constraint): this record can never be stored,
// unlike a missing table or a timeout, which waiting cures.
bool is_data_error(const pqxx::sql_error& e) {
  const std::string& state = e.sqlstate();
  return state.starts_with("22") || state.starts_with("23");
}

std::string new_boot_id() {
  std::random_device random;
  std::uint64_t id = (static_cast<std::uint64_t>(random()) << 32) ^ random();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
  return text;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

struct CallLog::Impl {
  struct Record {
    std::string line;  // without its newline
    bool replay = false;  // from a segment an earlier run left
    std::string refused;  // why PostgreSQL refused it; empty: stored
  };
  struct Batch {
    std::vector<Record> records;
    std::vector<std::string> unreadable;  // spool lines that are not records
    std::uint64_t spool_lines = 0;        // lines consumed from the spool
    std::size_t memory_records = 0;
    Position end;                         // the spool position after this batch
    std::uint64_t inserted = 0;
  };

  explicit Impl(CallLogConfig c) : config(std::move(c)) {}

  CallLogConfig config;
  std::string conninfo;
  std::string boot_id = new_boot_id();
  Fd lock_fd;
  std::uint64_t first_own_segment = 0;

  // The appender side, under spool_mutex.
  std::mutex spool_mutex;
  Fd segment_fd;
  Position spool_end;                   // where the next record goes
  bool spool_dirty = false;             // written since the last fdatasync
  bool dir_dirty = false;               // a segment created since the last directory fsync
  std::vector<Fd> closed_segments;      // rotated away, synced and closed by the writer
  SteadyClock::time_point spool_retry_at{};
  std::deque<std::string> memory;       // records the spool could not take
  std::uint64_t memory_enqueued = 0;
  std::atomic<std::uint64_t> next_seq{0};
  std::atomic<std::uint64_t> unread{0};  // records since the writer last read: wakes it for a full batch

  // Shared with flush(), under state_mutex.
  std::mutex state_mutex;
  std::condition_variable wake_writer, progress;
  bool stop = false;
  std::uint64_t flush_requests = 0;
  Position committed;                   // everything before it is in PostgreSQL
  std::uint64_t memory_committed = 0;
  std::uint64_t failure_generation = 0;
  bool writer_done = false;

  std::atomic<std::uint64_t> appended{0}, written{0}, spooled_pending{0}, write_failures{0}, replayed{0},
      duplicates{0}, spool_failures{0}, memory_pending{0}, dropped{0}, rejected{0}, batches{0};
  std::atomic<bool> database_up{false};

  // The writer thread's own.
  std::optional<pqxx::connection> db;
  Position read_pos;
  std::optional<bool> reported_up;
  std::thread writer;

  fs::path segment_path(std::uint64_t n) const { return config.spool_dir / segment_name(n); }
  fs::path position_path() const { return config.spool_dir / "committed"; }

  void note(json message) const {
    if (!config.report) return;
    message["event"] = "call_log";
    try {
      config.report(dump(message));
    } catch (...) {
      // A failing reporter must not take the log down with it.
    }
  }

  void start();
  std::string encode(CallEvent& event);
  std::optional<std::string> encode_verbatim(const CallEvent& event, const std::string& uid) const;
  void spool_write(std::vector<std::string> lines);  // one write(2) for them all
  bool open_segment_locked(std::uint64_t n, SteadyClock::time_point now);
  void writer_loop();
  bool drain(SteadyClock::time_point deadline, SteadyClock::time_point& last_sync);
  bool connect();
  void database_failed(const std::string& why);
  Batch read_batch();
  std::uint64_t next_segment_after(std::uint64_t n, std::uint64_t active) const;
  bool send(Batch& batch);
  // One transaction; how many of the `count` rows were new. may_repeat: some may be stored already.
  std::uint64_t store(const std::string& rows, std::uint64_t count, bool may_repeat);
  bool send_one_by_one(Batch& batch);
  void commit(Batch& batch);
  void refuse(const std::string& line, const std::string& why);
  void sync_spool();
  void shut_down();
};

void CallLog::Impl::start() {
  if (config.esrp_id.empty()) throw std::runtime_error("call log: an ESRP id is required");
  config.batch = std::max<std::size_t>(config.batch, 1);
  config.flush_interval = std::max(config.flush_interval, std::chrono::milliseconds(1));
  config.reconnect_min = std::max(config.reconnect_min, std::chrono::milliseconds(1));
  config.reconnect_max = std::max(config.reconnect_max, config.reconnect_min);
  scrub(config.esrp_id, kMaxFieldBytes);
  config.esrp_id = valid_utf8_or_replaced(config.esrp_id);
  conninfo = with_connect_timeout(config.conninfo, config.connect_timeout_s);
  fs::create_directories(config.spool_dir);

  // Two writers on one spool would send and delete each other's segments.
  lock_fd = Fd(::open((config.spool_dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (!lock_fd) throw std::runtime_error("call log: cannot open " + (config.spool_dir / "lock").string() + ": " + std::strerror(errno));
  if (::flock(lock_fd.get(), LOCK_EX | LOCK_NB) != 0)
    throw std::runtime_error("call log: spool " + config.spool_dir.string() + " is in use by another call log");

  Position pos;
  if (std::ifstream in(position_path()); in) {
    if (!(in >> pos.segment >> pos.offset)) pos = {};  // unreadable: start over; event_uid absorbs the repeats
  }
  std::vector<std::uint64_t> segments = list_segments(config.spool_dir);
  std::uint64_t newest = pos.segment;
  for (std::uint64_t n : segments) {
    newest = std::max(newest, n);
    if (n < pos.segment) fs::remove(segment_path(n));  // in the database already; a crash came before its removal
  }
  auto first_left = std::find_if(segments.begin(), segments.end(), [&](std::uint64_t n) { return n >= pos.segment; });
  if (first_left == segments.end() || *first_left != pos.segment) pos = {first_left == segments.end() ? newest + 1 : *first_left, 0};

  // What an earlier run left for the database: counted, so that the counters tell the truth.
  std::uint64_t pending = 0;
  for (auto it = first_left; it != segments.end(); ++it) {
    std::ifstream in(segment_path(*it), std::ios::binary);
    if (*it == pos.segment) in.seekg(static_cast<std::streamoff>(pos.offset));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && !in.eof()) ++pending;  // a last line without newline is torn: never appended
  }
  spooled_pending = pending;

  if (!open_segment_locked(newest + 1, SteadyClock::now()))
    throw std::runtime_error("call log: cannot create " + segment_path(newest + 1).string() + ": " + std::strerror(errno));
  first_own_segment = newest + 1;
  committed = read_pos = pos;
  writer = std::thread([this] { writer_loop(); });
}

std::string CallLog::Impl::encode(CallEvent& event) {
  if (event.at == std::chrono::system_clock::time_point{}) event.at = std::chrono::system_clock::now();
  if (event.kind.empty()) event.kind = "unspecified";
  for (std::string* field : {&event.kind, &event.sip_call_id, &event.emergency_call_id, &event.incident_id})
    scrub(*field, kMaxFieldBytes);
  std::string uid = config.esrp_id + ":" + boot_id + ":" + std::to_string(next_seq++);
  if (auto line = encode_verbatim(event, uid)) return std::move(*line);

  json detail;
  try {
    detail = event.detail_json.empty() ? json::object() : json::parse(event.detail_json);
  } catch (const json::exception&) {
    detail = nullptr;
  }
  // Whatever the caller wrote is kept, as text, rather than lost with the event.
  if (!detail.is_object()) detail = json{{"unparsed_detail", event.detail_json}};
  scrub_json(detail);
  std::string detail_text = dump(detail);
  std::string at = lost::iso_utc(event.at, 6);
  std::array<std::string, 4> fields = {valid_utf8_or_replaced(event.sip_call_id),
                                       valid_utf8_or_replaced(event.emergency_call_id),
                                       valid_utf8_or_replaced(event.incident_id), valid_utf8_or_replaced(event.kind)};
  auto row = [&] {
    return copy_row({uid, config.esrp_id, at, fields[0], fields[1], fields[2], fields[3], detail_text});
  };
  std::string line = row();
  if (line.size() > kMaxRecordBytes) {
    detail_text = dump(json{{"detail_too_large_bytes", event.detail_json.size()}});
    line = row();
  }
  return line;
}

// The common case, on the ESRP's event loop at thousands of events per second: a detail that is
// already a clean JSON object and fields that are clean UTF-8 are copied into the row as they
// are, without building a JSON tree only to print it again (that cost more than routing the call).
std::optional<std::string> CallLog::Impl::encode_verbatim(const CallEvent& event, const std::string& uid) const {
  std::string_view detail = event.detail_json;
  if (detail.size() > kMaxRecordBytes / 2) return std::nullopt;
  for (std::string_view field : {std::string_view(event.kind), std::string_view(event.sip_call_id),
                                 std::string_view(event.emergency_call_id), std::string_view(event.incident_id)})
    if (!valid_utf8(field)) return std::nullopt;
  if (!is_clean_json_object(detail)) return std::nullopt;
  std::string at = lost::iso_utc(event.at, 6);
  return copy_row({uid, config.esrp_id, at, event.sip_call_id, event.emergency_call_id, event.incident_id, event.kind,
                   detail});
}

bool CallLog::Impl::open_segment_locked(std::uint64_t n, SteadyClock::time_point now) {
  Fd fd(::open(segment_path(n).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640));
  if (!fd) {
    spool_retry_at = now + kSpoolRetry;
    return false;
  }
  segment_fd = std::move(fd);
  spool_end = {n, 0};
  dir_dirty = true;
  return true;
}

void CallLog::Impl::spool_write(std::vector<std::string> lines) {
  std::lock_guard lock(spool_mutex);
  auto now = SteadyClock::now();
  if (!segment_fd && now >= spool_retry_at) open_segment_locked(spool_end.segment + 1, now);
  if (segment_fd) {
    std::string joined;
    const std::string* out = &lines.front();
    if (lines.size() > 1) {
      std::size_t total = 0;
      for (const auto& l : lines) total += l.size();
      joined.reserve(total);
      for (const auto& l : lines) joined += l;
      out = &joined;
    }
    ssize_t n = ::write(segment_fd.get(), out->data(), out->size());
    if (n == static_cast<ssize_t>(out->size())) {
      spool_end.offset += out->size();
      spool_dirty = true;
      spooled_pending += lines.size();
      const bool wake = unread < config.batch && unread + lines.size() >= config.batch;
      unread += lines.size();
      if (wake) wake_writer.notify_one();
      if (spool_end.offset >= config.segment_bytes) {
        closed_segments.push_back(std::move(segment_fd));
        open_segment_locked(spool_end.segment + 1, now);
      }
      return;
    }
    // Disk full, I/O error or a file size limit, perhaps after part of the records: the segment
    // ends here (a part without its newline is a torn tail the reader skips; whole records
    // before it are read and may come again from memory: event_uid absorbs the repeat), and
    // these records go to memory rather than nowhere.
    closed_segments.push_back(std::move(segment_fd));
    spool_retry_at = now + kSpoolRetry;
  }
  for (auto& line : lines) {
    if (memory.size() >= config.memory_backlog) {
      ++dropped;
      continue;
    }
    line.pop_back();
    memory.push_back(std::move(line));
    ++memory_enqueued;
    ++spool_failures;
    ++memory_pending;
    ++unread;
  }
}

void CallLog::Impl::sync_spool() {
  Fd active;
  std::vector<Fd> closed;
  bool dir = false;
  {
    std::lock_guard lock(spool_mutex);
    // A duplicate descriptor lets the sync run without holding up append().
    if (spool_dirty && segment_fd) active = Fd(::fcntl(segment_fd.get(), F_DUPFD_CLOEXEC, 0));
    spool_dirty = false;
    closed.swap(closed_segments);
    dir = std::exchange(dir_dirty, false);
  }
  for (auto& fd : closed) ::fdatasync(fd.get());
  if (active) ::fdatasync(active.get());
  if (dir) {
    Fd d(::open(config.spool_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d) ::fsync(d.get());
  }
}

void CallLog::Impl::writer_loop() {
  std::uint64_t seen_flush = 0;
  auto backoff = config.reconnect_min;
  auto next_attempt = SteadyClock::now();
  auto last_sync = SteadyClock::now();
  for (;;) {
    bool stopping = false, flush_wanted = false;
    {
      std::unique_lock lock(state_mutex);
      wake_writer.wait_for(lock, config.flush_interval,
                           [&] { return stop || flush_requests != seen_flush || unread >= config.batch; });
      stopping = stop;
      flush_wanted = flush_requests != seen_flush;
      seen_flush = flush_requests;
    }
    sync_spool();
    auto now = SteadyClock::now();
    last_sync = now;
    // While the database is down only a flush or the stop makes the writer try before its time.
    if (!stopping && !flush_wanted && now < next_attempt) continue;
    bool ok = false;
    try {
      ok = drain(stopping ? now + config.shutdown_drain : SteadyClock::time_point::max(), last_sync);
    } catch (const std::exception& e) {
      // Whatever went wrong (memory, the file system), the events are still in the spool: try
      // again later rather than take the ESRP down with std::terminate.
      db.reset();
      ++write_failures;
      note({{"state", "writer error"}, {"error", e.what()}});
    }
    if (ok) {
      backoff = config.reconnect_min;
      next_attempt = now;
    } else {
      next_attempt = SteadyClock::now() + backoff;
      backoff = std::min(backoff * 2, config.reconnect_max);
      std::lock_guard lock(state_mutex);
      ++failure_generation;
    }
    progress.notify_all();
    if (stopping) break;
  }
  sync_spool();
  {
    std::lock_guard lock(state_mutex);
    writer_done = true;
  }
  progress.notify_all();
}

bool CallLog::Impl::drain(SteadyClock::time_point deadline, SteadyClock::time_point& last_sync) {
  // Connecting when idle too keeps database_up() true to the database, not to the last batch.
  if (!db && !connect()) return false;
  for (;;) {
    auto now = SteadyClock::now();
    if (now - last_sync >= config.flush_interval) {
      sync_spool();
      last_sync = now;
    }
    Batch batch = read_batch();
    if (batch.records.empty() && batch.unreadable.empty() && batch.end == read_pos) return true;
    if (!batch.records.empty() && !send(batch)) return false;
    commit(batch);
    progress.notify_all();
    // A batch short of full read the spool to its end: what comes in meanwhile waits for the
    // next wake-up (flush_interval, a flush, or a full batch's worth), so that a busy ESRP sends
    // a few large INSERTs a second instead of a small one per round trip, each of them a
    // PostgreSQL transaction and a rewrite of the committed position.
    if (batch.records.size() < config.batch) return true;
    {
      std::lock_guard lock(state_mutex);
      if (stop && deadline == SteadyClock::time_point::max()) deadline = SteadyClock::now() + config.shutdown_drain;
    }
    if (SteadyClock::now() >= deadline) return true;
  }
}

bool CallLog::Impl::connect() {
  try {
    db.emplace(conninfo);
    // A stuck statement must not hold the writer (and so the destructor) for ever; set_variable,
    // unlike a SET, survives libpqxx 6 reconnecting by itself.
    db->set_variable("statement_timeout", "30000");
  } catch (const std::exception& e) {
    database_failed(e.what());
    return false;
  }
  database_up = true;
  if (reported_up == false) note({{"state", "database up"}});
  reported_up = true;
  return true;
}

void CallLog::Impl::database_failed(const std::string& why) {
  db.reset();
  ++write_failures;
  database_up = false;
  if (reported_up != false) note({{"state", "database down"}, {"error", why}, {"spooled_pending", spooled_pending.load()}});
  reported_up = false;
}

std::uint64_t CallLog::Impl::next_segment_after(std::uint64_t n, std::uint64_t active) const {
  for (std::uint64_t s : list_segments(config.spool_dir))
    if (s > n) return std::min(s, active);
  return active;
}

CallLog::Impl::Batch CallLog::Impl::read_batch() {
  Batch batch;
  Position active_end;
  std::vector<std::string> from_memory;
  {
    std::lock_guard lock(spool_mutex);
    active_end = spool_end;
    for (std::size_t i = 0; i < memory.size() && i < config.batch; ++i) from_memory.push_back(memory[i]);
  }
  unread = 0;
  Position p = read_pos;
  std::string buffer;
  std::size_t chunk = kReadChunk;
  while (batch.records.size() < config.batch && p.segment <= active_end.segment) {
    bool active = p.segment == active_end.segment;
    if (active && p.offset >= active_end.offset) break;  // the common idle case: nothing new
    Fd fd(::open(segment_path(p.segment).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (active || errno != ENOENT) break;  // not there yet, or unreadable for now: next time
      p = {next_segment_after(p.segment, active_end.segment), 0};
      continue;
    }
    std::uint64_t limit = active_end.offset;
    if (!active) {
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0) break;
      limit = static_cast<std::uint64_t>(st.st_size);
    }
    if (p.offset >= limit) {
      if (active) break;
      p = {next_segment_after(p.segment, active_end.segment), 0};
      continue;
    }
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(limit - p.offset, chunk));
    buffer.resize(want);
    std::size_t got = 0;
    while (got < want) {
      ssize_t n = ::pread(fd.get(), buffer.data() + got, want - got, static_cast<off_t>(p.offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    std::string_view data(buffer.data(), got);
    std::size_t used = 0;
    while (batch.records.size() < config.batch) {
      std::size_t newline = data.find('\n', used);
      if (newline == std::string_view::npos) break;
      std::string_view line = data.substr(used, newline - used);
      used = newline + 1;
      if (line.empty()) continue;
      ++batch.spool_lines;
      // A whole line this process wrote came from encode(); one from an earlier run's spool may
      // be anything a crash or a disk left (or a JSON record of an earlier version), and one bad
      // record must not spoil its batch.
      if (p.segment >= first_own_segment)
        batch.records.push_back({std::string(line), false, {}});
      else if (auto row = earlier_record(line))
        batch.records.push_back({std::move(*row), true, {}});
      else
        batch.unreadable.emplace_back(line);
    }
    p.offset += used;
    if (used == 0) {
      if (got < want) break;  // read error: try again next time
      if (p.offset + got < limit) {
        chunk *= 2;  // a record longer than the chunk
        continue;
      }
      if (active) break;
      // Bytes without a newline at the end of a closed segment: a record whose write(2) never
      // finished, so whose append() never returned. Nothing promised is lost by skipping it.
      note({{"state", "torn spool tail skipped"}, {"segment", segment_path(p.segment).string()}, {"bytes", got}});
      p.offset = limit;
    }
  }
  for (auto& line : from_memory) {
    if (batch.records.size() >= config.batch) break;
    batch.records.push_back({std::move(line), false, {}});
    ++batch.memory_records;
  }
  batch.end = p;
  return batch;
}

std::uint64_t CallLog::Impl::store(const std::string& rows, std::uint64_t count, bool may_repeat) {
  pqxx::work tx(*db);
  std::uint64_t inserted = count;
  if (may_repeat) {
    tx.exec("SET LOCAL client_min_messages = warning");  // not a notice per batch that the table exists
    tx.exec(kStagingSql);
    copy_rows(tx, "call_event_incoming", rows);
    inserted = static_cast<std::uint64_t>(tx.exec(kFromStagingSql).affected_rows());
  } else {
    copy_rows(tx, "esrp.call_event", rows);
  }
  tx.commit();
  return inserted;
}

bool CallLog::Impl::send(Batch& batch) {
  std::string rows;
  bool may_repeat = false;
  for (const auto& r : batch.records) {
    if (!rows.empty()) rows += '\n';
    rows += r.line;
    may_repeat = may_repeat || r.replay;
  }
  for (;;) {
    try {
      batch.inserted = store(rows, batch.records.size(), may_repeat);
      ++batches;
      return true;
    } catch (const pqxx::sql_error& e) {
      // unique_violation: some of these were stored before (a commit whose answer was lost, or
      // a record both in the spool and in memory after a failed spool write): again, skipping
      // those.
      if (e.sqlstate() == "23505" && !may_repeat) {
        may_repeat = true;
        continue;
      }
      if (is_data_error(e)) return send_one_by_one(batch);
      database_failed(e.what());
    } catch (const std::exception& e) {
      // Broken connection, or a commit whose outcome is unknown: sent again later, and
      // event_uid makes that harmless.
      database_failed(e.what());
    }
    return false;
  }
}

// One record PostgreSQL refuses must not hold back all that follow it.
bool CallLog::Impl::send_one_by_one(Batch& batch) {
  batch.inserted = 0;
  for (auto& r : batch.records) {
    try {
      batch.inserted += store(r.line, 1, true);
    } catch (const pqxx::sql_error& e) {
      if (!is_data_error(e)) {
        database_failed(e.what());
        return false;
      }
      r.refused = e.what();
    } catch (const std::exception& e) {
      database_failed(e.what());
      return false;
    }
  }
  return true;
}

void CallLog::Impl::refuse(const std::string& line, const std::string& why) {
  ++rejected;
  json entry = {{"rejected_at", lost::iso_utc(std::chrono::system_clock::now(), 6)}, {"reason", why}, {"record", line}};
  Fd fd(::open((config.spool_dir / "rejected.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  bool kept = fd && write_all(fd.get(), dump(entry) + "\n");
  note({{"state", "record refused"}, {"reason", why}, {"kept_in", kept ? "rejected.log" : "nowhere"}, {"record", line}});
}

void CallLog::Impl::commit(Batch& batch) {
  std::uint64_t confirmed = 0, replays = 0;
  for (const auto& r : batch.records) {
    if (!r.refused.empty()) {
      refuse(r.line, r.refused);
      continue;
    }
    ++confirmed;
    if (r.replay) ++replays;
  }
  for (const auto& line : batch.unreadable) refuse(line, "not a JSON record");
  written += confirmed;
  replayed += replays;
  duplicates += confirmed - std::min(confirmed, batch.inserted);
  spooled_pending -= std::min(spooled_pending.load(), batch.spool_lines);
  if (batch.memory_records > 0) {
    std::lock_guard lock(spool_mutex);
    memory.erase(memory.begin(), memory.begin() + static_cast<std::ptrdiff_t>(batch.memory_records));
    memory_pending -= batch.memory_records;
  }

  Position before = read_pos;
  read_pos = batch.end;
  if (batch.end != before) {
    // Where to resume after a restart; if this write is lost the next run sends some events
    // again, which event_uid absorbs.
    fs::path temporary = config.spool_dir / "committed.tmp";
    Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
    if (fd && write_all(fd.get(), std::to_string(batch.end.segment) + " " + std::to_string(batch.end.offset) + "\n")) {
      fd.reset();
      std::error_code ec;
      fs::rename(temporary, position_path(), ec);
    }
  }
  if (batch.end.segment > before.segment) {
    for (std::uint64_t n : list_segments(config.spool_dir)) {
      if (n >= batch.end.segment) break;
      std::error_code ec;
      fs::remove(segment_path(n), ec);
    }
  }
  std::lock_guard lock(state_mutex);
  committed = batch.end;
  memory_committed += batch.memory_records;
}

void CallLog::Impl::shut_down() {
  if (writer.joinable()) {
    {
      std::lock_guard lock(state_mutex);
      stop = true;
    }
    wake_writer.notify_one();
    writer.join();
  }
  sync_spool();
}

CallLog::CallLog(CallLogConfig config) : impl_(std::make_unique<Impl>(std::move(config))) { impl_->start(); }

CallLog::~CallLog() { impl_->shut_down(); }

void CallLog::append(CallEvent event) {
  ++impl_->appended;
  std::vector<std::string> lines;
  lines.push_back(impl_->encode(event));
  impl_->spool_write(std::move(lines));
}

void CallLog::append(std::vector<CallEvent> events) {
  if (events.empty()) return;
  impl_->appended += events.size();
  std::vector<std::string> lines;
  lines.reserve(events.size());
  for (auto& e : events) lines.push_back(impl_->encode(e));
  impl_->spool_write(std::move(lines));
}

bool CallLog::flush() {
  Impl& m = *impl_;
  Position target;
  std::uint64_t memory_target = 0;
  {
    std::lock_guard lock(m.spool_mutex);
    target = m.spool_end;
    memory_target = m.memory_enqueued;
  }
  std::unique_lock lock(m.state_mutex);
  auto done = [&] { return m.committed >= target && m.memory_committed >= memory_target; };
  std::uint64_t failures = m.failure_generation;
  ++m.flush_requests;
  m.wake_writer.notify_one();
  m.progress.wait(lock, [&] { return done() || m.failure_generation != failures || m.writer_done; });
  return done();
}

CallLogCounters CallLog::counters() const {
  const Impl& m = *impl_;
  return {m.appended, m.written, m.spooled_pending, m.write_failures, m.replayed,
          m.duplicates, m.spool_failures, m.memory_pending, m.dropped, m.rejected, m.batches};
}

bool CallLog::database_up() const { return impl_->database_up; }

}  // namespace ng911::esrp
