// The structured log's buffering: every line written reaches the file once, whole and in each
// writer's order, through bursts far past the flusher's wake-up mark, from several threads, and
// without waiting for the logger's end.
#define BOOST_TEST_MODULE ng911 log tests
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/log.h"

using ng911::lost::Logger;

namespace {

// A file of its own for one test, removed at the end.
struct TempLog {
  std::string path;
  int fd = -1;
  TempLog() {
    char name[] = "/tmp/ng911-log-test.XXXXXX";
    fd = ::mkstemp(name);
    BOOST_REQUIRE(fd >= 0);
    path = name;
  }
  ~TempLog() {
    ::close(fd);
    std::remove(path.c_str());
  }
  std::vector<std::string> lines() const {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
};

// The value of "key":N in a log line, or -1.
long number(const std::string& line, const std::string& key) {
  auto at = line.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stol(line.substr(at + key.size() + 3));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(logger)

BOOST_AUTO_TEST_CASE(a_burst_arrives_once_whole_and_in_order) {
  TempLog file;
  // ~16 MB: many times the 64 KiB mark and past the 4 MiB a flusher's buffer may keep.
  constexpr int kLines = 120'000;
  const std::string pad(100, 'x');
  {
    Logger log(file.fd);
    for (int i = 0; i < kLines; ++i) log.write("info", "burst", {{"seq", i}, {"pad", pad}});
  }
  auto lines = file.lines();
  BOOST_REQUIRE_EQUAL(lines.size(), std::size_t(kLines));
  for (int i = 0; i < kLines; ++i) {
    BOOST_REQUIRE_EQUAL(number(lines[i], "seq"), i);
    BOOST_REQUIRE(lines[i].ends_with("\"pad\":\"" + pad + "\"}"));
  }
}

BOOST_AUTO_TEST_CASE(lines_of_several_threads_keep_each_threads_order) {
  TempLog file;
  constexpr int kThreads = 4, kLines = 20'000;
  {
    Logger log(file.fd);
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t)
      writers.emplace_back([&log, t] {
        for (int i = 0; i < kLines; ++i) log.write("info", "thread", {{"t", t}, {"seq", i}});
      });
    for (auto& w : writers) w.join();
  }
  auto lines = file.lines();
  BOOST_REQUIRE_EQUAL(lines.size(), std::size_t(kThreads * kLines));
  std::map<long, long> next;
  for (const auto& line : lines) {
    long t = number(line, "t"), seq = number(line, "seq");
    BOOST_REQUIRE(t >= 0 && t < kThreads);
    BOOST_REQUIRE_EQUAL(seq, next[t]);
    ++next[t];
  }
}

BOOST_AUTO_TEST_CASE(a_lone_line_is_written_while_the_logger_lives) {
  TempLog file;
  Logger log(file.fd);
  log.write("warning", "lone", {{"why", "nothing else comes"}});
  // The flusher writes at least every 200 ms; 10 s only bounds a broken one.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (file.lines().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto lines = file.lines();
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0].find("\"level\":\"warning\",\"event\":\"lone\",\"why\":\"nothing else comes\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
