// The ESRP's call log against a real PostgreSQL (the test_db fixture; each test case gets a
// database of its own): events arrive in order with every field, the table refuses changes,
// nothing is lost or doubled when the database is unreachable, goes away and comes back, when
// the process is killed, when the spool rotates or cannot be written.
#define BOOST_TEST_MODULE ng911 ESRP call log tests
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "calllog/call_log.h"
#include "calllog/story.h"
#include "support/test_database.h"

using namespace ng911::esrp;
using namespace std::chrono_literals;
using ng911::test::TestDatabase;
namespace fs = std::filesystem;

namespace {

class SpoolDir {
 public:
  SpoolDir() {
    std::string pattern = (fs::temp_directory_path() / "ng911-calllog-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~SpoolDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  SpoolDir(const SpoolDir&) = delete;
  SpoolDir& operator=(const SpoolDir&) = delete;
  const fs::path& path() const { return path_; }
  std::vector<fs::path> segments() const {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(path_))
      if (e.path().filename().string().starts_with("segment-")) found.push_back(e.path());
    std::sort(found.begin(), found.end());
    return found;
  }

 private:
  fs::path path_;
};

CallLogConfig config_for(const std::string& conninfo, const SpoolDir& spool) {
  CallLogConfig c;
  c.conninfo = conninfo;
  c.spool_dir = spool.path();
  c.esrp_id = "esrp-test.example";
  c.flush_interval = 10ms;
  c.reconnect_min = 20ms;
  c.reconnect_max = 200ms;
  c.connect_timeout_s = 2;
  return c;
}

std::string call_id(int call) { return "call-" + std::to_string(call) + "@caller.example"; }
std::string emergency_call_id(int call) { return "urn:emergency:uid:callid:c" + std::to_string(call) + ":esrp-test.example"; }
std::string incident_id(int call) { return "urn:emergency:uid:incidentid:i" + std::to_string(call) + ":esrp-test.example"; }

// The n-th event of a test's stream, its number in the detail so that order and completeness
// can be checked in the table.
CallEvent numbered(int n, int calls = 3) {
  static const char* kinds[] = {"call_start", "location", "lost_query", "lost_answer", "route", "retarget", "call_end"};
  CallEvent e;
  e.kind = kinds[n % 7];
  int call = n % calls;
  e.sip_call_id = call_id(call);
  e.emergency_call_id = emergency_call_id(call);
  e.incident_id = incident_id(call);
  e.detail_json = R"({"n":)" + std::to_string(n) + R"(,"target":"sip:psap)" + std::to_string(call) + R"(@psap.example"})";
  e.at = std::chrono::system_clock::time_point(std::chrono::microseconds(1'795'000'000'000'000LL + n * 1'001LL));
  return e;
}

std::int64_t scalar(const std::string& conninfo, const std::string& sql) {
  pqxx::connection c(conninfo);
  pqxx::read_transaction tx(c);
  return tx.exec1(sql)[0].as<std::int64_t>();
}

// The detail numbers of all rows, in id order.
std::vector<int> numbers_in_order(const std::string& conninfo) {
  pqxx::connection c(conninfo);
  pqxx::read_transaction tx(c);
  std::vector<int> ns;
  for (const auto& row : tx.exec("SELECT (detail->>'n')::int FROM esrp.call_event ORDER BY id")) ns.push_back(row[0].as<int>());
  return ns;
}

std::vector<int> iota(int count) {
  std::vector<int> v;
  for (int i = 0; i < count; ++i) v.push_back(i);
  return v;
}

template <class Predicate>
bool eventually(Predicate p, std::chrono::milliseconds limit = 15s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (p()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return p();
}

std::uint16_t closed_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);  // nobody listens there now
  return ntohs(a.sin_port);
}

std::string unreachable_conninfo() { return "host=127.0.0.1 port=" + std::to_string(closed_port()) + " dbname=nowhere connect_timeout=2"; }

std::uint16_t pg_port() {
  const char* p = std::getenv("PGPORT");
  return static_cast<std::uint16_t>(p ? std::atoi(p) : 55433);
}

// A TCP relay in front of the fixture's PostgreSQL that the test can cut: every connection is
// closed and new ones refused while it is down, as when the database restarts.
class TcpRelay {
 public:
  explicit TcpRelay(std::uint16_t target) : target_(target) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 16) != 0)
      throw std::runtime_error("relay: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TcpRelay() {
    stopping_ = true;
    set_up(false);
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    ::close(listener_);
    for (auto& c : connections_) c->pump.join();
  }
  std::uint16_t port() const { return port_; }
  void set_up(bool up) {
    std::lock_guard lock(mutex_);
    up_ = up;
    if (!up)
      for (auto& c : connections_)
        if (!c->closed) {
          ::shutdown(c->client, SHUT_RDWR);
          ::shutdown(c->server, SHUT_RDWR);
        }
  }

 private:
  struct Connection {
    int client = -1, server = -1;
    bool closed = false;  // under mutex_: the descriptors may belong to someone else by now
    std::thread pump;
  };
  void accept_loop() {
    while (!stopping_) {
      int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard lock(mutex_);
      if (!up_) {
        ::close(client);
        continue;
      }
      int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(target_);
      if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(server);
        ::close(client);
        continue;
      }
      auto c = std::make_unique<Connection>();
      c->client = client;
      c->server = server;
      Connection* raw = c.get();
      c->pump = std::thread([this, raw] { pump(*raw); });
      connections_.push_back(std::move(c));
    }
  }
  void pump(Connection& c) {
    char buffer[16384];
    pollfd fds[2] = {{c.client, POLLIN, 0}, {c.server, POLLIN, 0}};
    for (bool done = false; !done;) {
      if (::poll(fds, 2, 1000) < 0) break;
      for (int i = 0; i < 2 && !done; ++i) {
        if (fds[i].revents == 0) continue;
        ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
        if (n <= 0 || ::send(fds[1 - i].fd, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) done = true;
      }
    }
    std::lock_guard lock(mutex_);
    ::close(c.client);
    ::close(c.server);
    c.closed = true;
  }

  std::uint16_t target_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  bool up_ = true;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::thread acceptor_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(calllog_write)

BOOST_AUTO_TEST_CASE(events_arrive_in_order_with_all_fields) {
  TestDatabase db;
  SpoolDir spool;
  constexpr int kEvents = 1234;  // several batches of 500
  {
    CallLog log(config_for(db.conninfo(), spool));
    for (int n = 0; n < kEvents; ++n) log.append(numbered(n));
    CallEvent bare;
    bare.kind = "notify";
    bare.at = numbered(kEvents).at;
    log.append(bare);  // no identifiers, no detail
    BOOST_TEST(log.flush());
    auto c = log.counters();
    BOOST_TEST(c.appended == kEvents + 1u);
    BOOST_TEST(c.written == kEvents + 1u);
    BOOST_TEST(c.spooled_pending == 0u);
    BOOST_TEST(c.replayed == 0u);
    BOOST_TEST(c.duplicates == 0u);
    BOOST_TEST(c.rejected == 0u);
    BOOST_TEST(log.database_up());
  }
  pqxx::connection conn(db.conninfo());
  pqxx::read_transaction tx(conn);
  auto rows = tx.exec(
      "SELECT event_uid, esrp_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), sip_call_id, "
      "emergency_call_id, incident_id, kind, detail::text FROM esrp.call_event ORDER BY id");
  BOOST_REQUIRE_EQUAL(rows.size(), kEvents + 1u);
  std::set<std::string> uids;
  for (int n = 0; n < kEvents; ++n) {
    const auto& row = rows[n];
    CallEvent want = numbered(n);
    uids.insert(row[0].as<std::string>());
    BOOST_TEST(row[0].as<std::string>().starts_with("esrp-test.example:"));
    BOOST_TEST(row[1].as<std::string>() == "esrp-test.example");
    // 2026-11-18T11:06:40 UTC plus n * 1.001 ms, to the microsecond.
    long long us = 1'795'000'000'000'000LL + n * 1'001LL;
    std::time_t secs = us / 1'000'000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char expect[64];
    std::snprintf(expect, sizeof expect, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1'000'000);
    BOOST_TEST(row[2].as<std::string>() == expect);
    BOOST_TEST(row[3].as<std::string>() == want.sip_call_id);
    BOOST_TEST(row[4].as<std::string>() == want.emergency_call_id);
    BOOST_TEST(row[5].as<std::string>() == want.incident_id);
    BOOST_TEST(row[6].as<std::string>() == want.kind);
    BOOST_TEST(row[7].as<std::string>() ==
               "{\"n\": " + std::to_string(n) + ", \"target\": \"sip:psap" + std::to_string(n % 3) + "@psap.example\"}");
  }
  BOOST_TEST(uids.size() == static_cast<std::size_t>(kEvents));
  const auto& bare = rows[kEvents];
  BOOST_TEST(bare[3].is_null());
  BOOST_TEST(bare[4].is_null());
  BOOST_TEST(bare[5].is_null());
  BOOST_TEST(bare[6].as<std::string>() == "notify");
  BOOST_TEST(bare[7].as<std::string>() == "{}");
}

// A graceful stop: what was appended is in the database when the destructor returns.
BOOST_AUTO_TEST_CASE(destructor_sends_what_was_appended) {
  TestDatabase db;
  SpoolDir spool;
  {
    auto config = config_for(db.conninfo(), spool);
    config.flush_interval = 1000ms;  // the writer would not look for a second by itself
    CallLog log(config);
    for (int n = 0; n < 700; ++n) log.append(numbered(n));
  }
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(700), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(awkward_events_are_kept_not_lost) {
  TestDatabase db;
  SpoolDir spool;
  auto before = std::chrono::system_clock::now();
  {
    CallLog log(config_for(db.conninfo(), spool));
    auto add = [&](std::string kind, std::string call, std::string detail) {
      CallEvent e;
      e.kind = std::move(kind);
      e.sip_call_id = std::move(call);
      e.detail_json = std::move(detail);
      log.append(std::move(e));  // at left unset: the time of append
    };
    add("policy_log", "a@x", "not json {");
    add("policy_log", "b@x", "[1, 2]");
    add("policy_log", std::string("c\0@x", 4), R"({"text":"nul\u0000inside","k\u0000ey":1})");
    add("policy_log", "d\xff@x", "{\"bad\":\"\xc3\x28\"}");
    add("", "e@x", "{}");
    add("location", "f@x", R"({"pidf":")" + std::string(300 * 1024, 'x') + R"("})");
    add("route", "g@x", "");
    add("route", "h\xc0\xaf@x", R"({"ok":true})");                 // overlong UTF-8 in a field
    add("route", "i@x", " {\"a\":\"tab\\tand \\u0001\", \"n\": [1, 2.5]}");  // clean, copied as it is
    // What COPY's text format escapes (tab, newline, carriage return, backslash), raw in a field
    // and in the detail's white space.
    add("kind\\with\tescapes", "j\t\n\r\\@x.example, after sixteen\\plain bytes\t", "{\n\t\"a\": \"b\\\\c\\n\"\r\n}");
    BOOST_TEST(log.flush());
    BOOST_TEST(log.counters().rejected == 0u);
    BOOST_TEST(log.counters().written == 10u);
  }
  pqxx::connection conn(db.conninfo());
  pqxx::read_transaction tx(conn);
  auto rows = tx.exec("SELECT sip_call_id, kind, detail, at FROM esrp.call_event ORDER BY id");
  BOOST_REQUIRE_EQUAL(rows.size(), 10u);
  BOOST_TEST(rows[0][2].as<std::string>() == R"({"unparsed_detail": "not json {"})");
  BOOST_TEST(rows[1][2].as<std::string>() == R"({"unparsed_detail": "[1, 2]"})");
  BOOST_TEST(rows[2][0].as<std::string>() == "c\xEF\xBF\xBD@x");
  BOOST_TEST(rows[2][2].as<std::string>() == "{\"text\": \"nul\xEF\xBF\xBDinside\", \"k\xEF\xBF\xBD" "ey\": 1}");
  BOOST_TEST(rows[3][0].as<std::string>() == "d\xEF\xBF\xBD@x");
  BOOST_TEST(rows[4][1].as<std::string>() == "unspecified");
  BOOST_TEST(rows[5][2].as<std::string>().starts_with(R"({"detail_too_large_bytes": )"));
  BOOST_TEST(rows[6][2].as<std::string>() == "{}");
  BOOST_TEST(rows[7][0].as<std::string>().find("\xc0") == std::string::npos);
  BOOST_TEST(rows[7][2].as<std::string>() == R"({"ok": true})");
  BOOST_TEST(rows[8][0].as<std::string>() == "i@x");
  BOOST_TEST(rows[8][2].as<std::string>() == R"({"a": "tab\tand \u0001", "n": [1, 2.5]})");
  BOOST_TEST(rows[9][0].as<std::string>() == "j\t\n\r\\@x.example, after sixteen\\plain bytes\t");
  BOOST_TEST(rows[9][1].as<std::string>() == "kind\\with\tescapes");
  BOOST_TEST(rows[9][2].as<std::string>() == R"({"a": "b\\c\n"})");
  auto stamped = tx.exec1("SELECT extract(epoch FROM at)::float8 FROM esrp.call_event ORDER BY id LIMIT 1")[0].as<double>();
  double t0 = std::chrono::duration<double>(before.time_since_epoch()).count();
  BOOST_TEST(stamped >= t0 - 0.001);
  BOOST_TEST(stamped < t0 + 60);
}

BOOST_AUTO_TEST_CASE(table_refuses_update_delete_truncate) {
  TestDatabase db;
  SpoolDir spool;
  {
    CallLog log(config_for(db.conninfo(), spool));
    for (int n = 0; n < 5; ++n) log.append(numbered(n));
    BOOST_REQUIRE(log.flush());
  }
  for (std::string sql : {"UPDATE esrp.call_event SET kind = 'x'", "DELETE FROM esrp.call_event WHERE true",
                          "TRUNCATE esrp.call_event"}) {
    pqxx::connection conn(db.conninfo());
    pqxx::work tx(conn);
    try {
      tx.exec(sql);
      BOOST_ERROR("accepted: " << sql);
    } catch (const pqxx::sql_error& e) {
      BOOST_TEST(std::string(e.what()).find("append-only") != std::string::npos, sql << ": " << e.what());
    }
  }
  BOOST_TEST(scalar(db.conninfo(), "SELECT count(*) FROM esrp.call_event WHERE kind <> 'x'") == 5);
}

BOOST_AUTO_TEST_CASE(story_reads_calls_back) {
  TestDatabase db;
  SpoolDir spool;
  {
    CallLog log(config_for(db.conninfo(), spool));
    for (int n = 0; n < 30; ++n) log.append(numbered(n, 3));
    // A second call of incident 1: its ids on its call_start, as the ESRP writes them, and a
    // later event without ids, found through the call_start.
    CallEvent other = numbered(30, 3);
    other.kind = "call_start";
    other.sip_call_id = "second-call-of-incident@x";
    other.emergency_call_id = "urn:emergency:uid:callid:second:esrp.example";
    other.incident_id = incident_id(1);
    log.append(other);
    other = numbered(31, 3);
    other.sip_call_id = "second-call-of-incident@x";
    other.emergency_call_id.clear();
    other.incident_id.clear();
    log.append(other);
    CallEvent ringing = numbered(35, 3);  // call_start
    ringing.sip_call_id = "ringing@x";
    log.append(ringing);
    CallEvent answered = numbered(42, 3);  // call_start
    answered.sip_call_id = "answered@x";
    answered.incident_id.clear();
    log.append(answered);
    answered = numbered(48, 3);  // call_end
    answered.sip_call_id = "answered@x";
    answered.incident_id.clear();
    answered.detail_json = R"({"outcome":"answered","status":200})";
    log.append(answered);
    BOOST_REQUIRE(log.flush());
  }
  auto story = call_story(db.conninfo(), CallKey::sip_call_id, call_id(1));
  BOOST_REQUIRE_EQUAL(story.size(), 10u);
  for (std::size_t i = 1; i < story.size(); ++i) BOOST_TEST(story[i - 1].at < story[i].at);
  BOOST_TEST(story[0].kind == "location");  // n = 1
  BOOST_TEST(story[0].at == "2026-11-18T11:06:40.001001Z");
  BOOST_TEST(story[0].detail_json == R"({"n": 1, "target": "sip:psap1@psap.example"})");
  BOOST_TEST(story[0].emergency_call_id == emergency_call_id(1));
  auto incident = call_story(db.conninfo(), CallKey::incident_id, incident_id(1));
  BOOST_TEST(incident.size() == 12u);
  BOOST_TEST(std::count_if(incident.begin(), incident.end(),
                           [](const auto& e) { return e.sip_call_id == "second-call-of-incident@x"; }) == 2);
  BOOST_TEST(call_story(db.conninfo(), CallKey::emergency_call_id, emergency_call_id(2)).size() == 11u);  // ringing@x too
  BOOST_TEST(call_story(db.conninfo(), CallKey::sip_call_id, "nobody@x").empty());

  // One line per call_start, newest first: n = 42, 35, 30, 28, 21, ...
  auto recent = recent_calls(db.conninfo(), 4);
  BOOST_REQUIRE_EQUAL(recent.size(), 4u);
  BOOST_TEST(recent[0].sip_call_id == "answered@x");
  BOOST_TEST(recent[0].outcome == "answered");
  BOOST_TEST(recent[0].incident_id.empty());
  BOOST_TEST(recent[1].sip_call_id == "ringing@x");
  BOOST_TEST(recent[1].outcome == "in progress");
  BOOST_TEST(recent[2].sip_call_id == "second-call-of-incident@x");
  BOOST_TEST(recent[3].sip_call_id == call_id(28 % 3));
  BOOST_TEST(recent[3].outcome == "ended");  // call 1's call_end (n = 13) has no outcome
  BOOST_TEST(recent[3].incident_id == incident_id(1));
  BOOST_TEST(recent_calls(db.conninfo(), 100).size() == 8u);
  BOOST_CHECK_THROW(call_story(unreachable_conninfo(), CallKey::sip_call_id, "x"), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(calllog_outage)

BOOST_AUTO_TEST_CASE(unreachable_database_then_replay_exactly_once) {
  TestDatabase db;
  SpoolDir spool;
  constexpr int kEvents = 300;
  {
    CallLog log(config_for(unreachable_conninfo(), spool));
    for (int n = 0; n < kEvents; ++n) log.append(numbered(n));
    BOOST_TEST(!log.flush());  // the attempt failed: the events wait in the spool
    auto c = log.counters();
    BOOST_TEST(!log.database_up());
    BOOST_TEST(c.write_failures >= 1u);
    BOOST_TEST(c.spooled_pending == static_cast<std::uint64_t>(kEvents));
    BOOST_TEST(c.written == 0u);
  }
  {
    CallLog log(config_for(db.conninfo(), spool));
    BOOST_TEST(log.counters().spooled_pending == static_cast<std::uint64_t>(kEvents));
    BOOST_TEST(log.flush());
    auto c = log.counters();
    BOOST_TEST(c.replayed == static_cast<std::uint64_t>(kEvents));
    BOOST_TEST(c.written == static_cast<std::uint64_t>(kEvents));
    BOOST_TEST(c.duplicates == 0u);
    BOOST_TEST(c.spooled_pending == 0u);
  }
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(kEvents), boost::test_tools::per_element());
  {
    CallLog log(config_for(db.conninfo(), spool));  // nothing left to send
    BOOST_TEST(log.flush());
    BOOST_TEST(log.counters().replayed == 0u);
    BOOST_TEST(log.counters().written == 0u);
  }
  BOOST_TEST(scalar(db.conninfo(), "SELECT count(*) FROM esrp.call_event") == kEvents);
  BOOST_TEST(spool.segments().size() == 1u);  // the last run's own, empty one
}

// A restart after a clean stop sends nothing again: the spool remembers how far it got.
BOOST_AUTO_TEST_CASE(restart_resends_nothing_already_sent) {
  TestDatabase db;
  SpoolDir spool;
  {
    CallLog log(config_for(db.conninfo(), spool));
    for (int n = 0; n < 100; ++n) log.append(numbered(n));
    BOOST_REQUIRE(log.flush());
  }
  {
    CallLog log(config_for(db.conninfo(), spool));
    BOOST_TEST(log.counters().spooled_pending == 0u);
    BOOST_REQUIRE(log.flush());
    for (int n = 100; n < 150; ++n) log.append(numbered(n));
    BOOST_REQUIRE(log.flush());
    auto c = log.counters();
    BOOST_TEST(c.replayed == 0u);
    BOOST_TEST(c.duplicates == 0u);
    BOOST_TEST(c.written == 50u);
  }
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(150), boost::test_tools::per_element());
}

// The worst case of a kill: the events reached PostgreSQL but the record of it did not reach
// the disk. Sending them all again must change nothing.
BOOST_AUTO_TEST_CASE(replay_of_events_already_stored_changes_nothing) {
  TestDatabase db;
  SpoolDir spool, copy;
  {
    CallLog log(config_for(unreachable_conninfo(), spool));
    for (int n = 0; n < 300; ++n) log.append(numbered(n));
  }
  for (const auto& e : fs::directory_iterator(spool.path()))
    fs::copy(e.path(), copy.path() / e.path().filename(), fs::copy_options::overwrite_existing);
  {
    CallLog log(config_for(db.conninfo(), spool));
    BOOST_REQUIRE(log.flush());
    BOOST_TEST(log.counters().duplicates == 0u);
  }
  {
    CallLog log(config_for(db.conninfo(), copy));  // the spool as it was before it was sent
    BOOST_REQUIRE(log.flush());
    auto c = log.counters();
    BOOST_TEST(c.replayed == 300u);
    BOOST_TEST(c.duplicates == 300u);
    BOOST_TEST(c.rejected == 0u);
  }
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(300), boost::test_tools::per_element());
}

// Records this run already stored once (a commit whose answer never came back, or a record
// both in the spool and in memory after a failed spool write) come again in a batch of its own:
// the batch's COPY meets the unique event_uid, and the batch goes again, skipping those.
BOOST_AUTO_TEST_CASE(own_records_stored_before_are_skipped_not_refused) {
  TestDatabase db;
  SpoolDir spool;
  CallLog log(config_for(db.conninfo(), spool));
  log.append(numbered(0));
  BOOST_REQUIRE(log.flush());
  // The next event's uid is the first's with the next sequence number.
  pqxx::connection conn(db.conninfo());
  {
    pqxx::work tx(conn);
    std::string first = tx.exec1("SELECT event_uid FROM esrp.call_event")[0].as<std::string>();
    BOOST_REQUIRE(first.ends_with(":0"));
    std::string second = first.substr(0, first.size() - 1) + "1";
    tx.exec_params("INSERT INTO esrp.call_event (event_uid, esrp_id, at, kind, detail) "
                   "VALUES ($1, 'esrp-test.example', now(), 'route', '{\"n\": 1, \"stored\": \"before\"}')",
                   second);
    tx.commit();
  }
  for (int n = 1; n < 4; ++n) log.append(numbered(n));
  BOOST_REQUIRE(log.flush());
  auto c = log.counters();
  BOOST_TEST(c.written == 4u);
  BOOST_TEST(c.duplicates == 1u);
  BOOST_TEST(c.rejected == 0u);
  BOOST_TEST(c.batches == 2u);  // the second batch whole again, not record by record
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(4), boost::test_tools::per_element());
  BOOST_TEST(scalar(db.conninfo(), "SELECT count(*) FROM esrp.call_event WHERE detail->>'stored' = 'before'") == 1);
}

// A spool that an earlier version left, in its format (a JSON object per line), is still sent.
BOOST_AUTO_TEST_CASE(spool_of_json_records_from_an_earlier_version_is_sent) {
  TestDatabase db;
  SpoolDir spool;
  {
    std::ofstream out(spool.path() / "segment-00000000000000000007.spool", std::ios::binary);
    out << R"({"event_uid":"old:1","esrp_id":"esrp-old","at":"2026-11-20T10:00:00.250000Z","sip_call_id":"a\tb@x",)"
        << R"("emergency_call_id":"urn:emergency:uid:callid:1:esrp-old","incident_id":"urn:emergency:uid:incidentid:1:esrp-old",)"
        << R"("kind":"call_start","detail":{"n":0,"from":"back\\slash"}})" << "\n";
    out << R"({"event_uid":"old:2","esrp_id":"esrp-old","at":"2026-11-20T10:00:01Z","sip_call_id":"",)"
        << R"("emergency_call_id":"","incident_id":"","kind":"notify","detail":{"n":1}})" << "\n";
  }
  CallLog log(config_for(db.conninfo(), spool));
  BOOST_TEST(log.counters().spooled_pending == 2u);
  BOOST_REQUIRE(log.flush());
  auto c = log.counters();
  BOOST_TEST(c.written == 2u);
  BOOST_TEST(c.replayed == 2u);
  BOOST_TEST(c.rejected == 0u);
  pqxx::connection conn(db.conninfo());
  pqxx::read_transaction tx(conn);
  auto rows = tx.exec(
      "SELECT event_uid, esrp_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), sip_call_id, "
      "emergency_call_id, incident_id, kind, detail::text FROM esrp.call_event ORDER BY id");
  BOOST_REQUIRE_EQUAL(rows.size(), 2u);
  BOOST_TEST(rows[0][0].as<std::string>() == "old:1");
  BOOST_TEST(rows[0][1].as<std::string>() == "esrp-old");
  BOOST_TEST(rows[0][2].as<std::string>() == "2026-11-20T10:00:00.250000");
  BOOST_TEST(rows[0][3].as<std::string>() == "a\tb@x");
  BOOST_TEST(rows[0][4].as<std::string>() == "urn:emergency:uid:callid:1:esrp-old");
  BOOST_TEST(rows[0][5].as<std::string>() == "urn:emergency:uid:incidentid:1:esrp-old");
  BOOST_TEST(rows[0][6].as<std::string>() == "call_start");
  BOOST_TEST(rows[0][7].as<std::string>() == R"({"n": 0, "from": "back\\slash"})");
  BOOST_TEST(rows[1][3].is_null());
  BOOST_TEST(rows[1][4].is_null());
  BOOST_TEST(rows[1][5].is_null());
  BOOST_TEST(rows[1][7].as<std::string>() == R"({"n": 1})");
}

BOOST_AUTO_TEST_CASE(database_goes_away_and_comes_back) {
  TestDatabase db;
  SpoolDir spool;
  TcpRelay relay(pg_port());
  std::string via_relay = "host=127.0.0.1 port=" + std::to_string(relay.port()) + " dbname=" + db.name();
  std::mutex reports_mutex;
  std::vector<std::string> reports;
  CallLogConfig config = config_for(via_relay, spool);
  config.report = [&](const std::string& line) {
    std::lock_guard lock(reports_mutex);
    reports.push_back(line);
  };
  CallLog log(config);
  for (int n = 0; n < 100; ++n) log.append(numbered(n));
  BOOST_REQUIRE(log.flush());
  BOOST_TEST(log.database_up());

  relay.set_up(false);
  for (int n = 100; n < 250; ++n) log.append(numbered(n));
  BOOST_TEST(!log.flush());
  BOOST_TEST(!log.database_up());
  BOOST_TEST(log.counters().spooled_pending == 150u);
  BOOST_TEST(scalar(db.conninfo(), "SELECT count(*) FROM esrp.call_event") == 100);

  relay.set_up(true);
  // No flush: the writer's own reconnection (backoff) must bring the spool over.
  BOOST_TEST(eventually([&] { return scalar(db.conninfo(), "SELECT count(*) FROM esrp.call_event") == 250; }));
  BOOST_TEST(log.database_up());
  BOOST_TEST(log.flush());
  auto c = log.counters();
  BOOST_TEST(c.written == 250u);
  BOOST_TEST(c.duplicates == 0u);
  BOOST_TEST(c.write_failures >= 1u);
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(250), boost::test_tools::per_element());
  std::lock_guard lock(reports_mutex);
  std::string all;
  for (const auto& r : reports) all += r + "\n";
  BOOST_TEST(all.find("database down") != std::string::npos, all);
  BOOST_TEST(all.find("database up") != std::string::npos, all);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(calllog_crash)

// A child that appends and leaves with _exit: no destructor, no flush.
BOOST_AUTO_TEST_CASE(process_exit_without_flush_is_replayed_without_duplicates) {
  TestDatabase db;
  SpoolDir spool;
  constexpr int kEvents = 3000;
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    auto log = std::make_unique<CallLog>(config_for(db.conninfo(), spool));
    for (int n = 0; n < 1000; ++n) log->append(numbered(n));
    if (!log->flush()) ::_exit(1);
    for (int n = 1000; n < kEvents; ++n) log->append(numbered(n));
    std::this_thread::sleep_for(15ms);  // let the writer be half-way through something
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto before = scalar(db.conninfo(), "SELECT count(*) FROM esrp.call_event");
  BOOST_TEST_MESSAGE("rows in the database when the process died: " << before);
  BOOST_TEST(before >= 1000);
  BOOST_TEST(before <= kEvents);

  CallLog log(config_for(db.conninfo(), spool));
  BOOST_REQUIRE(log.flush());
  auto c = log.counters();
  BOOST_TEST(scalar(db.conninfo(), "SELECT count(*) FROM esrp.call_event") == kEvents);
  BOOST_TEST(scalar(db.conninfo(), "SELECT count(DISTINCT event_uid) FROM esrp.call_event") == kEvents);
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(kEvents), boost::test_tools::per_element());
  // Sent again or not, every replayed event was confirmed; those the database had are the duplicates.
  BOOST_TEST(c.replayed == c.written);
  BOOST_TEST(c.written - c.duplicates == static_cast<std::uint64_t>(kEvents - before));
  BOOST_TEST(c.rejected == 0u);
}

