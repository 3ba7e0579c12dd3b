#include "sip/headers.h"

#include "sip/text.h"

namespace ng911::sip {
namespace {

// Splits off a leading token-with-LWS part up to `stop`, returning it trimmed.
std::string_view take_until(std::string_view& s, char stop) {
  auto pos = s.find(stop);
  std::string_view head = s.substr(0, pos);
  s = pos == std::string_view::npos ? std::string_view() : s.substr(pos + 1);
  return trim(head);
}

// Index just past a quoted-string starting at s[0] == '"'; npos if unterminated.
std::size_t quoted_end(std::string_view s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] == '"') return i + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

std::string_view Via::branch() const {
  const Param* b = param("branch");
  return b ? b->value : std::string_view();
}

bool Via::rfc3261_branch() const {
  auto b = branch();
  return b.size() > 7 && b.substr(0, 7) == "z9hG4bK";
}

std::vector<Via> parse_via(std::string_view value) {
  std::vector<Via> out;
  bool ok = for_each_comma_value(value, [&](std::string_view item) {
    if (item.empty()) throw SyntaxError("empty Via value");
    Via v;
    v.text = item;
    std::string_view s = item;
    v.protocol = take_until(s, '/');
    v.version = take_until(s, '/');
    s = trim(s);
    std::size_t t = 0;
    while (t < s.size() && is_token_char(s[t])) ++t;
    v.transport = s.substr(0, t);
    if (!is_token(v.protocol) || !is_token(v.version) || v.transport.empty())
      throw SyntaxError("bad Via sent-protocol in '" + std::string(item) + "'");
    s = trim(s.substr(t));
    auto semi = s.find(';');
    std::string_view hostport = trim(s.substr(0, semi));
    if (hostport.empty()) throw SyntaxError("Via without a host");
    if (hostport.front() == '[') {
      auto close = hostport.find(']');
      if (close == std::string_view::npos) throw SyntaxError("bad IPv6 reference in Via");
      v.host = hostport.substr(1, close - 1);
      hostport = trim(hostport.substr(close + 1));
    } else {
      auto colon = hostport.find(':');
      v.host = trim(hostport.substr(0, colon));
      hostport = colon == std::string_view::npos ? std::string_view() : hostport.substr(colon);
    }
    if (!hostport.empty()) {
      if (hostport.front() != ':') throw SyntaxError("junk after the Via host");
      auto port = parse_uint(trim(hostport.substr(1)), 65535);
      if (!port) throw SyntaxError("bad Via port");
      v.port = static_cast<unsigned>(*port);
    }
    if (v.host.empty()) throw SyntaxError("Via without a host");
    for (char c : v.host)
      if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '-' && c != ':') throw SyntaxError("bad Via host");
    if (semi != std::string_view::npos) v.params = parse_params(s.substr(semi), true);
    out.push_back(std::move(v));
    return true;
  });
  if (!ok) throw SyntaxError("unbalanced quotes or brackets in Via");
  if (out.empty()) throw SyntaxError("empty Via");
  return out;
}

std::string_view NameAddr::tag() const {
  const Param* t = param("tag");
  return t ? t->value : std::string_view();
}

