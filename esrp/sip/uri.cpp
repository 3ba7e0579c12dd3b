#include "sip/uri.h"

#include "sip/text.h"

namespace ng911::sip {
namespace {

bool is_unreserved(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-': case '_': case '.': case '!': case '~': case '*': case '\'': case '(': case ')':
      return true;
    default:
      return false;
  }
}

// Characters of a part, each either allowed or a %HH escape.
bool all_of_escaped(std::string_view s, bool (*allowed)(char)) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!allowed(s[i])) {
      return false;
    }
  }
  return true;
}

bool user_char(char c) {
  if (is_unreserved(c)) return true;
  switch (c) {
    case '&': case '=': case '+': case '$': case ',': case ';': case '?': case '/':
      return true;
    default:
      return false;
  }
}

bool password_char(char c) {
  if (is_unreserved(c)) return true;
  switch (c) {
    case '&': case '=': case '+': case '$': case ',':
      return true;
    default:
      return false;
  }
}

bool param_char(char c) {
  if (is_unreserved(c)) return true;
  switch (c) {
    case '[': case ']': case '/': case ':': case '&': case '+': case '$':
      return true;
    default:
      return false;
  }
}

bool header_char(char c) {
  if (is_unreserved(c)) return true;
  switch (c) {
    case '[': case ']': case '/': case '?': case ':': case '+': case '$': case '=': case '&':
      return true;
    default:
      return false;
  }
}

