// How many emergency INVITEs (about 1.4 KB, multipart SDP + PIDF-LO) one core parses per
// second, and with what a proxy reads from each: the top Via's branch, From/To tags, Call-ID,
// CSeq, Max-Forwards, Route, Geolocation and the PIDF-LO found by its cid.
//   ng911-bench-sip-parse FILE [SECONDS]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "sip/body.h"
#include "sip/message.h"

using namespace ng911::sip;
using Clock = std::chrono::steady_clock;

namespace {

template <class F>
void measure(const char* name, double seconds, F&& once) {
  // Bounded by time and count: at most `seconds` and 100 million messages.
  std::size_t n = 0, sink = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (n < 100'000'000) {
    for (int i = 0; i < 1000; ++i) sink += once();
    n += 1000;
    if (Clock::now() >= deadline) break;
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  double count = static_cast<double>(n);
  std::printf("%s_messages_per_second=%.0f %s_ns_per_message=%.0f (n=%zu, check=%zu)\n", name, count / elapsed, name,
              elapsed * 1e9 / count, n, sink % 7);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MESSAGE_FILE [SECONDS]\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  const std::string bytes = s.str();
  double seconds = argc > 2 ? std::stod(argv[2]) : 3.0;
  Message check = Message::parse(bytes);
  if (!check.ok()) {
    std::fprintf(stderr, "%s does not parse: %s\n", argv[1], check.error().c_str());
    return 1;
  }
  std::printf("message_bytes=%zu\n", bytes.size());
  measure("parse", seconds, [&] {
    Message m = Message::parse(bytes);
    return m.headers().size();
  });
  measure("parse_and_read", seconds, [&] {
    Message m = Message::parse(bytes);
    std::size_t x = m.top_via().branch().size() + m.from().tag().size() + m.to().uri.text.size() + m.call_id().size() +
                    m.cseq().number + m.max_forwards().value_or(0) + m.route().size();
    auto geo = m.geolocation();
    auto parts = body_parts(m);
    if (!geo.empty())
      if (const BodyPart* pidf = find_by_content_id(parts, geo.front().uri.text)) x += pidf->body.size();
    return x;
  });
  return 0;
}
