#include "sip/message.h"

#include <array>

#include "sip/text.h"

namespace ng911::sip {
namespace {

struct Name {
  std::string_view name;
  HeaderId id;
};

// Long names and RFC 3261 §7.3.3 compact forms (plus RFC 3515, 3265, 3892 ones).
constexpr std::array kNames{
    Name{"Accept", HeaderId::accept},
    Name{"Allow", HeaderId::allow},
    Name{"Allow-Events", HeaderId::allow_events},
    Name{"u", HeaderId::allow_events},
    Name{"Authorization", HeaderId::authorization},
    Name{"Call-ID", HeaderId::call_id},
    Name{"i", HeaderId::call_id},
    Name{"Call-Info", HeaderId::call_info},
    Name{"Contact", HeaderId::contact},
    Name{"m", HeaderId::contact},
    Name{"Content-Disposition", HeaderId::content_disposition},
    Name{"Content-Encoding", HeaderId::content_encoding},
    Name{"e", HeaderId::content_encoding},
    Name{"Content-ID", HeaderId::content_id},
    Name{"Content-Length", HeaderId::content_length},
    Name{"l", HeaderId::content_length},
    Name{"Content-Type", HeaderId::content_type},
    Name{"c", HeaderId::content_type},
    Name{"CSeq", HeaderId::cseq},
    Name{"Date", HeaderId::date},
    Name{"Event", HeaderId::event},
    Name{"o", HeaderId::event},
    Name{"Expires", HeaderId::expires},
    Name{"From", HeaderId::from},
    Name{"f", HeaderId::from},
    Name{"Geolocation", HeaderId::geolocation},
    Name{"Geolocation-Error", HeaderId::geolocation_error},
    Name{"Geolocation-Routing", HeaderId::geolocation_routing},
    Name{"History-Info", HeaderId::history_info},
    Name{"Max-Forwards", HeaderId::max_forwards},
    Name{"Proxy-Authorization", HeaderId::proxy_authorization},
    Name{"Proxy-Require", HeaderId::proxy_require},
    Name{"Reason", HeaderId::reason},
    Name{"Record-Route", HeaderId::record_route},
    Name{"Refer-To", HeaderId::refer_to},
    Name{"r", HeaderId::refer_to},
    Name{"Referred-By", HeaderId::referred_by},
    Name{"b", HeaderId::referred_by},
    Name{"Require", HeaderId::require},
    Name{"Resource-Priority", HeaderId::resource_priority},
    Name{"Route", HeaderId::route},
    Name{"Subject", HeaderId::subject},
    Name{"s", HeaderId::subject},
    Name{"Subscription-State", HeaderId::subscription_state},
    Name{"Supported", HeaderId::supported},
    Name{"k", HeaderId::supported},
    Name{"To", HeaderId::to},
    Name{"t", HeaderId::to},
    Name{"Unsupported", HeaderId::unsupported},
    Name{"User-Agent", HeaderId::user_agent},
    Name{"Via", HeaderId::via},
    Name{"v", HeaderId::via},
};

// Header fields that may appear once only (RFC 3261 §7.3.1: those whose grammar has no list).
bool single_valued(HeaderId id) {
  switch (id) {
    case HeaderId::call_id: case HeaderId::content_length: case HeaderId::content_type: case HeaderId::cseq:
    case HeaderId::from: case HeaderId::max_forwards: case HeaderId::to: case HeaderId::expires:
    case HeaderId::date:
      return true;
    default:
      return false;
  }
}

bool valid_date(std::string_view v) {
  // rfc1123-date: wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"
  static constexpr std::string_view days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29) return false;
  bool day = false, month = false;
  for (auto d : days) day = day || v.substr(0, 3) == d;
  for (auto m : months) month = month || v.substr(8, 3) == m;
  auto digits = [&](std::size_t at, std::size_t n) {
    for (std::size_t i = at; i < at + n; ++i)
      if (!is_digit(v[i])) return false;
    return true;
  };
  return day && month && v.substr(3, 2) == ", " && digits(5, 2) && v[7] == ' ' && v[11] == ' ' && digits(12, 4) &&
         v[16] == ' ' && digits(17, 2) && v[19] == ':' && digits(20, 2) && v[22] == ':' && digits(23, 2) &&
         v.substr(25) == " GMT";
}

// The end of the header block: index of the blank line's first byte and the body's start.
std::optional<std::pair<std::size_t, std::size_t>> header_end(std::string_view s) {
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] != '\n') continue;
    if (s[i + 1] == '\n') return std::pair{i + 1, i + 2};
    if (s[i + 1] == '\r' && i + 2 < s.size() && s[i + 2] == '\n') return std::pair{i + 1, i + 3};
  }
  return std::nullopt;
}

