// libFuzzer target: any bytes as a SIP datagram and as a stream, through the parser, every
// typed accessor, the proxy checks, the body splitter and a proxy's edit and re-parse. It
// must never crash, and an edited valid message must parse again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sip/body.h"
#include "sip/builder.h"
#include "sip/proxy_checks.h"

using namespace ng911::sip;

namespace {

template <class F>
void tolerate(F&& f) {
  try {
    f();
  } catch (const SyntaxError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  tolerate([&] { stream_frame_length(bytes); });
  for (bool stream : {false, true}) {
    Message m = Message::parse(bytes, {.stream = stream});
    if (m.is_request()) tolerate([&] { check_request(m); });
    if (m.is_response()) tolerate([&] { response_forwardable(m); });
    tolerate([&] { m.vias(); });
    tolerate([&] { m.contacts(); });
    tolerate([&] { m.route(); });
    tolerate([&] { m.geolocation(); });
    tolerate([&] { m.call_info(); });
    tolerate([&] { m.history_info(); });
    tolerate([&] { m.resource_priority(); });
    tolerate([&] { m.reasons(); });
    tolerate([&] { body_parts(m); });
    if (m.ok()) {
      // What a proxy does to a request it forwards must give a message that parses again.
      auto b = MessageBuilder::edit(m);
      b.push_via("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfuzz").pop_first_value(HeaderId::route);
      Message again = Message::parse(b.str());
      if (!again.ok() && again.error().find("Route") == std::string::npos && m.is_request() &&
          again.error().find("Via") == std::string::npos)
        __builtin_trap();
    }
  }
  return 0;
}
