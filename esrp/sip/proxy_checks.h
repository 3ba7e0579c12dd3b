#pragma once
// Request validation of a proxy, RFC 3261 §16.3: what a request must pass before it is
// routed, and the response that refuses it otherwise.
#include <optional>
#include <string>
#include <vector>

#include "sip/message.h"

namespace ng911::sip {

struct Rejection {
  int status = 400;
  std::string reason;
  std::string unsupported;  // for 420: the Unsupported header value
};

struct ProxyRules {
  // URI schemes we can route: SIP, SIPS, TEL, and URNs (urn:service:sos, NENA's urn:emergency).
  bool accept_tel = true;
  bool accept_urn = true;
  std::vector<std::string> supported_extensions;  // option tags this proxy understands
};

// 400/505 for a malformed request; 416 for a Request-URI scheme we cannot route; 483 for
// Max-Forwards 0; 420 (with the Unsupported list) for a Proxy-Require we do not support.
std::optional<Rejection> check_request(const Message& request, const ProxyRules& rules = {});

// Responses are forwarded to the next Via; a sent-by that is a broadcast or unspecified address
// is refused (RFC 4475 §3.3.11), as is a malformed response.
bool response_forwardable(const Message& response);

}  // namespace ng911::sip
