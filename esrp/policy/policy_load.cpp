// The policy file (docs/policy.md) read and checked: every problem is collected with its JSON
// path, so that an operator fixes a refused file in one pass rather than one error per reload.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>

#include <boost/geometry/algorithms/correct.hpp>
#include <boost/geometry/algorithms/equals.hpp>
#include <boost/geometry/algorithms/intersects.hpp>
#include <boost/geometry/algorithms/is_valid.hpp>
#include <nlohmann/json.hpp>

#include "policy/policy.h"
#include "policy/policy_data.h"
#include "sip/text.h"
#include "sip/uri.h"

namespace ng911::esrp::policy {
namespace {
using namespace detail;
using nlohmann::json;

constexpr std::int64_t kMaxRingTimeoutMs = 600'000;  // longer than any PSAP lets a call ring

std::string at(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string at(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string list(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

std::string kind_of(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "something else";
  }
}

// nlohmann::json keeps the last of two equal keys silently; a policy file with a key twice is
// ambiguous, so the parser's callback tracks where it is and reports duplicates by path.
class DuplicateKeys {
 public:
  explicit DuplicateKeys(std::vector<std::string>& problems) : problems_(problems) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames_.push_back(Frame{event == json::parse_event_t::object_start, segment(), {}, 0, {}});
        break;
      case json::parse_event_t::key: {
        Frame& top = frames_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second) problems_.push_back(path() + ": duplicate key");
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        element_done();
        break;
      case json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::string segment;  // how its parent names it: ".key" or "[i]"
    std::string key;      // object: the key being read
    std::size_t index;    // array: the element being read
    std::set<std::string> keys;
  };

  std::string segment() const {
    if (frames_.empty()) return {};
    const Frame& parent = frames_.back();
    return parent.object ? "." + parent.key : "[" + std::to_string(parent.index) + "]";
  }
  std::string path() const {
    std::string p;
    for (const Frame& f : frames_) p += f.segment;
    p += segment();
    return p.starts_with('.') ? p.substr(1) : p;
  }
  void element_done() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }

  std::vector<std::string>& problems_;
  std::vector<Frame> frames_;
};

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::optional<int> parse_hhmm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto h = sip::parse_uint(s.substr(0, 2), 23), m = sip::parse_uint(s.substr(3, 2), 59);
  if (!h || !m) return std::nullopt;
  return static_cast<int>(*h * 60 + *m);
}

std::optional<cctz::civil_day> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = sip::parse_uint(s.substr(0, 4), 9999), m = sip::parse_uint(s.substr(5, 2), 12),
       d = sip::parse_uint(s.substr(8, 2), 31);
  if (!y || !m || !d) return std::nullopt;
  cctz::civil_day day(static_cast<cctz::year_t>(*y), static_cast<int>(*m), static_cast<int>(*d));
  // civil_day normalises 2026-02-30 to March 2nd; a date that moves was not a date.
  if (day.year() != static_cast<cctz::year_t>(*y) || day.month() != static_cast<int>(*m) ||
      day.day() != static_cast<int>(*d))
    return std::nullopt;
  return day;
}

std::optional<std::pair<int, int>> parse_month_day(std::string_view s) {
  if (s.size() != 5 || s[2] != '-') return std::nullopt;
  auto m = sip::parse_uint(s.substr(0, 2), 12), d = sip::parse_uint(s.substr(3, 2), 31);
  if (!m || !d || *m == 0 || *d == 0) return std::nullopt;
  cctz::civil_day leap(2000, static_cast<int>(*m), static_cast<int>(*d));  // so that 02-29 is a day
  if (leap.month() != static_cast<int>(*m)) return std::nullopt;
  return std::pair<int, int>{static_cast<int>(*m), static_cast<int>(*d)};
}