// Every header field of every message is looked up here (some 20 per message, over a dozen
// messages parsed per call through the ESRP): the names are bucketed by their first letter, so
// that a lookup compares two or three names instead of walking all of kNames.
struct NameBuckets {
  static constexpr std::size_t kPerLetter = 12;  // 'c' has ten (Call-ID ... CSeq, c)
  std::array<std::array<std::uint8_t, kPerLetter>, 26> index{};
  std::array<std::uint8_t, 26> count{};
};

constexpr std::size_t letter_of(char c) { return static_cast<std::size_t>((c | 0x20) - 'a'); }

constexpr NameBuckets make_buckets() {
  NameBuckets b;
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    std::size_t l = letter_of(kNames[i].name.front());
    b.index[l][b.count[l]++] = static_cast<std::uint8_t>(i);
  }
  return b;
}

constexpr NameBuckets kBuckets = make_buckets();
// (A letter with more names than kPerLetter fails to compile: make_buckets() is evaluated at
// compile time, where an out-of-bounds write is an error.)

}  // namespace

HeaderId header_id(std::string_view name) {
  if (name.empty() || !is_alpha(name.front())) return HeaderId::other;
  std::size_t l = letter_of(name.front());
  for (std::size_t i = 0; i < kBuckets.count[l]; ++i) {
    const Name& n = kNames[kBuckets.index[l][i]];
    if (n.name.size() == name.size() && iequals(n.name, name)) return n.id;
  }
  return HeaderId::other;
}

std::string_view canonical_name(HeaderId id) {
  for (const auto& n : kNames)
    if (n.id == id && n.name.size() > 1) return n.name;
  return {};
}

void Message::fail(std::string why, int status) {
  if (error_.empty()) {
    error_ = std::move(why);
    error_status_ = status;
  }
}

Message Message::parse(std::string bytes, const ParseOptions& options) {
  Message m;
  m.data_ = std::make_unique<std::string>(std::move(bytes));
  std::string_view s = *m.data_;
  // RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives on streams).
  std::size_t start = 0;
  while (start < s.size() && (s[start] == '\r' || s[start] == '\n')) ++start;
  s = s.substr(start);
  auto end = header_end(s);
  if (!end) {
    // Still read what is there, so that a request can be answered (400) and not just dropped.
    auto eol = s.find('\n');
    std::string_view line = s.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    m.parse_start_line(line);
    if (eol != std::string_view::npos) m.parse_headers(s.substr(eol + 1), options);
    m.fail("incomplete message: no blank line after the header fields");
    m.consumed_ = m.data_->size();
    return m;
  }
  std::string_view head = s.substr(0, end->first);
  auto eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  m.parse_start_line(line);
  m.parse_headers(head.substr(eol + 1), options);
  m.frame_body(s.substr(end->second), options);
  m.consumed_ += start + end->second;
  if (m.ok() && options.check) m.check();
  return m;
}

void Message::parse_start_line(std::string_view line) {
  if (line.starts_with("SIP/") || line.starts_with("sip/")) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    auto sp1 = line.find(' ');
    version_ = line.substr(0, sp1);
    if (sp1 == std::string_view::npos || sp1 + 4 > line.size()) return fail("bad status line");
    std::string_view code = line.substr(sp1 + 1, 3);
    auto n = parse_uint(code, 699);
    if (!n || *n < 100 || (line.size() > sp1 + 4 && line[sp1 + 4] != ' ')) return fail("bad status code");
    status_ = static_cast<int>(*n);
    reason_ = line.size() > sp1 + 5 ? line.substr(sp1 + 5) : std::string_view();
    if (!iequals(version_, "SIP/2.0")) fail("unsupported SIP version " + std::string(version_), 505);
    return;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version: single spaces, nothing else.
  is_request_ = true;
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail("bad request line: expected METHOD SP Request-URI SP SIP/2.0");
  method_ = line.substr(0, sp1);
  request_uri_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
  version_ = line.substr(sp2 + 1);
  if (!is_token(method_)) return fail("bad method");
  if (request_uri_.empty()) return fail("empty Request-URI");
  if (version_.size() < 5 || !iequals(version_.substr(0, 4), "SIP/")) return fail("bad SIP version");
  if (!iequals(version_, "SIP/2.0")) return fail("unsupported SIP version " + std::string(version_), 505);
  for (char c : line)
    if (c == '\t' || static_cast<unsigned char>(c) < 0x20) return fail("control character in the request line");
}