// SIGKILL at an arbitrary moment of a stream: every event whose append() had returned is in
// the database afterwards, once, in order.
BOOST_AUTO_TEST_CASE(sigkill_mid_stream_loses_nothing_appended) {
  TestDatabase db;
  SpoolDir spool;
  constexpr int kMaxEvents = 200000;  // bound: the child is killed long before
  int progress[2];
  BOOST_REQUIRE(::pipe(progress) == 0);
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    ::close(progress[0]);
    auto config = config_for(db.conninfo(), spool);
    config.segment_bytes = 64 * 1024;  // rotation under way when the kill comes
    auto log = std::make_unique<CallLog>(config);
    for (int n = 0; n < kMaxEvents; ++n) {
      log->append(numbered(n));
      // Part in the database, part on its way, part only in the spool when the kill comes.
      if (n + 1 == 2000 && !log->flush()) ::_exit(2);
      if ((n + 1) % 500 == 0) std::this_thread::sleep_for(2ms);
      if ((n + 1) % 100 == 0) {
        int done = n + 1;
        if (::write(progress[1], &done, sizeof done) != sizeof done) ::_exit(3);
      }
    }
    ::_exit(0);
  }
  ::close(progress[1]);
  int reported = 0, done = 0;
  while (reported < 5000 && ::read(progress[0], &done, sizeof done) == sizeof done) reported = done;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(progress[0]);
  auto before = scalar(db.conninfo(), "SELECT count(*) FROM esrp.call_event");
  BOOST_TEST_MESSAGE("appends returned before the kill: at least " << reported << "; in the database then: " << before);
  BOOST_REQUIRE(reported >= 5000);
  BOOST_TEST(before >= 2000);

  auto config = config_for(db.conninfo(), spool);
  std::mutex reports_mutex;
  std::string reports;
  config.report = [&](const std::string& line) {
    std::lock_guard lock(reports_mutex);
    reports += line + "\n";
  };
  CallLog log(config);
  bool flushed = log.flush();
  {
    std::lock_guard lock(reports_mutex);
    BOOST_REQUIRE_MESSAGE(flushed, reports);
  }
  auto numbers = numbers_in_order(db.conninfo());
  BOOST_TEST(numbers.size() >= static_cast<std::size_t>(reported));
  BOOST_TEST(numbers == iota(static_cast<int>(numbers.size())), boost::test_tools::per_element());
  BOOST_TEST(scalar(db.conninfo(), "SELECT count(DISTINCT event_uid) FROM esrp.call_event") ==
             static_cast<std::int64_t>(numbers.size()));
  BOOST_TEST(log.counters().spooled_pending == 0u);
  BOOST_TEST(log.counters().rejected == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(calllog_rotation)

BOOST_AUTO_TEST_CASE(segments_rotate_and_go_once_in_the_database) {
  TestDatabase db;
  SpoolDir spool;
  auto config = config_for(db.conninfo(), spool);
  config.segment_bytes = 8 * 1024;
  std::size_t most_segments = 0;
  {
    CallLog log(config);
    for (int n = 0; n < 400; ++n) {
      log.append(numbered(n));
      if (n % 50 == 0) most_segments = std::max(most_segments, spool.segments().size());
    }
    BOOST_TEST(log.flush());
    // Segments wholly in the database are removed; the one being written stays.
    BOOST_TEST(eventually([&] { return spool.segments().size() == 1; }, 5s));
  }
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(400), boost::test_tools::per_element());
  BOOST_TEST_MESSAGE("most segments at once: " << most_segments);
}

