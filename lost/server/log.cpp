#include "server/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace ng911::lost {

void append_json_escaped(std::string& out, std::string_view s) {
  // Runs of characters that need no escape are appended whole: every call-log event and log line
  // passes through here.
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, sizeof escaped);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
}

namespace {

std::string now_iso() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

}  // namespace

Logger::Logger(int fd) : fd_(fd) {
  flusher_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(200));
      if (buffer_.empty()) continue;
      std::string out;
      out.swap(buffer_);
      lock.unlock();
      for (std::size_t done = 0; done < out.size();) {
        auto n = ::write(fd_, out.data() + done, out.size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
      }
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
  line += now_iso();
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
    buffer_ += line;
    urgent = buffer_.size() > 64 * 1024;
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
