#include "server/log.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace ng911::lost {

void append_json_escaped(std::string& out, std::string_view s) {
  // Every call-log event and log line passes through here, nearly all of it plain text.
  append_escaped_by_words(
      out, s,
      [](std::uint64_t w) { return !word_has_byte_below(w, 0x20) && !word_has_byte(w, '"') && !word_has_byte(w, '\\'); },
      [](unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; },
      [](std::string& o, unsigned char c) {
        switch (c) {
          case '"': o += "\\\""; break;
          case '\\': o += "\\\\"; break;
          case '\n': o += "\\n"; break;
          case '\r': o += "\\r"; break;
          case '\t': o += "\\t"; break;
          default: {
            static constexpr char kHex[] = "0123456789abcdef";
            const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
            o.append(escaped, sizeof escaped);
          }
        }
      });
}

std::string iso_utc(std::chrono::system_clock::time_point t, int fraction_digits) {
  auto us = std::chrono::floor<std::chrono::microseconds>(t);
  auto sec = std::chrono::floor<std::chrono::seconds>(us);
  std::time_t tt = std::chrono::system_clock::to_time_t(sec);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char text[] = "0000-00-00T00:00:00.000000Z";
  auto put = [&text](std::size_t at, std::size_t width, long long v) {
    for (std::size_t i = 0; i < width; ++i, v /= 10) text[at + width - 1 - i] = static_cast<char>('0' + v % 10);
  };
  long long year = tm.tm_year + 1900LL;
  if (year < 0 || year > 9999) year = 0;  // not a time these logs meet; kept well-formed
  put(0, 4, year);
  put(5, 2, tm.tm_mon + 1);
  put(8, 2, tm.tm_mday);
  put(11, 2, tm.tm_hour);
  put(14, 2, tm.tm_min);
  put(17, 2, tm.tm_sec);
  put(20, 6, static_cast<long long>((us - sec).count()));
  std::size_t digits = static_cast<std::size_t>(std::clamp(fraction_digits, 0, 6));
  std::string out(text, 19);
  if (digits > 0) out.append(text + 19, digits + 1);
  out += 'Z';
  return out;
}


namespace {
// Lines wait up to 200 ms for the flusher; this much wakes it early.
constexpr std::size_t kUrgentBytes = 64 * 1024;
constexpr std::size_t kKeptBytes = 4 * 1024 * 1024;
}  // namespace

Logger::Logger(int fd) : fd_(fd) {
  flusher_ = std::thread([this] {
    // Two buffers change places: the one written out goes back emptied but with its capacity,
    // so appends do not regrow (and copy) a fresh buffer after every write.
    std::string out;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      // A buffer already past the mark goes at once: its wake-up may have come mid-write.
      if (buffer_.size() <= kUrgentBytes) wake_.wait_for(lock, std::chrono::milliseconds(200));
      if (buffer_.empty()) continue;
      out.swap(buffer_);
      lock.unlock();
      for (std::size_t done = 0; done < out.size();) {
        auto n = ::write(fd_, out.data() + done, out.size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
      }
      out.clear();
      if (out.capacity() > kKeptBytes) out = std::string();  // a burst's buffer is not kept
      lock.lock();
    }
  });
}

Logger::~Logger() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  flusher_.join();
  flush();
}

void Logger::write(std::string_view level, std::string_view event, std::initializer_list<LogField> fields) {
  std::string members;
  members.reserve(192);
  for (const auto& f : fields) {
    if (f.value.empty()) continue;
    if (!members.empty()) members += ',';
    members += '"';
    members += f.key;
    members += "\":";
    if (f.quoted) {
      members += '"';
      append_json_escaped(members, f.value);
      members += '"';
    } else {
      members += f.value;
    }
  }
  write_json(level, event, members);
}

void Logger::write_json(std::string_view level, std::string_view event, std::string_view json_members) {
  std::string line;
  line.reserve(64 + json_members.size());
  line += "{\"ts\":\"";
  line += iso_utc(std::chrono::system_clock::now(), 3);
  line += "\",\"level\":\"";
  line += level;
  line += "\",\"event\":\"";
  append_json_escaped(line, event);
  line += '"';
  if (!json_members.empty()) line += ',';
  line += json_members;
  line += "}\n";
  append(std::move(line));
}

void Logger::append(std::string&& line) {
  bool urgent;
  {
    std::lock_guard lock(mutex_);
    // Woken once, when the buffer crosses the mark, not on every line after it.
    urgent = buffer_.size() <= kUrgentBytes && buffer_.size() + line.size() > kUrgentBytes;
    buffer_ += line;
  }
  if (urgent) wake_.notify_one();
}

void Logger::flush() {
  std::string out;
  {
    std::lock_guard lock(mutex_);
    out.swap(buffer_);
  }
  for (std::size_t done = 0; done < out.size();) {
    auto n = ::write(fd_, out.data() + done, out.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace ng911::lost