void Message::parse_headers(std::string_view block, const ParseOptions& options) {
  headers_.reserve(24);  // a typical INVITE's fields, without regrowing the vector on the way
  std::size_t pos = 0;
  while (pos < block.size()) {
    // One header field: a line plus any continuation lines starting with SP or HTAB.
    std::size_t end = pos;
    while (true) {
      auto nl = block.find('\n', end);
      if (nl == std::string_view::npos) {
        end = block.size();
        break;
      }
      end = nl + 1;
      if (end >= block.size() || (block[end] != ' ' && block[end] != '\t')) break;
    }
    std::string_view field = block.substr(pos, end - pos);
    pos = end;
    if (field.empty() || field == "\r\n" || field == "\n") continue;
    if (field.front() == ' ' || field.front() == '\t') {
      fail("header field starts with white space");
      continue;
    }
    auto colon = field.find(':');
    if (colon == std::string_view::npos) {
      fail("header field without ':'");
      continue;
    }
    std::string_view name = field.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (!is_token(name)) {
      fail("bad header field name '" + std::string(name) + "'");
      continue;
    }
    if (headers_.size() == options.max_headers) {
      fail("too many header fields");
      return;
    }
    headers_.push_back(Header{header_id(name), name, trim(field.substr(colon + 1))});
  }
}

void Message::frame_body(std::string_view rest, const ParseOptions& options) {
  std::optional<std::uint64_t> length;
  for (const auto* h : find_all(HeaderId::content_length)) {
    auto n = parse_uint(h->value, 0x7fffffff);
    if (!n) return fail("bad Content-Length '" + std::string(h->value) + "'");
    if (length && *length != *n) return fail("Content-Length given twice with different values");
    length = n;
  }
  if (!length) {
    if (options.stream) return fail("Content-Length is required on stream transports");
    body_ = rest;  // a datagram's body runs to its end
    consumed_ = rest.size();
    return;
  }
  if (*length > rest.size()) {
    body_ = rest;
    consumed_ = rest.size();
    return fail("Content-Length " + std::to_string(*length) + " is larger than the " + std::to_string(rest.size()) +
                " bytes that follow");
  }
  body_ = rest.substr(0, *length);
  consumed_ = *length;  // octets after it (a second message in one datagram) are not ours
}

const Header* Message::find(HeaderId id) const {
  for (const auto& h : headers_)
    if (h.id == id) return &h;
  return nullptr;
}

std::vector<const Header*> Message::find_all(HeaderId id) const {
  std::vector<const Header*> out;
  for (const auto& h : headers_)
    if (h.id == id) out.push_back(&h);
  return out;
}

std::string_view Message::value(HeaderId id) const {
  const Header* h = find(id);
  return h ? h->value : std::string_view();
}

std::vector<Via> Message::vias() const {
  std::vector<Via> out;
  for (const auto& h : headers_)
    if (h.id == HeaderId::via)
      for (auto& v : parse_via(h.value)) out.push_back(std::move(v));
  return out;
}

const Via& Message::top_via() const {
  if (!top_via_) {
    const Header* h = find(HeaderId::via);
    if (!h) throw SyntaxError("no Via");
    top_via_ = parse_via(h->value).front();
  }
  return *top_via_;
}

void Message::replace_top_via(std::string_view via_parm) {
  std::string_view old = top_via().text;
  const char* base = data_->data();
  std::size_t at = static_cast<std::size_t>(old.data() - base), end = at + old.size();
  auto next = std::make_unique<std::string>();
  next->reserve(data_->size() - old.size() + via_parm.size());
  next->append(*data_, 0, at).append(via_parm).append(*data_, end, std::string::npos);
  const char* moved = next->data();
  std::ptrdiff_t delta = static_cast<std::ptrdiff_t>(via_parm.size()) - static_cast<std::ptrdiff_t>(old.size());
  // Every view lies before the via-parm, after it, or holds it whole (its Via header's value).
  auto rebase = [&](std::string_view& v) {
    if (v.data() == nullptr) return;
    std::size_t from = static_cast<std::size_t>(v.data() - base), to = from + v.size();
    if (to <= at) v = {moved + from, v.size()};
    else if (from >= end) v = {moved + from + delta, v.size()};
    else v = {moved + from, static_cast<std::size_t>(static_cast<std::ptrdiff_t>(v.size()) + delta)};
  };
  for (auto* v : {&method_, &request_uri_, &version_, &reason_, &body_}) rebase(*v);
  for (auto& h : headers_) {
    rebase(h.name);
    rebase(h.value);
  }
  consumed_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(consumed_) + delta);
  data_ = std::move(next);
  top_via_.reset();
}

std::optional<unsigned> Message::max_forwards() const {
  const Header* h = find(HeaderId::max_forwards);
  if (!h) return std::nullopt;
  auto n = parse_uint(h->value, 255);
  if (!n) throw SyntaxError("bad Max-Forwards");
  return static_cast<unsigned>(*n);
}

