#pragma once
// SIP, SIPS, TEL and URN URIs (RFC 3261 §19.1, RFC 3966, RFC 8141), parsed into views of the
// text they came from. Other schemes are kept opaque (RFC 3261 allows any absoluteURI).
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ng911::sip {

// A syntax error in a SIP message or one of its parts; the text says what, for a 400 reason.
class SyntaxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Param {
  std::string_view name;
  std::string_view value;  // empty for a flag (";lr")
  bool has_value = false;
};

// ;name[=value] lists as in URIs and header fields. Returns the first with that name
// (case-insensitive), or nullptr.
const Param* find_param(const std::vector<Param>& params, std::string_view name);

enum class Scheme { sip, sips, tel, urn, other };

struct Uri {
  Scheme scheme = Scheme::other;
  std::string_view text;    // the whole URI
  std::string_view scheme_name;
  // sip, sips
  std::string_view user, password, host;  // host without [] for IPv6
  bool ipv6 = false;
  std::optional<unsigned> port;
  std::vector<Param> params;
  std::string_view headers;  // after '?', raw
  // tel: number; urn: nid and nss; other: everything after the colon
  std::string_view number, nid, nss, opaque;

  bool is_sip() const { return scheme == Scheme::sip || scheme == Scheme::sips; }
  const Param* param(std::string_view name) const { return find_param(params, name); }
};

// Throws SyntaxError. The view must outlive the Uri.
Uri parse_uri(std::string_view text);

// Parses ";a=b;c" starting at a ';' (or empty). Throws SyntaxError on a bad name or value.
std::vector<Param> parse_params(std::string_view text, bool allow_quoted_values);

}  // namespace ng911::sip