NameAddr parse_name_addr(std::string_view value) {
  NameAddr na;
  std::string_view s = trim(value);
  na.text = s;
  if (s.empty()) throw SyntaxError("empty address");
  std::string_view rest;
  auto lt = s.find('<');
  if (!s.empty() && s.front() == '"') {
    auto end = quoted_end(s);
    if (end == std::string_view::npos) throw SyntaxError("unterminated quoted display name");
    na.display_name = s.substr(1, end - 2);
    s = trim(s.substr(end));
    if (s.empty() || s.front() != '<') throw SyntaxError("a quoted display name must be followed by <URI>");
    lt = 0;
  }
  if (lt != std::string_view::npos) {
    if (na.display_name.empty() && lt > 0) {
      // An unquoted display name is a sequence of tokens separated by LWS.
      std::string_view dn = trim(s.substr(0, lt));
      for (char c : dn)
        if (!is_token_char(c) && !is_lws(c)) throw SyntaxError("display name '" + std::string(dn) + "' must be quoted");
      na.display_name = dn;
    }
    auto gt = s.find('>', lt);
    if (gt == std::string_view::npos) throw SyntaxError("missing '>' after the URI");
    std::string_view inner = s.substr(lt + 1, gt - lt - 1);
    if (inner.empty() || is_lws(inner.front()) || is_lws(inner.back()))
      throw SyntaxError("no white space allowed inside <...>");
    na.uri = parse_uri(inner);
    na.bracketed = true;
    rest = s.substr(gt + 1);
  } else {
    // addr-spec without brackets: the URI ends at the first ';', and may not hold '?' or ','
    // (RFC 3261 §20.10).
    auto semi = s.find(';');
    std::string_view spec = trim(s.substr(0, semi));
    if (spec.find_first_of("?, \t\r\n") != std::string_view::npos)
      throw SyntaxError("a URI with ',', '?' or white space must be enclosed in <>");
    na.uri = parse_uri(spec);
    rest = semi == std::string_view::npos ? std::string_view() : s.substr(semi);
  }
  na.params = parse_params(rest, true);
  return na;
}

std::vector<NameAddr> parse_name_addr_list(std::string_view value) {
  std::vector<NameAddr> out;
  bool ok = for_each_comma_value(value, [&](std::string_view item) {
    if (item.empty()) throw SyntaxError("empty element in an address list");
    out.push_back(parse_name_addr(item));
    return true;
  });
  if (!ok) throw SyntaxError("unbalanced quotes or brackets");
  return out;
}

CSeq parse_cseq(std::string_view value) {
  std::string_view s = trim(value);
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  auto number = parse_uint(s.substr(0, i), 0x7fffffffu);  // RFC 3261 §8.1.1.5: below 2**31
  if (!number) throw SyntaxError("bad CSeq number");
  std::string_view method = trim(s.substr(i));
  if (i == s.size() || !is_lws(s[i]) || !is_token(method)) throw SyntaxError("bad CSeq method");
  return {static_cast<std::uint32_t>(*number), method};
}

bool MediaType::is(std::string_view t, std::string_view s) const { return iequals(type, t) && iequals(subtype, s); }

std::string_view MediaType::param_value(std::string_view name) const {
  const Param* p = find_param(params, name);
  return p ? unquote(p->value) : std::string_view();
}

MediaType parse_media_type(std::string_view value) {
  MediaType m;
  std::string_view s = trim(value);
  auto semi = s.find(';');
  std::string_view full = trim(s.substr(0, semi));
  auto slash = full.find('/');
  if (slash == std::string_view::npos) throw SyntaxError("media type without '/'");
  m.type = trim(full.substr(0, slash));
  m.subtype = trim(full.substr(slash + 1));
  if (!is_token(m.type) || !is_token(m.subtype)) throw SyntaxError("bad media type");
  if (semi != std::string_view::npos) m.params = parse_params(s.substr(semi), true);
  return m;
}

std::vector<ResourcePriority> parse_resource_priority(std::string_view value) {
  std::vector<ResourcePriority> out;
  for (auto token : parse_token_list(value)) {
    auto dot = token.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == token.size())
      throw SyntaxError("Resource-Priority value is namespace.priority");
    out.push_back({token.substr(0, dot), token.substr(dot + 1)});
  }
  return out;
}

std::vector<Reason> parse_reason(std::string_view value) {
  std::vector<Reason> out;
  bool ok = for_each_comma_value(value, [&](std::string_view item) {
    auto semi = item.find(';');
    Reason r{trim(item.substr(0, semi)), {}};
    if (!is_token(r.protocol)) throw SyntaxError("bad Reason protocol");
    if (semi != std::string_view::npos) r.params = parse_params(item.substr(semi), true);
    out.push_back(std::move(r));
    return true;
  });
  if (!ok) throw SyntaxError("unbalanced quotes in Reason");
  return out;
}

std::vector<std::string_view> parse_token_list(std::string_view value) {
  std::vector<std::string_view> out;
  for_each_comma_value(value, [&](std::string_view item) {
    if (!is_token(item)) throw SyntaxError("'" + std::string(item) + "' is not a token");
    out.push_back(item);
    return true;
  });
  return out;
}

}  // namespace ng911::sip
