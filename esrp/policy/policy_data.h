#pragma once
// The loaded form of a policy file, private to the PRF: what policy_load.cpp builds from the JSON
// and policy.cpp evaluates. Everything that can be checked or compiled (URIs, time zones,
// regexes, polygons, CIDRs) is done once at load, so evaluating a call cannot fail.
#include <array>
#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/geometry/geometries/multi_polygon.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include "policy/policy.h"

namespace ng911::esrp::policy::detail {

namespace bg = boost::geometry;
// x is longitude, y latitude: GeoJSON's order, planar in degrees like the ECRF's boundaries.
using GeoPoint = bg::model::d2::point_xy<double>;
using GeoPolygon = bg::model::polygon<GeoPoint>;
using GeoMultiPolygon = bg::model::multi_polygon<GeoPolygon>;

struct Cidr {
  boost::asio::ip::address network;  // host bits zero
  unsigned prefix = 0;
};

// Who sent the call: by the previous hop's address and/or the From domain. Both lists given:
// both must hold; each list holds when any entry matches.
struct SourceMatch {
  std::vector<Cidr> addresses;
  std::vector<std::string> from_domains;  // lower case; "*.example.net" matches its subdomains
};

struct DateRange {
  cctz::civil_day from, to;  // inclusive
};

struct TimePeriod {
  cctz::time_zone zone;
  std::array<bool, 7> days{true, true, true, true, true, true, true};  // Monday first, as cctz
  bool whole_day = true;
  int from_minute = 0, to_minute = 0;  // local wall clock; to <= from crosses midnight
  std::vector<DateRange> dates;        // empty: any date
};

struct HolidayCalendar {
  cctz::time_zone zone;
  std::set<cctz::civil_day> dates;
  std::set<std::pair<int, int>> every_year;  // (month, day)
};

struct Holiday {
  std::size_t calendar = 0;  // index into PolicyData::calendars
  bool is_holiday = true;
};

struct QueueState {
  std::string queue;  // as written; empty: the rule set's own queue ("$queue")
  std::array<bool, 7> states{};  // indexed by QueueStatus
  std::optional<QueueStatus> unknown_as;  // unset: an unknown state never matches
};

struct Header {
  enum class Test { equals, contains, regex, present, absent };
  std::string name;
  Test test = Test::present;
  std::string value;  // lower case when ignore_case
  std::regex regex;
  bool ignore_case = false;
};

struct LocationIn {
  std::size_t area = 0;  // index into PolicyData::areas
};

struct Service {
  std::vector<std::string> urns;  // lower case
};

struct Method {
  std::vector<std::string> methods;
};

struct Condition;
struct Not {
  std::vector<Condition> inner;  // exactly one
};
struct AnyOf {
  std::vector<Condition> any;
};

struct Condition {
  std::variant<TimePeriod, Holiday, QueueState, Header, LocationIn, SourceMatch, Service, Method, Not, AnyOf> test;
};

struct Rule {
  std::string id;
  std::int64_t priority = 0;
  std::vector<Condition> conditions;  // all must hold
  std::vector<RouteAction> routes;    // terminal when not empty
  bool busy = false;                  // terminal
  std::vector<std::string> log;
  std::vector<NotifyAction> notify;
  bool terminal() const { return busy || !routes.empty(); }
};

struct RuleSet {
  std::string id;
  // Origination rule sets: catch-all or a source match. Queue rule sets: the queue.
  bool origination = true;
  bool catch_all = false;
  SourceMatch match;
  std::string queue;      // as written
  std::string queue_key;  // queue_key(queue)
  std::vector<Rule> rules;  // by descending priority, file order among equals
};

struct PolicyData {
  std::string version;
  std::vector<RuleSet> rule_sets;
  std::vector<HolidayCalendar> calendars;
  std::vector<GeoMultiPolygon> areas;
  std::vector<std::string> queues;
  std::size_t rule_count = 0;
};

// IPv4-mapped IPv6 addresses (a dual-stack socket's view of an IPv4 peer) as IPv4, so that
// IPv4 CIDRs match them.
boost::asio::ip::address unmapped(const boost::asio::ip::address& a);
// The address with every bit after the first `prefix` cleared.
boost::asio::ip::address masked(const boost::asio::ip::address& a, unsigned prefix);
std::string lower(std::string_view s);

}  // namespace ng911::esrp::policy::detail
