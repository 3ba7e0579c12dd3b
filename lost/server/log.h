#pragma once
// Structured logs: one JSON object per line on stderr, buffered so that logging every query
// costs a memcpy, not a system call. A background thread flushes at least every 200 ms.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace ng911::lost {

// A field of a log line: numbers and booleans are written bare, text is quoted and escaped.
struct LogField {
  std::string_view key;
  std::string value;
  bool quoted = true;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <class N>
    requires std::is_arithmetic_v<N>
  LogField(std::string_view k, N v) : key(k), value(std::to_string(v)), quoted(false) {
    if constexpr (std::is_same_v<N, bool>) value = v ? "true" : "false";
  }
};

// Appends `s` escaped for a JSON string (without the quotes).
void append_json_escaped(std::string& out, std::string_view s);

// Eight bytes at once, by the usual bit tricks (exact as yes/no answers; bytes from 0x80, UTF-8's,
// never match): whether some byte of `w` is `c`, whether some byte is below `n` (n <= 0x80).
constexpr std::uint64_t kByteOnes = 0x0101010101010101ULL, kByteHighs = 0x8080808080808080ULL;
constexpr bool word_has_byte(std::uint64_t w, unsigned char c) {
  std::uint64_t x = w ^ (kByteOnes * c);
  return ((x - kByteOnes) & ~x & kByteHighs) != 0;
}
constexpr bool word_has_byte_below(std::uint64_t w, unsigned char n) {
  return ((w - kByteOnes * n) & ~w & kByteHighs) != 0;
}

// Appends `s` with the bytes that `needs(c)` names replaced by what `escape(out, c)` appends,
// the rest copied in runs. Text that is nearly all plain (log lines, call-log events) is scanned
// eight bytes at a time while `plain(word)` says none of them needs an escape.
template <class Plain, class Needs, class Escape>
void append_escaped_by_words(std::string& out, std::string_view s, Plain plain, Needs needs, Escape escape) {
  std::size_t run = 0, i = 0;
  while (i < s.size()) {
    if (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, sizeof w);
      if (plain(w)) {
        i += 8;
        continue;
      }
    }
    auto c = static_cast<unsigned char>(s[i++]);
    if (!needs(c)) continue;
    out.append(s.data() + run, i - 1 - run);
    run = i;
    escape(out, c);
  }
  out.append(s.data() + run, s.size() - run);
}

// RFC 3339 UTC with `fraction_digits` (0-6) digits of the second: 2026-11-26T09:41:21.123Z.
// By hand rather than strftime + snprintf: every log line and call-log event takes one.
std::string iso_utc(std::chrono::system_clock::time_point t, int fraction_digits);

class Logger {
 public:
  explicit Logger(int fd = 2);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // {"ts":"...","level":"info","event":"...",...}; empty values are left out.
  void write(std::string_view level, std::string_view event, std::initializer_list<LogField> fields);
  // The same line with fields already written as JSON members ("\"a\":1,\"b\":\"x\""), for
  // callers that build them once for several sinks.
  void write_json(std::string_view level, std::string_view event, std::string_view json_members);
  void flush();

 private:
  void append(std::string&& line);
  int fd_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string buffer_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace ng911::lost
