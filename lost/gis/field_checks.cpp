#include "gis/field_checks.h"

#include <charconv>
#include <cstdint>
#include <string>

namespace ng911::gis {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool starts_with_icase(std::string_view v, std::string_view prefix) {
  return v.size() >= prefix.size() && iequals(v.substr(0, prefix.size()), prefix);
}

// RFC 3986 characters that may appear in a URI outside of percent-encoding.
bool is_uri_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case ':': case '/': case '?': case '#': case '[':
    case ']': case '@': case '!': case '$': case '&': case '\'': case '(': case ')': case '*':
    case '+': case ',': case ';': case '=': case '%':
      return true;
    default:
      return false;
  }
}

// RFC 5031 service labels: let-dig [ *25let-dig-hyp let-dig ].
bool is_service_label(std::string_view l) {
  if (l.empty() || l.size() > 27) return false;
  auto let_dig = [](char c) { return is_alpha(c) || is_digit(c); };
  if (!let_dig(l.front()) || !let_dig(l.back())) return false;
  for (char c : l)
    if (!let_dig(c) && c != '-') return false;
  return true;
}

bool is_hostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  if (h.back() == '.') h.remove_suffix(1);
  std::size_t start = 0;
  while (start <= h.size()) {
    auto dot = h.find('.', start);
    auto label = h.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool is_ipv6_reference(std::string_view h) {
  if (h.size() < 4 || h.front() != '[' || h.back() != ']') return false;
  for (char c : h.substr(1, h.size() - 2))
    if (!is_hex(c) && c != ':' && c != '.') return false;
  return true;
}

bool all_digits(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v)
    if (!is_digit(c)) return false;
  return true;
}

int to_int(std::string_view v) {
  int out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

}  // namespace

Problem check_absolute_uri(std::string_view v) {
  auto colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0) return "not a URI: no scheme (e.g. sip:, https:)";
  if (!is_alpha(v.front())) return "not a URI: the scheme must start with a letter";
  for (char c : v.substr(0, colon))
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
      return "not a URI: bad character in the scheme";
  if (colon + 1 == v.size()) return "not a URI: nothing after the scheme";
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == ' ' || c == '\t') return "not a URI: contains a space";
    if (!is_uri_char(c)) return std::string("not a URI: character '") + c + "' must be percent-encoded";
    if (c == '%' && (i + 2 >= v.size() || !is_hex(v[i + 1]) || !is_hex(v[i + 2])))
      return "not a URI: '%' not followed by two hex digits";
  }
  return std::nullopt;
}

Problem check_service_uri(std::string_view v) {
  if (auto p = check_absolute_uri(v)) return p;
  if (starts_with_icase(v, "sip:") || starts_with_icase(v, "sips:")) {
    auto rest = v.substr(v.find(':') + 1);
    rest = rest.substr(0, rest.find_first_of(";?"));
    auto at = rest.rfind('@');
    if (at != std::string_view::npos) {
      if (at == 0) return "SIP URI with an empty user part";
      rest = rest.substr(at + 1);
    }
    std::string_view host = rest;
    if (!host.empty() && host.front() == '[') {
      auto close = host.find(']');
      if (close == std::string_view::npos) return "SIP URI with an unterminated IPv6 reference";
      auto port = host.substr(close + 1);
      host = host.substr(0, close + 1);
      if (!port.empty() && (port.front() != ':' || !all_digits(port.substr(1))))
        return "SIP URI with a bad port";
      if (!is_ipv6_reference(host)) return "SIP URI with a bad IPv6 reference";
      return std::nullopt;
    }
    if (auto c = host.find(':'); c != std::string_view::npos) {
      if (!all_digits(host.substr(c + 1))) return "SIP URI with a bad port";
      host = host.substr(0, c);
    }
    if (!is_hostname(host)) return "SIP URI without a valid host";
    return std::nullopt;
  }
  if (starts_with_icase(v, "tel:")) {
    auto number = v.substr(4);
    number = number.substr(0, number.find(';'));
    if (number.empty()) return "tel URI without a number";
    std::size_t digits = 0;
    for (std::size_t i = 0; i < number.size(); ++i) {
      char c = number[i];
      if (is_digit(c)) ++digits;
      else if (c == '+' && i == 0) continue;
      else if (c != '-' && c != '.' && c != '(' && c != ')' && c != '*' && c != '#')
        return "tel URI with a bad character in the number";
    }
    if (digits == 0) return "tel URI without digits";
    return std::nullopt;
  }
  return "a service URI must be sip:, sips: or tel:";
}

