#pragma once
// Lexical pieces of the RFC 3261 grammar (section 25) shared by the SIP parsers. Header values
// are views into the received buffer and may still hold line folding (CRLF + WSP); every parser
// here treats CR and LF as linear white space, so nothing is copied to unfold.
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace ng911::sip {

inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool is_lws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
inline bool is_token_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'': case '~':
      return true;
    default:
      return false;
  }
}

inline bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_token_char(c)) return false;
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_lws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_lws(s.back())) s.remove_suffix(1);
  return s;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Decimal number without sign; nullopt on anything else or above max.
inline std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    std::uint64_t next = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (next / 10 != v) return std::nullopt;  // overflow
    v = next;
  }
  if (v > max) return std::nullopt;
  return v;
}

// Calls f with each trimmed piece of `value` between top-level delimiters: not inside a quoted
// string (with its backslash escapes) nor, when `angles`, inside <...>. False when f stops the
// walk (returns false) or the quotes or brackets do not balance.
template <class F>
bool split_top_level(std::string_view value, char delimiter, bool angles, F&& f) {
  bool quoted = false, escaped = false;
  int angle = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (escaped) { escaped = false; continue; }
    if (quoted) {
      if (c == '\\') escaped = true;
      else if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    else if (angles && c == '<') ++angle;
    else if (angles && c == '>') --angle;
    else if (c == delimiter && angle == 0) {
      if (!f(trim(value.substr(start, i - start)))) return false;
      start = i + 1;
    }
  }
  if (quoted || angle != 0) return false;
  return f(trim(value.substr(start)));
}

// Splits a header value at top-level commas, for headers that allow several values in one field.
template <class F>
bool for_each_comma_value(std::string_view value, F&& f) {
  return split_top_level(value, ',', true, std::forward<F>(f));
}

}  // namespace ng911::sip
