#pragma once
// A SIP message (RFC 3261 §7) parsed in place: the start line, the header fields and the body
// are views into the message's own copy of the received bytes; nothing else is copied. Typed
// values (Via, From, CSeq, ...) are parsed from those views on demand (headers.h).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/headers.h"

namespace ng911::sip {

enum class HeaderId : std::uint8_t {
  other, accept, allow, allow_events, authorization, call_id, call_info, contact, content_disposition,
  content_encoding, content_id, content_length, content_type, cseq, date, event, expires, from, geolocation,
  geolocation_error, geolocation_routing, history_info, max_forwards, proxy_authorization, proxy_require,
  reason, record_route, refer_to, referred_by, require, resource_priority, route, subject, subscription_state,
  supported, to, unsupported, user_agent, via, count_
};

// Long or compact name, any case; HeaderId::other when not one of ours.
HeaderId header_id(std::string_view name);
std::string_view canonical_name(HeaderId id);

struct Header {
  HeaderId id = HeaderId::other;
  std::string_view name;   // as received
  std::string_view value;  // trimmed, folding kept (parsers treat CRLF as white space)
};

struct ParseOptions {
  bool stream = false;          // framed by Content-Length (TCP/TLS): it must be present
  std::size_t max_headers = 512;
  // The RFC 3261 checks of every header field (check()). Off only where this process re-parses
  // a message it built from one that passed them (a stamped Via, a forwarded copy): the checks
  // cost more than the parse and would find nothing new.
  bool check = true;
};

class Message {
 public:
  // Parses one message. Never throws: a malformed message comes back with error() set and as
  // much parsed as was possible, so that a request can still be answered with 400.
  static Message parse(std::string bytes, const ParseOptions& options = {});

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // The response a malformed request deserves: 400, or 505 for an unknown SIP version.
  int error_status() const { return error_status_; }

  bool is_request() const { return is_request_; }
  bool is_response() const { return !is_request_ && status_ != 0; }
  std::string_view method() const { return method_; }
  std::string_view request_uri() const { return request_uri_; }
  std::string_view version() const { return version_; }
  int status() const { return status_; }
  std::string_view reason() const { return reason_; }

  const std::vector<Header>& headers() const { return headers_; }
  const Header* find(HeaderId id) const;
  std::vector<const Header*> find_all(HeaderId id) const;
  std::string_view value(HeaderId id) const;  // first value or empty

  std::string_view body() const { return body_; }
  std::string_view bytes() const { return *data_; }
  // Bytes after the message that the datagram or stream held (a second message, or junk).
  std::size_t consumed() const { return consumed_; }

  // Typed accessors; they throw SyntaxError only when ok() is false for that header, which
  // parse() has already checked for the mandatory ones.
  std::vector<Via> vias() const;
  // Parsed once and kept: transactions and the proxy ask for it several times per message.
  // (Not thread-safe, like the rest of a Message's use: one event loop owns it.)
  const Via& top_via() const;
  // Puts `via_parm` in place of the top Via's via-parm (a proxy stamping received and rport,
  // RFC 3261 §18.2.1, RFC 3581): the bytes are copied once and the views moved, where building
  // the message anew and parsing it again cost some 20,000 instructions per request.
  void replace_top_via(std::string_view via_parm);
  NameAddr from() const { return parse_name_addr(value(HeaderId::from)); }
  NameAddr to() const { return parse_name_addr(value(HeaderId::to)); }
  std::string_view call_id() const { return value(HeaderId::call_id); }
  CSeq cseq() const { return parse_cseq(value(HeaderId::cseq)); }
  std::optional<unsigned> max_forwards() const;
  std::optional<MediaType> content_type() const;
  std::vector<NameAddr> route() const;
  std::vector<NameAddr> record_route() const;
  std::vector<NameAddr> contacts() const;       // "*" gives an empty list
  std::vector<NameAddr> geolocation() const;    // RFC 6442
  std::vector<NameAddr> call_info() const;      // NENA: purpose=emergency-CallId, ...
  std::vector<NameAddr> history_info() const;   // RFC 7044
  std::vector<ResourcePriority> resource_priority() const;
  std::vector<Reason> reasons() const;
  Uri parsed_request_uri() const { return parse_uri(request_uri_); }

  Message(Message&&) noexcept = default;
  Message& operator=(Message&&) noexcept = default;

 private:
  Message() = default;
  void parse_start_line(std::string_view line);
  void parse_headers(std::string_view block, const ParseOptions& options);
  void frame_body(std::string_view rest, const ParseOptions& options);
  void check();
  void fail(std::string why, int status = 400);

  // The bytes live on the heap so that the views survive moves of the Message.
  std::unique_ptr<std::string> data_;
  std::string error_;
  int error_status_ = 400;
  bool is_request_ = false;
  std::string_view method_, request_uri_, version_, reason_, body_;
  int status_ = 0;
  std::vector<Header> headers_;
  std::size_t consumed_ = 0;
  mutable std::optional<Via> top_via_;  // views into *data_, which moves with the message
};

// For stream transports: the length of the first complete message in `buffer` (headers and
// Content-Length body), nullopt while incomplete; throws SyntaxError when the header block has
// no valid Content-Length or grows past max_header_bytes.
std::optional<std::size_t> stream_frame_length(std::string_view buffer, std::size_t max_header_bytes = 64 * 1024);

}  // namespace ng911::sip