std::optional<std::size_t> parse_weekday(std::string_view s) {
  static constexpr std::array<std::string_view, 7> kShort{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  static constexpr std::array<std::string_view, 7> kLong{"monday", "tuesday", "wednesday", "thursday",
                                                         "friday", "saturday", "sunday"};
  for (std::size_t i = 0; i < 7; ++i)
    if (sip::iequals(s, kShort[i]) || sip::iequals(s, kLong[i])) return i;
  return std::nullopt;
}

// Why a text is not a sip:/sips: URI with a host; nullopt when it is one.
std::optional<std::string> sip_uri_problem(std::string_view text) {
  try {
    sip::Uri uri = sip::parse_uri(text);
    if (!uri.is_sip()) return "expected a sip: or sips: URI, found " + in_quotes(text);
    if (uri.host.empty()) return "no host in " + in_quotes(text);
    return std::nullopt;
  } catch (const sip::SyntaxError& e) {
    return "not a SIP URI: " + in_quotes(text) + " (" + e.what() + ")";
  }
}

class Loader {
 public:
  explicit Loader(std::vector<std::string>& problems) : problems_(problems) {}

  PolicyData load(const json& root) {
    PolicyData data;
    if (!object(root, "", {"version", "description", "timeZone", "holidayCalendars", "areas", "ruleSets"}))
      return data;
    if (auto v = string(root, "version", "", false)) data.version = *v;
    string(root, "description", "", false, false);
    if (const json* tz = member(root, "timeZone", "", false)) {
      default_zone_ = zone(*tz, "timeZone");
      default_zone_failed_ = !default_zone_;  // said once, not again for every timePeriod
    }
    if (const json* cals = member(root, "holidayCalendars", "", false)) calendars(*cals, "holidayCalendars", data);
    if (const json* areas = member(root, "areas", "", false)) load_areas(*areas, "areas", data);
    if (const json* sets = member(root, "ruleSets", "", true)) rule_sets(*sets, "ruleSets", data);
    return data;
  }

 private:
  void fail(const std::string& path, std::string what) {
    problems_.push_back((path.empty() ? std::string("(root)") : path) + ": " + std::move(what));
  }

  // An object whose keys are all allowed.
  bool object(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed) {
    if (!j.is_object()) {
      fail(path, "expected an object, found " + kind_of(j));
      return false;
    }
    for (const auto& [key, value] : j.items())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail(at(path, key), allowed.size() == 0 ? std::string("unknown key (this object takes none)")
                                                : "unknown key (expected one of: " + list(allowed) + ")");
    return true;
  }

  // An object used as a map from names the file chooses (holidayCalendars, areas).
  bool named(const json& j, const std::string& path) {
    if (!j.is_object()) {
      fail(path, "expected an object of named entries, found " + kind_of(j));
      return false;
    }
    for (const auto& [key, value] : j.items())
      if (key.empty()) fail(path, "empty name");
    return true;
  }

  const json* member(const json& obj, std::string_view key, const std::string& path, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(at(path, key), "missing (required)");
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> string_value(const json& j, const std::string& path, bool non_empty = true) {
    if (!j.is_string()) {
      fail(path, "expected a string, found " + kind_of(j));
      return std::nullopt;
    }
    if (non_empty && j.get_ref<const std::string&>().empty()) {
      fail(path, "empty");
      return std::nullopt;
    }
    return j.get<std::string>();
  }

  std::optional<std::string> string(const json& obj, std::string_view key, const std::string& path, bool required,
                                    bool non_empty = true) {
    const json* j = member(obj, key, path, required);
    return j ? string_value(*j, at(path, key), non_empty) : std::nullopt;
  }

  std::optional<bool> boolean(const json& obj, std::string_view key, const std::string& path) {
    const json* j = member(obj, key, path, false);
    if (!j) return std::nullopt;
    if (!j->is_boolean()) {
      fail(at(path, key), "expected true or false, found " + kind_of(*j));
      return std::nullopt;
    }
    return j->get<bool>();
  }

  std::optional<std::int64_t> integer(const json& obj, std::string_view key, const std::string& path, bool required,
                                      std::int64_t min, std::int64_t max) {
    const json* j = member(obj, key, path, required);
    if (!j) return std::nullopt;
    if (!j->is_number_integer() || (j->is_number_unsigned() && j->get<std::uint64_t>() > std::uint64_t(max))) {
      fail(at(path, key), j->is_number_integer() ? "too large (at most " + std::to_string(max) + ")"
                                                 : "expected an integer, found " + kind_of(*j));
      return std::nullopt;
    }
    std::int64_t v = j->get<std::int64_t>();
    if (v < min || v > max) {
      fail(at(path, key), "out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
      return std::nullopt;
    }
    return v;
  }

  // A non-empty array of strings (the key must be present once this is called).
  std::vector<std::pair<std::string, std::string>> strings(const json& j, const std::string& path) {
    std::vector<std::pair<std::string, std::string>> out;  // (value, its path)
    if (!j.is_array()) {
      fail(path, "expected an array, found " + kind_of(j));
      return out;
    }
    if (j.empty()) fail(path, "empty");
    for (std::size_t i = 0; i < j.size(); ++i)
      if (auto s = string_value(j[i], at(path, i))) out.emplace_back(*s, at(path, i));
    return out;
  }

  std::optional<cctz::time_zone> zone(const json& j, const std::string& path) {
    auto name = string_value(j, path);
    if (!name) return std::nullopt;
    cctz::time_zone tz;
    if (!cctz::load_time_zone(*name, &tz)) {
      fail(path, "unknown time zone " + in_quotes(*name) + " (expected an IANA name like America/New_York)");
      return std::nullopt;
    }
    return tz;
  }

  // The object's own timeZone, else the file's; a missing one is a problem only when neither.
  std::optional<cctz::time_zone> zone_of(const json& obj, const std::string& path) {
    if (const json* tz = member(obj, "timeZone", path, false)) return zone(*tz, at(path, "timeZone"));
    if (default_zone_) return default_zone_;
    if (!default_zone_failed_) fail(at(path, "timeZone"), "missing (required when the file has no timeZone)");
    return std::nullopt;
  }

  void calendars(const json& j, const std::string& path, PolicyData& data) {
    if (!named(j, path)) return;
    for (const auto& [name, cal] : j.items()) {
      std::string p = at(path, name);
      calendar_index_[name] = data.calendars.size();
      HolidayCalendar& c = data.calendars.emplace_back();
      if (!object(cal, p, {"timeZone", "dates", "description"})) continue;
      string(cal, "description", p, false, false);
      if (auto tz = zone_of(cal, p)) c.zone = *tz;
      const json* dates = member(cal, "dates", p, true);
      if (!dates) continue;
      for (const auto& [text, where] : strings(*dates, at(p, "dates"))) {
        if (auto d = parse_date(text)) c.dates.insert(*d);
        else if (auto md = parse_month_day(text)) c.every_year.insert(*md);
        else fail(where, "expected YYYY-MM-DD (one day) or MM-DD (every year), found " + in_quotes(text));
      }
    }
  }

  std::optional<GeoPolygon> polygon(const json& rings, const std::string& path) {
    if (!rings.is_array() || rings.empty()) {
      fail(path, "expected an array of linear rings, found " + (rings.is_array() ? "an empty array" : kind_of(rings)));
      return std::nullopt;
    }
    GeoPolygon poly;
    bool ok = true;
    for (std::size_t r = 0; r < rings.size(); ++r) {
      std::string rp = at(path, r);
      const json& ring = rings[r];
      if (!ring.is_array() || ring.size() < 4) {
        fail(rp, "expected a linear ring of at least 4 positions, found " +
                     (ring.is_array() ? std::to_string(ring.size()) + " positions" : kind_of(ring)));
        ok = false;
        continue;
      }
      auto& out = r == 0 ? poly.outer() : poly.inners().emplace_back();
      for (std::size_t i = 0; i < ring.size(); ++i) {
        const json& pos = ring[i];
        bool numbers = pos.is_array() && (pos.size() == 2 || pos.size() == 3) &&
                       std::all_of(pos.begin(), pos.end(), [](const json& n) { return n.is_number(); });
        if (!numbers) {
          fail(at(rp, i), "expected a position [longitude, latitude]");
          ok = false;
          continue;
        }
        double lon = pos[0].get<double>(), lat = pos[1].get<double>();
        if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
          fail(at(rp, i), "out of range: longitude -180..180, latitude -90..90 (GeoJSON order is [longitude, latitude])");
          ok = false;
          continue;
        }
        out.emplace_back(lon, lat);
      }
      if (ok && !bg::equals(out.front(), out.back())) {
        fail(rp, "not closed: the last position must repeat the first (RFC 7946 3.1.6)");
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return poly;
  }

  void load_areas(const json& j, const std::string& path, PolicyData& data) {
    if (!named(j, path)) return;
    for (const auto& [name, geometry] : j.items()) {
      std::string p = at(path, name);
      area_index_[name] = data.areas.size();
      GeoMultiPolygon& area = data.areas.emplace_back();
      if (!object(geometry, p, {"type", "coordinates"})) continue;
      auto type = string(geometry, "type", p, true);
      const json* coordinates = member(geometry, "coordinates", p, true);
      if (!type || !coordinates) continue;
      std::string cp = at(p, "coordinates");
      bool ok = true;
      if (*type == "Polygon") {
        if (auto poly = polygon(*coordinates, cp)) area.push_back(*poly);
        else ok = false;
      } else if (*type == "MultiPolygon") {
        if (!coordinates->is_array() || coordinates->empty()) {
          fail(cp, "expected an array of polygons");
          continue;
        }
        for (std::size_t i = 0; i < coordinates->size(); ++i) {
          if (auto poly = polygon((*coordinates)[i], at(cp, i))) area.push_back(*poly);
          else ok = false;
        }
      } else {
        fail(at(p, "type"), "expected \"Polygon\" or \"MultiPolygon\", found " + in_quotes(*type));
        continue;
      }
      if (!ok) continue;
      // Checked before orienting: a ring that crosses itself has no orientation to correct, and
      // is_valid would call it "wrong orientation".
      if (std::any_of(area.begin(), area.end(), [](const GeoPolygon& poly) { return bg::intersects(poly); })) {
        fail(p, "invalid polygon: a ring crosses itself or another ring");
        continue;
      }
      // GeoJSON asks for counterclockwise outer rings but readers must take either (RFC 7946
      // 3.1.6); Boost.Geometry's default polygon is clockwise, so orient before checking.
      bg::correct(area);
      std::string why;
      if (!bg::is_valid(area, why)) fail(p, "invalid polygon: " + why);
    }
  }

  std::optional<Cidr> cidr(const std::string& text, const std::string& path) {
    std::string_view address = text, prefix_text;
    if (auto slash = text.find('/'); slash != std::string::npos) {
      address = std::string_view(text).substr(0, slash);
      prefix_text = std::string_view(text).substr(slash + 1);
    }
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(address), ec);
    if (ec) {
      fail(path, "expected an IPv4 or IPv6 address or CIDR (10.0.0.0/8, 2001:db8::/32), found " + in_quotes(text));
      return std::nullopt;
    }
    unsigned bits = a.is_v4() ? 32 : 128;
    unsigned prefix = bits;
    if (!prefix_text.empty() || address.size() != text.size()) {
      auto p = sip::parse_uint(prefix_text, bits);
      if (!p) {
        fail(path, "bad prefix length in " + in_quotes(text) + " (0 to " + std::to_string(bits) + ")");
        return std::nullopt;
      }
      prefix = static_cast<unsigned>(*p);
    }
    auto network = masked(a, prefix);
    if (network != a) {
      fail(path, in_quotes(text) + " has host bits set (the network is " + network.to_string() + "/" +
                     std::to_string(prefix) + ")");
      return std::nullopt;
    }
    return Cidr{a, prefix};
  }

  // {addresses, fromDomains}: for a rule set's match and the source condition.
  std::optional<SourceMatch> source(const json& j, const std::string& path) {
    if (!object(j, path, {"addresses", "fromDomains"})) return std::nullopt;
    SourceMatch m;
    const json* addresses = member(j, "addresses", path, false);
    const json* domains = member(j, "fromDomains", path, false);
    if (!addresses && !domains) {
      fail(path, "needs addresses and/or fromDomains");
      return std::nullopt;
    }
    if (addresses)
      for (const auto& [text, where] : strings(*addresses, at(path, "addresses")))
        if (auto c = cidr(text, where)) m.addresses.push_back(*c);
    if (domains)
      for (const auto& [text, where] : strings(*domains, at(path, "fromDomains"))) {
        bool plain = std::all_of(text.begin(), text.end(), [](char c) {
          return sip::is_alpha(c) || sip::is_digit(c) || c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
        });
        if (!plain && !(text.starts_with("*.") && text.size() > 2)) {
          fail(where, "expected a domain (example.net) or *.example.net, found " + in_quotes(text));
          continue;
        }
        m.from_domains.push_back(lower(text));
      }
    return m;
  }

  // What a condition or action of a rule is checked against.
  struct RuleScope {
    bool queue_set = false;  // "$queue" is allowed
    std::string rule_name;   // "ruleSetId/ruleId"
  };

  // An object with exactly one key: the condition's (or action's) name.
  bool single(const json& j, const std::string& path, std::string_view what,
              std::initializer_list<std::string_view> names, json::const_iterator& it) {
    if (!j.is_object()) {
      fail(path, "expected an object with one " + std::string(what) + ", found " + kind_of(j));
      return false;
    }
    if (j.size() != 1) {
      std::string keys;
      for (const auto& [k, v] : j.items()) keys += (keys.empty() ? "" : ", ") + k;
      fail(path, "expected one " + std::string(what) + " per object (" + list(names) + "), found " +
                     (j.empty() ? std::string("none") : std::to_string(j.size()) + ": " + keys));
      return false;
    }
    it = j.begin();
    if (std::find(names.begin(), names.end(), it.key()) == names.end()) {
      fail(at(path, it.key()), "unknown " + std::string(what) + " (expected one of: " + list(names) + ")");
      return false;
    }
    return true;
  }

  std::optional<Condition> condition(const json& j, const std::string& path, const RuleScope& scope) {
    json::const_iterator it;
    if (!single(j, path, "condition",
                {"timePeriod", "holiday", "queueState", "header", "locationIn", "source", "service", "method", "not",
                 "anyOf"},
                it))
      return std::nullopt;
    const std::string& name = it.key();
    const json& v = it.value();
    std::string p = at(path, name);
    if (name == "timePeriod") return wrap(time_period(v, p));
    if (name == "holiday") return wrap(holiday(v, p));
    if (name == "queueState") return wrap(queue_state(v, p, scope));
    if (name == "header") return wrap(header(v, p));
    if (name == "locationIn") return wrap(location_in(v, p));
    if (name == "source") return wrap(source(v, p));
    if (name == "service") return wrap(service(v, p));
    if (name == "method") return wrap(method(v, p));
    if (name == "not") {
      auto inner = condition(v, p, scope);
      if (!inner) return std::nullopt;
      Not n;
      n.inner.push_back(std::move(*inner));
      return Condition{std::move(n)};
    }
    if (!v.is_array() || v.empty()) {
      fail(p, "expected a non-empty array of conditions");
      return std::nullopt;
    }
    AnyOf any;
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (auto c = condition(v[i], at(p, i), scope)) any.any.push_back(std::move(*c));
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return Condition{std::move(any)};
  }

  template <class T>
  static std::optional<Condition> wrap(std::optional<T> t) {
    if (!t) return std::nullopt;
    return Condition{std::move(*t)};
  }

  std::optional<TimePeriod> time_period(const json& j, const std::string& path) {
    if (!object(j, path, {"timeZone", "days", "from", "to", "dates"})) return std::nullopt;
    TimePeriod t;
    bool ok = true;
    if (auto tz = zone_of(j, path)) t.zone = *tz;
    else ok = false;
    const json* days = member(j, "days", path, false);
    if (days) {
      t.days.fill(false);
      for (const auto& [text, where] : strings(*days, at(path, "days"))) {
        if (auto d = parse_weekday(text)) t.days[*d] = true;
        else {
          fail(where, "expected a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun), found " + in_quotes(text));
          ok = false;
        }
      }
    }
    auto from = string(j, "from", path, false), to = string(j, "to", path, false);
    for (auto [text, key] : {std::pair{&from, "from"}, std::pair{&to, "to"}}) {
      if (!*text) continue;
      if (!parse_hhmm(**text)) {
        fail(at(path, key), "expected HH:MM (00:00 to 23:59), found " + in_quotes(**text));
        ok = false;
      }
    }
    if (from.has_value() != to.has_value()) {
      fail(path, "needs both from and to (or neither, for whole days)");
      ok = false;
    } else if (from && ok) {
      t.whole_day = false;
      t.from_minute = *parse_hhmm(*from);
      t.to_minute = *parse_hhmm(*to);
    }
    const json* dates = member(j, "dates", path, false);
    if (dates) {
      std::string dp = at(path, "dates");
      if (!dates->is_array() || dates->empty()) {
        fail(dp, "expected a non-empty array of {from, to} date ranges");
        ok = false;
      } else {
        for (std::size_t i = 0; i < dates->size(); ++i) {
          std::string rp = at(dp, i);
          if (!object((*dates)[i], rp, {"from", "to"})) {
            ok = false;
            continue;
          }
          auto f = string((*dates)[i], "from", rp, true), e = string((*dates)[i], "to", rp, true);
          std::optional<cctz::civil_day> fd, ed;
          if (f && !(fd = parse_date(*f))) fail(at(rp, "from"), "expected YYYY-MM-DD, found " + in_quotes(*f));
          if (e && !(ed = parse_date(*e))) fail(at(rp, "to"), "expected YYYY-MM-DD, found " + in_quotes(*e));
          if (!fd || !ed) {
            ok = false;
            continue;
          }
          if (*ed < *fd) {
            fail(rp, "to is before from");
            ok = false;
            continue;
          }
          t.dates.push_back({*fd, *ed});
        }
      }
    }
    if (!days && !from && !dates) {
      fail(path, "needs days, from/to or dates (else it always holds)");
      ok = false;
    }
    if (!ok) return std::nullopt;
    return t;
  }

  std::optional<Holiday> holiday(const json& j, const std::string& path) {
    if (!object(j, path, {"calendar", "isHoliday"})) return std::nullopt;
    Holiday h;
    if (auto b = boolean(j, "isHoliday", path)) h.is_holiday = *b;
    auto name = string(j, "calendar", path, true);
    if (!name) return std::nullopt;
    auto it = calendar_index_.find(*name);
    if (it == calendar_index_.end()) {
      fail(at(path, "calendar"), "unknown holiday calendar " + in_quotes(*name) + " (not in holidayCalendars)");
      return std::nullopt;
    }
    h.calendar = it->second;
    return h;
  }

  std::optional<QueueState> queue_state(const json& j, const std::string& path, const RuleScope& scope) {
    if (!object(j, path, {"queue", "states", "unknownAs"})) return std::nullopt;
    QueueState q;
    bool ok = true;
    auto queue = string(j, "queue", path, !scope.queue_set);
    if (queue && *queue == "$queue") {
      if (!scope.queue_set) {
        fail(at(path, "queue"), "\"$queue\" is only for a queue rule set's rules (this one is an origination rule set)");
        ok = false;
      }
    } else if (queue) {
      if (auto why = sip_uri_problem(*queue)) {
        fail(at(path, "queue"), *why);
        ok = false;
      } else {
        q.queue = *queue;
      }
    } else if (!scope.queue_set) {
      ok = false;
    }
    auto state_names = [&](const std::string& text, const std::string& where) -> std::optional<QueueStatus> {
      auto s = parse_queue_status(text);
      if (!s)
        fail(where, "unknown queue state " + in_quotes(text) +
                        " (expected Active, Inactive, Disabled, Full, Standby, ResourceExhausted, Unreachable)");
      return s;
    };
    if (const json* states = member(j, "states", path, true)) {
      for (const auto& [text, where] : strings(*states, at(path, "states"))) {
        if (auto s = state_names(text, where)) q.states[static_cast<std::size_t>(*s)] = true;
        else ok = false;
      }
    } else {
      ok = false;
    }
    if (auto unknown = string(j, "unknownAs", path, false)) {
      if (auto s = state_names(*unknown, at(path, "unknownAs"))) q.unknown_as = *s;
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return q;
  }

  std::optional<Header> header(const json& j, const std::string& path) {
    if (!object(j, path, {"name", "equals", "contains", "regex", "present", "ignoreCase"})) return std::nullopt;
    Header h;
    bool ok = true;
    auto name = string(j, "name", path, true);
    if (name && !sip::is_token(*name)) {
      fail(at(path, "name"), "not a SIP header name: " + in_quotes(*name));
      ok = false;
    }
    if (!name) ok = false;
    else h.name = *name;
    if (auto ic = boolean(j, "ignoreCase", path)) h.ignore_case = *ic;
    int tests = 0;
    for (auto key : {"equals", "contains", "regex", "present"}) tests += j.contains(key) ? 1 : 0;
    if (tests != 1) {
      fail(path, tests == 0 ? "needs one of equals, contains, regex, present"
                            : "only one of equals, contains, regex, present per header condition");
      return std::nullopt;
    }
    if (j.contains("present")) {
      auto present = boolean(j, "present", path);
      if (!present) return std::nullopt;
      h.test = *present ? Header::Test::present : Header::Test::absent;
    } else if (j.contains("regex")) {
      h.test = Header::Test::regex;
      auto pattern = string(j, "regex", path, true);
      if (!pattern) return std::nullopt;
      try {
        auto flags = std::regex::ECMAScript | std::regex::optimize;
        if (h.ignore_case) flags |= std::regex::icase;
        h.regex = std::regex(*pattern, flags);
      } catch (const std::regex_error& e) {
        fail(at(path, "regex"), "does not compile (ECMAScript): " + in_quotes(*pattern) + ": " + e.what());
        return std::nullopt;
      }
    } else {
      bool equals = j.contains("equals");
      h.test = equals ? Header::Test::equals : Header::Test::contains;
      auto value = string(j, equals ? "equals" : "contains", path, true, !equals);
      if (!value) return std::nullopt;
      h.value = h.ignore_case ? lower(*value) : *value;
    }
    if (!ok) return std::nullopt;
    return h;
  }

  std::optional<LocationIn> location_in(const json& j, const std::string& path) {
    if (!object(j, path, {"area"})) return std::nullopt;
    auto name = string(j, "area", path, true);
    if (!name) return std::nullopt;
    auto it = area_index_.find(*name);
    if (it == area_index_.end()) {
      fail(at(path, "area"), "unknown area " + in_quotes(*name) + " (not in areas)");
      return std::nullopt;
    }
    return LocationIn{it->second};
  }

  std::optional<Service> service(const json& j, const std::string& path) {
    if (!object(j, path, {"urns"})) return std::nullopt;
    const json* urns = member(j, "urns", path, true);
    if (!urns) return std::nullopt;
    Service s;
    bool ok = true;
    for (const auto& [text, where] : strings(*urns, at(path, "urns"))) {
      bool urn = false;
      try {
        urn = sip::parse_uri(text).scheme == sip::Scheme::urn;
      } catch (const sip::SyntaxError&) {
      }
      if (!urn) {
        fail(where, "expected a service URN (urn:service:sos.police), found " + in_quotes(text));
        ok = false;
        continue;
      }
      s.urns.push_back(lower(text));
    }
    if (!ok || s.urns.empty()) return std::nullopt;
    return s;
  }

  std::optional<Method> method(const json& j, const std::string& path) {
    if (!object(j, path, {"methods"})) return std::nullopt;
    const json* methods = member(j, "methods", path, true);
    if (!methods) return std::nullopt;
    Method m;
    bool ok = true;
    for (const auto& [text, where] : strings(*methods, at(path, "methods"))) {
      if (!sip::is_token(text)) {
        fail(where, "not a SIP method: " + in_quotes(text));
        ok = false;
        continue;
      }
      m.methods.push_back(text);  // case-sensitive (RFC 3261 7.1)
    }
    if (!ok || m.methods.empty()) return std::nullopt;
    return m;
  }

  void actions(const json& j, const std::string& path, const RuleScope& scope, Rule& rule) {
    if (!j.is_array()) {
      fail(path, "expected an array, found " + kind_of(j));
      return;
    }
    if (j.empty()) {
      fail(path, "empty: a rule needs at least one action");
      return;
    }
    int busy = 0;
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::string ap = at(path, i);
      json::const_iterator it;
      if (!single(j[i], ap, "action", {"route", "busy", "log", "notify"}, it)) continue;
      const std::string& name = it.key();
      const json& v = it.value();
      std::string p = at(ap, name);
      if (name == "route") {
        if (auto r = route(v, p, scope)) rule.routes.push_back(std::move(*r));
      } else if (name == "busy") {
        if (object(v, p, {})) ++busy;
      } else if (name == "log") {
        if (!object(v, p, {"message"})) continue;
        if (auto m = string(v, "message", p, true)) rule.log.push_back(*m);
      } else {
        if (!object(v, p, {"target", "message"})) continue;
        auto target = string(v, "target", p, true);
        auto message = string(v, "message", p, true);
        if (target)
          if (auto why = sip_uri_problem(*target)) {
            fail(at(p, "target"), *why);
            continue;
          }
        if (target && message) rule.notify.push_back({*target, *message});
      }
    }
    rule.busy = busy > 0;
    if (busy > 1) fail(path, "busy more than once");
    bool routes = std::any_of(j.begin(), j.end(), [](const json& a) { return a.is_object() && a.contains("route"); });
    if (busy && routes) fail(path, "both route and busy: a rule either routes the call or answers busy");
  }

  std::optional<RouteAction> route(const json& j, const std::string& path, const RuleScope& scope) {
    if (!object(j, path, {"target", "ringTimeoutMs", "cause", "resourcePriority"})) return std::nullopt;
    RouteAction r;
    bool ok = true;
    auto target = string(j, "target", path, true);
    if (target) {
      if (auto why = sip_uri_problem(*target)) {
        fail(at(path, "target"), *why);
        ok = false;
      }
      r.target = *target;
    } else {
      ok = false;
    }
    if (j.contains("ringTimeoutMs")) {
      if (auto ms = integer(j, "ringTimeoutMs", path, false, 1, kMaxRingTimeoutMs))
        r.ring_timeout = std::chrono::milliseconds(*ms);
      else
        ok = false;
    }
    if (j.contains("cause")) {
      if (auto c = string(j, "cause", path, false)) r.cause = *c;
      else ok = false;
    } else {
      r.cause = scope.rule_name;
    }
    if (auto rp = string(j, "resourcePriority", path, false)) {
      static constexpr std::array<std::string_view, 5> kEsnet{"esnet.0", "esnet.1", "esnet.2", "esnet.3", "esnet.4"};
      if (std::find(kEsnet.begin(), kEsnet.end(), *rp) == kEsnet.end()) {
        fail(at(path, "resourcePriority"), "expected esnet.0 to esnet.4 (RFC 7134), found " + in_quotes(*rp));
        ok = false;
      }
      r.resource_priority = *rp;
    } else if (j.contains("resourcePriority")) {
      ok = false;
    }
    if (!ok) return std::nullopt;
    return r;
  }

  void rule_sets(const json& j, const std::string& path, PolicyData& data) {
    if (!j.is_array()) {
      fail(path, "expected an array, found " + kind_of(j));
      return;
    }
    std::map<std::string, std::size_t> set_ids, queue_sets;
    std::optional<std::size_t> catch_all;
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::string p = at(path, i);
      const json& s = j[i];
      if (!object(s, p, {"id", "description", "match", "queue", "rules"})) continue;
      RuleSet set;
      if (auto id = string(s, "id", p, true)) {
        set.id = *id;
        if (auto [it, fresh] = set_ids.emplace(*id, i); !fresh)
          fail(at(p, "id"), "duplicate rule set id " + in_quotes(*id) + " (also " + at(path, it->second) + ")");
      }
      string(s, "description", p, false, false);
      const json* match = member(s, "match", p, false);
      const json* queue = member(s, "queue", p, false);
      if (match && queue) fail(p, "both match and queue: an origination rule set has match, a queue rule set has queue");
      else if (!match && !queue) fail(p, "needs match (an origination rule set) or queue (a queue rule set)");
      if (match) {
        set.origination = true;
        if (catch_all)
          fail(at(p, "match"), "never used: " + at(path, *catch_all) + " before it matches every call (\"default\")");
        if (match->is_string()) {
          if (*match == "default") {
            set.catch_all = true;
            catch_all = catch_all.value_or(i);
          } else {
            fail(at(p, "match"), "expected \"default\" or {addresses, fromDomains}, found " + in_quotes(match->get<std::string>()));
          }
        } else if (auto m = source(*match, at(p, "match"))) {
          set.match = std::move(*m);
        }
      } else if (queue) {
        set.origination = false;
        if (auto q = string_value(*queue, at(p, "queue"))) {
          if (auto why = sip_uri_problem(*q)) {
            fail(at(p, "queue"), *why);
          } else {
            set.queue = *q;
            set.queue_key = *queue_key(*q);
            if (auto [it, fresh] = queue_sets.emplace(set.queue_key, i); !fresh)
              fail(at(p, "queue"), "this queue already has a rule set (" + at(path, it->second) + ")");
          }
        }
      }
      if (const json* rules = member(s, "rules", p, true)) load_rules(*rules, at(p, "rules"), set);
      data.rule_count += set.rules.size();
      data.rule_sets.push_back(std::move(set));
    }
  }

  void load_rules(const json& j, const std::string& path, RuleSet& set) {
    if (!j.is_array()) {
      fail(path, "expected an array, found " + kind_of(j));
      return;
    }
    std::map<std::string, std::size_t> ids;
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::string p = at(path, i);
      const json& r = j[i];
      if (!object(r, p, {"id", "description", "priority", "conditions", "actions"})) continue;
      Rule rule;
      if (auto id = string(r, "id", p, true)) {
        rule.id = *id;
        if (auto [it, fresh] = ids.emplace(*id, i); !fresh)
          fail(at(p, "id"), "duplicate rule id " + in_quotes(*id) + " in this rule set (also " + at(path, it->second) + ")");
      }
      string(r, "description", p, false, false);
      if (auto prio = integer(r, "priority", p, true, 0, std::numeric_limits<std::int64_t>::max())) rule.priority = *prio;
      RuleScope scope{!set.origination, set.id + "/" + rule.id};
      if (const json* conditions = member(r, "conditions", p, false)) {
        std::string cp = at(p, "conditions");
        if (!conditions->is_array()) {
          fail(cp, "expected an array, found " + kind_of(*conditions));
        } else {
          for (std::size_t c = 0; c < conditions->size(); ++c)
            if (auto cond = condition((*conditions)[c], at(cp, c), scope)) rule.conditions.push_back(std::move(*cond));
        }
      }
      if (const json* acts = member(r, "actions", p, true)) actions(*acts, at(p, "actions"), scope, rule);
      set.rules.push_back(std::move(rule));
    }
    std::stable_sort(set.rules.begin(), set.rules.end(),
                     [](const Rule& a, const Rule& b) { return a.priority > b.priority; });
  }

  std::vector<std::string>& problems_;
  std::optional<cctz::time_zone> default_zone_;
  bool default_zone_failed_ = false;
  std::map<std::string, std::size_t, std::less<>> calendar_index_, area_index_;
};

// Every queue the rules name, once each, in the form first written; queueState conditions are
// pointed at that form, so the lookup is always asked with a string that queues() returned.
void collect_queues(PolicyData& data) {
  std::map<std::string, std::string> first;  // key → as first written
  auto add = [&](const std::string& uri) -> const std::string& {
    auto key = queue_key(uri);
    auto [it, fresh] = first.emplace(*key, uri);
    if (fresh) data.queues.push_back(uri);
    return it->second;
  };
  std::function<void(Condition&)> visit = [&](Condition& c) {
    if (auto* q = std::get_if<QueueState>(&c.test); q && !q->queue.empty()) q->queue = add(q->queue);
    if (auto* n = std::get_if<Not>(&c.test))
      for (auto& inner : n->inner) visit(inner);
    if (auto* a = std::get_if<AnyOf>(&c.test))
      for (auto& inner : a->any) visit(inner);
  };
  for (RuleSet& set : data.rule_sets) {
    if (!set.origination) set.queue = add(set.queue);
    for (Rule& rule : set.rules) {
      for (Condition& c : rule.conditions) visit(c);
      for (const RouteAction& r : rule.routes) add(r.target);
    }
  }
}

std::string syntax_problem(const json::parse_error& e) {
  // nlohmann's text is "[json.exception.parse_error.101] parse error at line 2, column 5: ...".
  std::string what = e.what();
  if (auto at_line = what.find("line "); at_line != std::string::npos) return what.substr(at_line);
  return what;
}

}  // namespace

Policy parse_policy(std::string_view json_text) {
  std::vector<std::string> problems;
  json root;
  try {
    DuplicateKeys duplicates(problems);
    root = json::parse(json_text.begin(), json_text.end(), std::ref(duplicates));
  } catch (const json::parse_error& e) {
    throw PolicyError({syntax_problem(e)});
  }
  Loader loader(problems);
  auto data = std::make_shared<PolicyData>(loader.load(root));
  if (!problems.empty()) throw PolicyError(std::move(problems));
  collect_queues(*data);
  if (data->version.empty()) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(json_text)));
    data->version = std::string("fnv1a64:") + hex;
  }
  return Policy(std::move(data));
}

}  // namespace ng911::esrp::policy