Problem check_service_urn(std::string_view v) {
  std::string_view service;
  if (starts_with_icase(v, "urn:service:")) service = v.substr(12);
  else if (starts_with_icase(v, "urn:emergency:service:")) service = v.substr(22);
  else return "a service URN starts with urn:service: or urn:emergency:service:";
  if (service.empty()) return "service URN without a service";
  std::size_t start = 0;
  while (true) {
    auto dot = service.find('.', start);
    auto label = service.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_service_label(label)) return "service URN with a bad label '" + std::string(label) + "'";
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return std::nullopt;
}

Problem check_nguid(std::string_view v) {
  constexpr std::string_view prefix = "urn:emergency:uid:gis:";
  if (!starts_with_icase(v, prefix))
    return "an NGUID has the form urn:emergency:uid:gis:<layer>:<id>:<agency domain>";
  auto rest = v.substr(prefix.size());
  auto c1 = rest.find(':');
  auto c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
  if (c1 == std::string_view::npos || c2 == std::string_view::npos || c1 == 0 || c2 == c1 + 1)
    return "an NGUID has the form urn:emergency:uid:gis:<layer>:<id>:<agency domain>";
  for (char c : rest)
    if (c == ' ' || !is_uri_char(c)) return "NGUID with a character not allowed in a URN";
  if (!is_hostname(rest.substr(c2 + 1))) return "NGUID whose agency part is not a domain name";
  return std::nullopt;
}

Problem check_domain(std::string_view v) {
  if (!is_hostname(v) || v.find('.') == std::string_view::npos)
    return "not a domain name (an agency is identified by its domain, e.g. psap.example.net)";
  return std::nullopt;
}

Problem check_timestamp(std::string_view v) {
  // YYYY-MM-DD[(T| )hh:mm[:ss[.fff]][Z|(+|-)hh[[:]mm]]]
  auto bad = [] { return Problem("not an ISO 8601 date or date-time (e.g. 2026-03-01T12:00:00Z)"); };
  auto num = [&](std::size_t pos, std::size_t len) -> int {
    if (pos + len > v.size() || !all_digits(v.substr(pos, len))) return -1;
    return to_int(v.substr(pos, len));
  };
  int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  if (v.size() < 10 || year < 0 || v[4] != '-' || v[7] != '-' || month < 1 || month > 12 ||
      day < 1 || day > 31)
    return bad();
  if (v.size() == 10) return std::nullopt;
  if (v[10] != 'T' && v[10] != ' ') return bad();
  int hour = num(11, 2), minute = num(14, 2);
  if (hour < 0 || hour > 23 || v.size() < 16 || v[13] != ':' || minute < 0 || minute > 59) return bad();
  std::size_t i = 16;
  if (i < v.size() && v[i] == ':') {
    int second = num(i + 1, 2);
    if (second < 0 || second > 60) return bad();
    i += 3;
    if (i < v.size() && v[i] == '.') {
      std::size_t j = i + 1;
      while (j < v.size() && is_digit(v[j])) ++j;
      if (j == i + 1) return bad();
      i = j;
    }
  }
  if (i == v.size()) return std::nullopt;
  if (v[i] == 'Z' && i + 1 == v.size()) return std::nullopt;
  if (v[i] != '+' && v[i] != '-') return bad();
  auto zone = v.substr(i + 1);
  if (zone.size() == 2 && all_digits(zone)) return std::nullopt;
  if (zone.size() == 4 && all_digits(zone)) return std::nullopt;
  if (zone.size() == 5 && zone[2] == ':' && all_digits(zone.substr(0, 2)) && all_digits(zone.substr(3)))
    return std::nullopt;
  return bad();
}

Problem check_integer(std::string_view v) {
  std::int32_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec == std::errc::result_out_of_range) return "integer out of range";
  if (ec != std::errc() || ptr != v.data() + v.size()) return "not an integer";
  return std::nullopt;
}

Problem check_field(const FieldSpec& field, std::string_view v) {
  if (field.type == FieldType::timestamp)
    if (auto p = check_timestamp(v)) return p;
  if (field.type == FieldType::integer)
    if (auto p = check_integer(v)) return p;
  switch (field.check) {
    case FieldCheck::none: return std::nullopt;
    case FieldCheck::uri: return check_absolute_uri(v);
    case FieldCheck::service_uri: return check_service_uri(v);
    case FieldCheck::service_urn: return check_service_urn(v);
    case FieldCheck::nguid: return check_nguid(v);
    case FieldCheck::domain: return check_domain(v);
    case FieldCheck::state:
    case FieldCheck::country:
      if (v.size() == 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z') return std::nullopt;
      return field.check == FieldCheck::state ? "a state is a two-letter code in capitals (e.g. TX)"
                                              : "a country is a two-letter ISO 3166 code (e.g. US)";
    case FieldCheck::parity:
      if (v == "O" || v == "E" || v == "B" || v == "Z") return std::nullopt;
      return "parity is O (odd), E (even), B (both) or Z (no addresses)";
  }
  return std::nullopt;
}

}  // namespace ng911::gis