BOOST_AUTO_TEST_CASE(rotated_spool_replays_across_segments) {
  TestDatabase db;
  SpoolDir spool;
  {
    auto config = config_for(unreachable_conninfo(), spool);
    config.segment_bytes = 4 * 1024;
    CallLog log(config);
    for (int n = 0; n < 300; ++n) log.append(numbered(n));
    BOOST_TEST(!log.flush());
  }
  BOOST_TEST(spool.segments().size() > 10u);  // about 300 bytes an event
  {
    CallLog log(config_for(db.conninfo(), spool));
    BOOST_TEST(log.flush());
    BOOST_TEST(log.counters().replayed == 300u);
  }
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(300), boost::test_tools::per_element());
  BOOST_TEST(spool.segments().size() == 1u);
}

BOOST_AUTO_TEST_CASE(spool_has_one_writer) {
  SpoolDir spool;
  CallLog first(config_for(unreachable_conninfo(), spool));
  BOOST_CHECK_THROW(CallLog second(config_for(unreachable_conninfo(), spool)), std::runtime_error);
}

// A record cut short (the process died inside write(2)), a line that is not a record and one
// PostgreSQL refuses: the first is skipped as never appended, the others are set aside in
// rejected.log; none of them stops the records around them.
BOOST_AUTO_TEST_CASE(torn_and_broken_records_do_not_block_the_spool) {
  TestDatabase db;
  SpoolDir spool;
  {
    CallLog log(config_for(unreachable_conninfo(), spool));
    for (int n = 0; n < 3; ++n) log.append(numbered(n));
  }
  auto segments = spool.segments();
  BOOST_REQUIRE_EQUAL(segments.size(), 1u);
  {
    std::ofstream out(segments[0], std::ios::app | std::ios::binary);
    out << "garbage that is not a record\n";
    // JSON, but nothing PostgreSQL can store: refused by the database, one record alone.
    out << R"({"event_uid":"bad-time","esrp_id":"e","at":"yesterday-ish","kind":"route","detail":{}})" << "\n";
  }
  {
    CallLog log(config_for(unreachable_conninfo(), spool));
    log.append(numbered(3));
  }
  segments = spool.segments();
  BOOST_REQUIRE_EQUAL(segments.size(), 2u);
  {
    std::ofstream out(segments[1], std::ios::app | std::ios::binary);
    out << R"({"event_uid":"cut-short","kind":"ro)";
  }
  {
    CallLog log(config_for(db.conninfo(), spool));
    BOOST_TEST(log.counters().spooled_pending == 6u);  // 4 records, the garbage line, the bad time
    BOOST_TEST(log.flush());
    BOOST_TEST(log.counters().rejected == 2u);
    BOOST_TEST(log.counters().written == 4u);
    BOOST_TEST(log.counters().spooled_pending == 0u);
  }
  BOOST_TEST(numbers_in_order(db.conninfo()) == iota(4), boost::test_tools::per_element());
  std::ifstream rejected(spool.path() / "rejected.log");
  std::string text((std::istreambuf_iterator<char>(rejected)), std::istreambuf_iterator<char>());
  BOOST_TEST(text.find("garbage that is not a record") != std::string::npos, text);
  BOOST_TEST(text.find("bad-time") != std::string::npos, text);
  BOOST_TEST(text.find("cut-short") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(calllog_spool_failure)

// The spool cannot take more (here: a file size limit, as a full disk would): the events go to
// PostgreSQL from memory instead, and the spool is used again once it can be.
BOOST_AUTO_TEST_CASE(spool_write_failure_falls_back_to_memory) {
  TestDatabase db;
  SpoolDir spool;
  constexpr int kEvents = 400;  // about 120 KB against a 16 KiB limit
  pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{16 * 1024, 16 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(10);
    int code = 0;
    {
      auto config = config_for(db.conninfo(), spool);
      CallLog log(config);
      for (int n = 0; n < kEvents; ++n) log.append(numbered(n));
      if (!log.flush()) code = 11;
      auto c = log.counters();
      if (c.spool_failures == 0) code = 12;
      if (c.memory_pending != 0) code = 13;
      if (c.written != static_cast<std::uint64_t>(kEvents)) code = 14;
      if (c.dropped != 0) code = 15;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  auto numbers = numbers_in_order(db.conninfo());
  std::sort(numbers.begin(), numbers.end());  // memory and spool interleave; all arrive once
  BOOST_TEST(numbers == iota(kEvents), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(calllog_load)

// Events that trickle in as calls do (one every 200 us here) go in a few large INSERTs per
// flush interval, not one small INSERT (a PostgreSQL transaction) per database round trip.
BOOST_AUTO_TEST_CASE(a_steady_trickle_goes_in_few_batches) {
  TestDatabase db;
  SpoolDir spool;
  auto config = config_for(db.conninfo(), spool);
  config.flush_interval = 50ms;
  CallLog log(config);
  constexpr int kEvents = 2000;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kEvents; ++i) {
    log.append(numbered(i));
    std::this_thread::sleep_until(started + i * 200us);
  }
  BOOST_REQUIRE(log.flush());
  double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto k = log.counters();
  BOOST_TEST(k.written == static_cast<std::uint64_t>(kEvents));
  // At most: a batch per wake-up, per full batch and for the flush, with room for a slow machine.
  auto bound = static_cast<std::uint64_t>(elapsed_s / 0.050) + kEvents / config.batch + 5;
  BOOST_TEST_MESSAGE(kEvents << " events over " << elapsed_s << " s in " << k.batches << " INSERTs (bound " << bound << ")");
  BOOST_TEST(k.batches <= bound);
}

// Two threads appending as event loops would; the figures go to the log (--log_level=message).
BOOST_AUTO_TEST_CASE(two_threads_twenty_thousand_events) {
  TestDatabase db;
  SpoolDir spool;
  constexpr int kPerThread = 10000;
  auto config = config_for(db.conninfo(), spool);
  config.flush_interval = 50ms;
  CallLog log(config);
  std::vector<long long> latency_ns[2];
  auto started = std::chrono::steady_clock::now();
  auto appender = [&](int thread) {
    latency_ns[thread].reserve(kPerThread);
    for (int i = 0; i < kPerThread; ++i) {
      CallEvent e = numbered(thread * kPerThread + i);
      e.sip_call_id = "load-" + std::to_string(thread) + "@x";
      auto t0 = std::chrono::steady_clock::now();
      log.append(std::move(e));
      latency_ns[thread].push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    }
  };
  std::thread a(appender, 0), b(appender, 1);
  a.join();
  b.join();
  auto appended = std::chrono::steady_clock::now();
  BOOST_REQUIRE(log.flush());
  auto stored = std::chrono::steady_clock::now();
  std::vector<long long> all = latency_ns[0];
  all.insert(all.end(), latency_ns[1].begin(), latency_ns[1].end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return static_cast<double>(all[static_cast<std::size_t>(p * static_cast<double>(all.size() - 1))]) / 1000.0; };
  double append_s = std::chrono::duration<double>(appended - started).count();
  double total_s = std::chrono::duration<double>(stored - started).count();
  BOOST_TEST_MESSAGE("appended " << 2 * kPerThread << " events from 2 threads in " << append_s << " s; append() us: p50 "
                                 << pct(0.5) << ", p99 " << pct(0.99) << ", p99.9 " << pct(0.999) << ", max "
                                 << pct(1.0) << "; all in PostgreSQL after " << total_s << " s ("
                                 << 2 * kPerThread / total_s << " events/s)");
  BOOST_TEST(log.counters().written == 2u * kPerThread);
  // Each thread's events keep their order in the table.
  pqxx::connection conn(db.conninfo());
  pqxx::read_transaction tx(conn);
  for (int thread = 0; thread < 2; ++thread) {
    std::vector<int> got;
    for (const auto& row : tx.exec_params("SELECT (detail->>'n')::int FROM esrp.call_event WHERE sip_call_id = $1 ORDER BY id",
                                          "load-" + std::to_string(thread) + "@x"))
      got.push_back(row[0].as<int>() - thread * kPerThread);
    BOOST_TEST(got == iota(kPerThread), boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_SUITE_END()