bool is_hostname(std::string_view h) {
  if (h.empty()) return false;
  if (h.back() == '.') h.remove_suffix(1);
  if (h.empty()) return false;
  std::size_t start = 0;
  while (true) {
    auto dot = h.find('.', start);
    auto label = h.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool is_ipv6(std::string_view h) {
  if (h.size() < 2) return false;
  int colons = 0;
  for (char c : h) {
    if (c == ':') ++colons;
    else if (!is_hex(c) && c != '.') return false;
  }
  return colons >= 2;
}

}  // namespace

const Param* find_param(const std::vector<Param>& params, std::string_view name) {
  for (const auto& p : params)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

std::vector<Param> parse_params(std::string_view text, bool allow_quoted_values) {
  std::vector<Param> out;
  text = trim(text);
  if (text.empty()) return out;
  if (text.front() != ';') throw SyntaxError("expected ';' before a parameter");
  // A value may be a quoted string (header parameters only), which may hold ';'.
  bool balanced = split_top_level(text.substr(1), ';', false, [&](std::string_view item) {
    Param p;
    auto eq = item.find('=');
    p.name = trim(item.substr(0, eq));
    if (p.name.empty()) throw SyntaxError("empty parameter name");
    if (eq != std::string_view::npos) {
      p.has_value = true;
      p.value = trim(item.substr(eq + 1));
      if (p.value.empty()) throw SyntaxError("parameter '" + std::string(p.name) + "=' without a value");
      if (p.value.front() == '"') {
        if (!allow_quoted_values || p.value.size() < 2 || p.value.back() != '"')
          throw SyntaxError("bad quoted value of parameter " + std::string(p.name));
      } else {
        for (char c : p.value)
          if (!is_token_char(c) && c != ':' && c != '[' && c != ']')
            throw SyntaxError("bad character in the value of parameter " + std::string(p.name));
      }
    }
    for (char c : p.name)
      if (!is_token_char(c)) throw SyntaxError("bad parameter name '" + std::string(p.name) + "'");
    out.push_back(p);
    return true;
  });
  if (!balanced) throw SyntaxError("unterminated quoted parameter value");
  return out;
}

Uri parse_uri(std::string_view text) {
  Uri u;
  u.text = text;
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) throw SyntaxError("URI without a scheme");
  u.scheme_name = text.substr(0, colon);
  if (!is_alpha(u.scheme_name.front())) throw SyntaxError("bad URI scheme");
  for (char c : u.scheme_name)
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') throw SyntaxError("bad URI scheme");
  std::string_view rest = text.substr(colon + 1);
  for (char c : rest)
    if (is_lws(c) || static_cast<unsigned char>(c) < 0x20 || c == '<' || c == '>' || c == '"')
      throw SyntaxError("URI contains white space or a character that must be escaped");
  if (rest.empty()) throw SyntaxError("URI with nothing after the scheme");

  if (iequals(u.scheme_name, "sip") || iequals(u.scheme_name, "sips")) {
    u.scheme = iequals(u.scheme_name, "sip") ? Scheme::sip : Scheme::sips;
    // Only the userinfo may hold '?' and ';' unescaped before an '@'; neither the host, the
    // parameters nor the headers may hold an '@'. So an '@' ends the userinfo.
    if (auto at = rest.find('@'); at != std::string_view::npos) {
      std::string_view userinfo = rest.substr(0, at);
      rest = rest.substr(at + 1);
      auto pc = userinfo.find(':');
      u.user = userinfo.substr(0, pc);
      if (pc != std::string_view::npos) {
        u.password = userinfo.substr(pc + 1);
        if (!all_of_escaped(u.password, password_char)) throw SyntaxError("bad character in the URI password");
      }
      if (u.user.empty()) throw SyntaxError("URI with an empty user part");
      if (!all_of_escaped(u.user, user_char)) throw SyntaxError("bad character in the URI user part");
    }
    if (auto q = rest.find('?'); q != std::string_view::npos) {
      u.headers = rest.substr(q + 1);
      rest = rest.substr(0, q);
      if (u.headers.empty() || !all_of_escaped(u.headers, header_char)) throw SyntaxError("bad URI headers");
    }
    auto semi = rest.find(';');
    std::string_view hostport = rest.substr(0, semi);
    if (semi != std::string_view::npos) {
      std::string_view params = rest.substr(semi);
      // URI parameters: pname[=pvalue], both paramchars.
      std::size_t start = 1;
      while (start <= params.size()) {
        auto next = params.find(';', start);
        std::string_view item = params.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
        if (item.empty()) throw SyntaxError("empty URI parameter");
        Param p;
        auto eq = item.find('=');
        p.name = item.substr(0, eq);
        if (p.name.empty() || !all_of_escaped(p.name, param_char)) throw SyntaxError("bad URI parameter name");
        if (eq != std::string_view::npos) {
          p.has_value = true;
          p.value = item.substr(eq + 1);
          if (!all_of_escaped(p.value, param_char)) throw SyntaxError("bad URI parameter value");
        }
        u.params.push_back(p);
        if (next == std::string_view::npos) break;
        start = next + 1;
      }
    }
    if (hostport.empty()) throw SyntaxError("SIP URI without a host");
    if (hostport.front() == '[') {
      auto close = hostport.find(']');
      if (close == std::string_view::npos) throw SyntaxError("unterminated IPv6 reference");
      u.host = hostport.substr(1, close - 1);
      u.ipv6 = true;
      if (!is_ipv6(u.host)) throw SyntaxError("bad IPv6 reference");
      hostport = hostport.substr(close + 1);
      if (!hostport.empty()) {
        if (hostport.front() != ':') throw SyntaxError("junk after the IPv6 reference");
        auto port = parse_uint(hostport.substr(1), 65535);
        if (!port) throw SyntaxError("bad port");
        u.port = static_cast<unsigned>(*port);
      }
    } else {
      auto pc = hostport.find(':');
      u.host = hostport.substr(0, pc);
      if (pc != std::string_view::npos) {
        auto port = parse_uint(hostport.substr(pc + 1), 65535);
        if (!port) throw SyntaxError("bad port");
        u.port = static_cast<unsigned>(*port);
      }
      if (!is_hostname(u.host)) throw SyntaxError("bad host '" + std::string(u.host) + "'");
    }
    return u;
  }
  if (iequals(u.scheme_name, "tel")) {
    u.scheme = Scheme::tel;
    auto semi = rest.find(';');
    u.number = rest.substr(0, semi);
    if (u.number.empty()) throw SyntaxError("tel URI without a number");
    for (char c : u.number)
      if (!is_digit(c) && !is_hex(c) && c != '+' && c != '-' && c != '.' && c != '(' && c != ')' && c != '*' && c != '#')
        throw SyntaxError("bad character in a tel number");
    if (semi != std::string_view::npos) u.params = parse_params(rest.substr(semi), false);
    return u;
  }
  if (iequals(u.scheme_name, "urn")) {
    u.scheme = Scheme::urn;
    auto c2 = rest.find(':');
    if (c2 == std::string_view::npos || c2 == 0 || c2 + 1 == rest.size()) throw SyntaxError("URN without NID and NSS");
    u.nid = rest.substr(0, c2);
    u.nss = rest.substr(c2 + 1);
    return u;
  }
  u.scheme = Scheme::other;
  u.opaque = rest;
  return u;
}

}  // namespace ng911::sip
