#include "policy/policy.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include <boost/geometry/algorithms/covered_by.hpp>

#include "policy/policy_data.h"
#include "sip/text.h"
#include "sip/uri.h"

namespace ng911::esrp::policy {

namespace detail {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

boost::asio::ip::address unmapped(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

namespace {
template <std::size_t N>
void clear_host_bits(std::array<unsigned char, N>& bytes, unsigned prefix) {
  for (std::size_t i = 0; i < N; ++i) {
    unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (prefix >= first_bit + 8) continue;
    unsigned keep = prefix > first_bit ? prefix - first_bit : 0;
    bytes[i] = static_cast<unsigned char>(bytes[i] & (0xFF00u >> keep));
  }
}
}  // namespace

boost::asio::ip::address masked(const boost::asio::ip::address& a, unsigned prefix) {
  if (a.is_v4()) {
    auto bytes = a.to_v4().to_bytes();
    clear_host_bits(bytes, prefix);
    return boost::asio::ip::address_v4(bytes);
  }
  auto bytes = a.to_v6().to_bytes();
  clear_host_bits(bytes, prefix);
  return boost::asio::ip::address_v6(bytes);
}

}  // namespace detail

namespace {
using namespace detail;

// libstdc++'s std::regex recurses once per character: a pattern like (a|b)*c overflows an 8 MiB
// stack at about 16,000 characters. Header values that policy looks at are short, so longer ones
// are not tested at all rather than risk the ESRP.
constexpr std::size_t kMaxRegexInput = 1024;

bool in_network(const boost::asio::ip::address& a, const Cidr& net) {
  return a.is_v4() == net.network.is_v4() && masked(a, net.prefix) == net.network;
}

bool domain_matches(std::string_view pattern, std::string_view domain) {
  if (pattern.starts_with("*.")) {
    std::string_view suffix = pattern.substr(1);  // ".example.net"
    return domain.size() > suffix.size() && sip::iequals(domain.substr(domain.size() - suffix.size()), suffix);
  }
  return sip::iequals(pattern, domain);
}

bool source_matches(const SourceMatch& m, const boost::asio::ip::address& source, std::string_view from_domain) {
  if (!m.addresses.empty()) {
    auto a = unmapped(source);
    if (std::none_of(m.addresses.begin(), m.addresses.end(), [&](const Cidr& n) { return in_network(a, n); }))
      return false;
  }
  if (!m.from_domains.empty()) {
    if (std::none_of(m.from_domains.begin(), m.from_domains.end(),
                     [&](const std::string& d) { return domain_matches(d, from_domain); }))
      return false;
  }
  return true;
}

// What one evaluation sees besides the rules: the call, queue states and, in a queue rule set,
// the queue that "$queue" stands for.
struct Context {
  const CallFacts& call;
  const QueueStateLookup& queue_state;
  const PolicyData& data;
  std::string_view own_queue;
};

bool holds(const Condition& c, const Context& ctx);

bool holds_all(const std::vector<Condition>& conditions, const Context& ctx) {
  return std::all_of(conditions.begin(), conditions.end(), [&](const Condition& c) { return holds(c, ctx); });
}

bool holds_time(const TimePeriod& p, const Context& ctx) {
  cctz::civil_second local = cctz::convert(ctx.call.now, p.zone);
  cctz::civil_day today(local);
  int minute = local.hour() * 60 + local.minute();
  // The day a period starts on is the one its days and dates name, so that "Fri 22:00-06:00"
  // still holds early on Saturday.
  cctz::civil_day start = today;
  if (!p.whole_day) {
    if (p.from_minute < p.to_minute) {
      if (minute < p.from_minute || minute >= p.to_minute) return false;
    } else if (minute < p.to_minute) {
      start = today - 1;
    } else if (minute < p.from_minute) {
      return false;
    }
  }
  if (!p.days[static_cast<std::size_t>(cctz::get_weekday(start))]) return false;
  if (p.dates.empty()) return true;
  return std::any_of(p.dates.begin(), p.dates.end(),
                     [&](const DateRange& r) { return start >= r.from && start <= r.to; });
}

bool holds_holiday(const Holiday& h, const Context& ctx) {
  const HolidayCalendar& cal = ctx.data.calendars[h.calendar];
  cctz::civil_day today(cctz::convert(ctx.call.now, cal.zone));
  bool holiday = cal.dates.contains(today) || cal.every_year.contains({today.month(), today.day()});
  return holiday == h.is_holiday;
}

bool holds_queue_state(const QueueState& q, const Context& ctx) {
  std::string_view uri = q.queue.empty() ? ctx.own_queue : std::string_view(q.queue);
  std::optional<QueueStatus> status = ctx.queue_state ? ctx.queue_state(uri) : std::nullopt;
  if (!status) status = q.unknown_as;
  return status && q.states[static_cast<std::size_t>(*status)];
}

bool holds_header(const Header& h, const Context& ctx) {
  std::vector<std::string> values;
  if (ctx.call.header) values = ctx.call.header(h.name);
  switch (h.test) {
    case Header::Test::present:
      return !values.empty();
    case Header::Test::absent:
      return values.empty();
    default:
      break;
  }
  for (const std::string& raw : values) {
    std::string_view v = sip::trim(raw);
    std::string folded;
    if (h.ignore_case && h.test != Header::Test::regex) {
      folded = lower(v);
      v = folded;
    }
    switch (h.test) {
      case Header::Test::equals:
        if (v == h.value) return true;
        break;
      case Header::Test::contains:
        if (v.find(h.value) != std::string_view::npos) return true;
        break;
      case Header::Test::regex:
        if (v.size() <= kMaxRegexInput && std::regex_search(v.begin(), v.end(), h.regex)) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

bool holds_location(const LocationIn& l, const Context& ctx) {
  if (!ctx.call.location) return false;
  GeoPoint p(ctx.call.location->second, ctx.call.location->first);
  return bg::covered_by(p, ctx.data.areas[l.area]);  // a caller on the boundary line is inside
}

bool holds_service(const Service& s, const Context& ctx) {
  std::string service = lower(ctx.call.service);
  // RFC 5031: a service URN names its sub-services too (urn:service:sos → urn:service:sos.police).
  return std::any_of(s.urns.begin(), s.urns.end(), [&](const std::string& urn) {
    return service == urn || (service.size() > urn.size() && service.starts_with(urn) && service[urn.size()] == '.');
  });
}

bool holds(const Condition& c, const Context& ctx) {
  return std::visit(
      [&](const auto& t) -> bool {
        using T = std::decay_t<decltype(t)>;
        if constexpr (std::is_same_v<T, TimePeriod>) return holds_time(t, ctx);
        else if constexpr (std::is_same_v<T, Holiday>) return holds_holiday(t, ctx);
        else if constexpr (std::is_same_v<T, QueueState>) return holds_queue_state(t, ctx);
        else if constexpr (std::is_same_v<T, Header>) return holds_header(t, ctx);
        else if constexpr (std::is_same_v<T, LocationIn>) return holds_location(t, ctx);
        else if constexpr (std::is_same_v<T, SourceMatch>) return source_matches(t, ctx.call.source, ctx.call.from_domain);
        else if constexpr (std::is_same_v<T, Service>) return holds_service(t, ctx);
        else if constexpr (std::is_same_v<T, Method>)
          return std::find(t.methods.begin(), t.methods.end(), ctx.call.method) != t.methods.end();
        else if constexpr (std::is_same_v<T, Not>) return !holds(t.inner.front(), ctx);
        else return std::any_of(t.any.begin(), t.any.end(), [&](const Condition& a) { return holds(a, ctx); });
      },
      c.test);
}

Decision run(const RuleSet& set, const Context& ctx) {
  Decision d;
  for (const Rule& rule : set.rules) {
    if (!holds_all(rule.conditions, ctx)) continue;
    d.matched.push_back(set.id + "/" + rule.id);
    d.log.insert(d.log.end(), rule.log.begin(), rule.log.end());
    d.notify.insert(d.notify.end(), rule.notify.begin(), rule.notify.end());
    if (rule.terminal()) {
      d.routes = rule.routes;
      d.busy = rule.busy;
      break;
    }
  }
  return d;
}

std::string read_whole(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    int err = errno;
    throw PolicyError({"cannot read: " + std::generic_category().message(err)}, file.string());
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string joined(const std::vector<std::string>& problems, const std::string& context) {
  std::string out = context.empty() ? "policy refused" : context;
  out += ": ";
  for (std::size_t i = 0; i < problems.size(); ++i) out += (i ? "; " : "") + problems[i];
  return out;
}

}  // namespace

PolicyError::PolicyError(std::vector<std::string> list, const std::string& context)
    : std::runtime_error(joined(list, context)), problems(std::move(list)) {}

Policy::Policy(std::shared_ptr<const PolicyData> data) : data_(std::move(data)) {}

Decision Policy::evaluate_origination(const CallFacts& call, const QueueStateLookup& queue_state) const {
  for (const RuleSet& set : data_->rule_sets) {
    if (!set.origination) continue;
    if (set.catch_all || source_matches(set.match, call.source, call.from_domain))
      return run(set, Context{call, queue_state, *data_, {}});
  }
  return {};
}

Decision Policy::evaluate_queue(std::string_view queue_uri, const CallFacts& call,
                                const QueueStateLookup& queue_state) const {
  auto key = queue_key(queue_uri);
  if (!key) return {};
  for (const RuleSet& set : data_->rule_sets)
    if (!set.origination && set.queue_key == *key) return run(set, Context{call, queue_state, *data_, set.queue});
  return {};
}

std::vector<std::string> Policy::queues() const { return data_->queues; }
std::size_t Policy::rule_count() const { return data_->rule_count; }
std::string Policy::version() const { return data_->version; }

std::optional<std::string> queue_key(std::string_view text) {
  try {
    sip::Uri uri = sip::parse_uri(sip::trim(text));
    if (!uri.is_sip() || uri.host.empty()) return std::nullopt;
    std::string key = lower(uri.scheme_name) + ":";
    key.append(uri.user).append("@");
    if (uri.ipv6) key.append("[").append(lower(uri.host)).append("]");
    else key.append(lower(uri.host));
    key.append(":");
    if (uri.port) key.append(std::to_string(*uri.port));
    return key;
  } catch (const sip::SyntaxError&) {
    return std::nullopt;
  }
}

Policy load_policy(const std::filesystem::path& file) {
  std::string text = read_whole(file);
  try {
    return parse_policy(text);
  } catch (const PolicyError& e) {
    throw PolicyError(e.problems, file.string());
  }
}

PolicyStore::PolicyStore(std::filesystem::path file) : file_(std::move(file)) {
  read_ = stamp_of(file_);
  current_ = std::make_shared<const Policy>(load_policy(file_));
}

std::shared_ptr<const Policy> PolicyStore::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::vector<std::string> PolicyStore::reload() {
  // Stamped before reading: a write that lands while we read changes the stamp again, so the
  // next poll sees it.
  Stamp before = stamp_of(file_);
  try {
    auto next = std::make_shared<const Policy>(load_policy(file_));
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
    read_ = before;
    return {};
  } catch (const PolicyError& e) {
    std::lock_guard lock(mutex_);
    read_ = before;
    return e.problems;
  }
}

bool PolicyStore::changed_on_disk() const {
  Stamp now = stamp_of(file_);
  std::lock_guard lock(mutex_);
  return !(now == read_);
}

PolicyStore::Stamp PolicyStore::stamp_of(const std::filesystem::path& file) {
  // POSIX stat rather than std::filesystem: editors that write a new file and rename it over the
  // old one can leave size and mtime alike, but never the inode.
  struct ::stat st {};
  if (::stat(file.c_str(), &st) != 0) return {};
  Stamp s;
  s.exists = true;
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.size = static_cast<std::uintmax_t>(st.st_size);
  s.inode = static_cast<std::uintmax_t>(st.st_ino);
  return s;
}

}  // namespace ng911::esrp::policy
