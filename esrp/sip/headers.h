#pragma once
// Typed views of the SIP header fields a proxy and NENA i3 need (RFC 3261 §20, RFC 6442,
// RFC 4412, RFC 7044, RFC 3326, NENA-STA-010 Call-Info purposes). Each parses a header value
// (possibly folded) into views; SyntaxError on bad input.
#include <optional>
#include <string_view>
#include <vector>

#include "sip/uri.h"

namespace ng911::sip {

// Via: SIP/2.0/UDP host:port;branch=...;received=...;rport
struct Via {
  std::string_view protocol;   // SIP
  std::string_view version;    // 2.0
  std::string_view transport;  // UDP, TCP, TLS, SCTP, WS, ...
  std::string_view host;       // without [] for IPv6
  std::optional<unsigned> port;
  std::vector<Param> params;
  std::string_view text;       // the whole via-parm

  std::string_view branch() const;
  const Param* param(std::string_view name) const { return find_param(params, name); }
  // RFC 3261 branches start with the magic cookie; others are RFC 2543 transactions.
  bool rfc3261_branch() const;
};
// All via-parms of one Via header value (comma-separated).
std::vector<Via> parse_via(std::string_view value);

// name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route,
// Geolocation, Call-Info, History-Info, Refer-To, ...
struct NameAddr {
  std::string_view display_name;  // without quotes (escapes kept)
  Uri uri;
  std::vector<Param> params;      // header parameters (tag, expires, purpose, ...)
  bool bracketed = false;
  std::string_view text;

  std::string_view tag() const;
  const Param* param(std::string_view name) const { return find_param(params, name); }
};
NameAddr parse_name_addr(std::string_view value);
// Comma-separated list (Contact, Route, Record-Route, Geolocation, Call-Info, History-Info).
// "*" is not a name-addr: callers of Contact handle it first.
std::vector<NameAddr> parse_name_addr_list(std::string_view value);

struct CSeq {
  std::uint32_t number = 0;
  std::string_view method;
};
CSeq parse_cseq(std::string_view value);

// type/subtype;params, e.g. multipart/mixed;boundary=xyz
struct MediaType {
  std::string_view type, subtype;
  std::vector<Param> params;
  bool is(std::string_view t, std::string_view s) const;
  std::string_view param_value(std::string_view name) const;  // unquoted where quoted
};
MediaType parse_media_type(std::string_view value);

// Resource-Priority: namespace.priority, e.g. esnet.1 (RFC 4412; NENA's esnet namespace)
struct ResourcePriority {
  std::string_view ns, priority;
};
std::vector<ResourcePriority> parse_resource_priority(std::string_view value);

// Reason: SIP ;cause=480 ;text="..." (RFC 3326)
struct Reason {
  std::string_view protocol;
  std::vector<Param> params;
};
std::vector<Reason> parse_reason(std::string_view value);

// Comma-separated tokens (Require, Proxy-Require, Supported, Allow, Geolocation-Routing values).
std::vector<std::string_view> parse_token_list(std::string_view value);

// Strips surrounding quotes from a quoted-string parameter value; escapes are kept.
std::string_view unquote(std::string_view v);

}  // namespace ng911::sip