std::optional<MediaType> Message::content_type() const {
  const Header* h = find(HeaderId::content_type);
  if (!h) return std::nullopt;
  return parse_media_type(h->value);
}

namespace {
std::vector<NameAddr> all_addresses(const Message& m, HeaderId id) {
  std::vector<NameAddr> out;
  for (const auto* h : m.find_all(id))
    for (auto& a : parse_name_addr_list(h->value)) out.push_back(std::move(a));
  return out;
}
}  // namespace

std::vector<NameAddr> Message::route() const { return all_addresses(*this, HeaderId::route); }
std::vector<NameAddr> Message::record_route() const { return all_addresses(*this, HeaderId::record_route); }
std::vector<NameAddr> Message::geolocation() const { return all_addresses(*this, HeaderId::geolocation); }
std::vector<NameAddr> Message::call_info() const { return all_addresses(*this, HeaderId::call_info); }
std::vector<NameAddr> Message::history_info() const { return all_addresses(*this, HeaderId::history_info); }

std::vector<NameAddr> Message::contacts() const {
  std::vector<NameAddr> out;
  for (const auto* h : find_all(HeaderId::contact)) {
    if (h->value == "*") continue;
    for (auto& a : parse_name_addr_list(h->value)) out.push_back(std::move(a));
  }
  return out;
}

std::vector<ResourcePriority> Message::resource_priority() const {
  std::vector<ResourcePriority> out;
  for (const auto* h : find_all(HeaderId::resource_priority))
    for (auto& r : parse_resource_priority(h->value)) out.push_back(r);
  return out;
}

std::vector<Reason> Message::reasons() const {
  std::vector<Reason> out;
  for (const auto* h : find_all(HeaderId::reason))
    for (auto& r : parse_reason(h->value)) out.push_back(std::move(r));
  return out;
}

// Checks every header field a proxy relies on, so that a message that passes can be routed
// without surprises later.
void Message::check() {
  try {
    for (HeaderId id : {HeaderId::to, HeaderId::from, HeaderId::call_id, HeaderId::cseq, HeaderId::via})
      if (!find(id)) return fail("missing " + std::string(canonical_name(id)) + " header field");
    std::array<int, static_cast<std::size_t>(HeaderId::count_)> seen{};
    for (const auto& h : headers_) {
      auto& n = seen[static_cast<std::size_t>(h.id)];
      if (h.id != HeaderId::other && single_valued(h.id) && ++n > 1)
        return fail(std::string(canonical_name(h.id)) + " appears more than once");
    }
    if (call_id().empty() || call_id().find_first_of(" \t\r\n") != std::string_view::npos) return fail("bad Call-ID");
    CSeq cs = cseq();
    if (is_request_ && cs.method != method_) return fail("CSeq method does not match the request method");
    // The top Via is kept: the transaction layer and the proxy ask for it next.
    if (auto all = vias(); !all.empty()) top_via_ = std::move(all.front());
    from();
    to();
    if (is_request_) {
      max_forwards();
      Uri ruri = parsed_request_uri();
      if (ruri.is_sip() && !ruri.headers.empty()) return fail("the Request-URI must not carry headers");
      contacts();
      route();
    }
    record_route();
    if (const Header* e = find(HeaderId::expires); e && !parse_uint(e->value, 0xffffffffu)) return fail("bad Expires");
    if (const Header* d = find(HeaderId::date); d && !valid_date(d->value)) return fail("bad Date (RFC 1123, GMT)");
    content_type();
  } catch (const SyntaxError& e) {
    fail(e.what());
  }
}

std::optional<std::size_t> stream_frame_length(std::string_view buffer, std::size_t max_header_bytes) {
  std::size_t start = 0;
  while (start < buffer.size() && (buffer[start] == '\r' || buffer[start] == '\n')) ++start;
  auto end = header_end(buffer.substr(start));
  if (!end) {
    if (buffer.size() - start > max_header_bytes) throw SyntaxError("header block too large");
    return std::nullopt;
  }
  std::string_view head = buffer.substr(start, end->first);
  std::optional<std::uint64_t> length;
  std::size_t pos = 0;
  while (pos < head.size()) {
    auto nl = head.find('\n', pos);
    std::string_view line = head.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? head.size() : nl + 1;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, colon));
    if (header_id(name) != HeaderId::content_length) continue;
    auto n = parse_uint(trim(line.substr(colon + 1)), 0x7fffffff);
    if (!n) throw SyntaxError("bad Content-Length");
    length = n;
  }
  if (!length) throw SyntaxError("no Content-Length on a stream transport");
  std::size_t total = start + end->second + *length;
  if (buffer.size() < total) return std::nullopt;
  return total;
}

}  // namespace ng911::sip
