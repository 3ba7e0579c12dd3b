// The ESRP's Policy Routing Function: the order rules are evaluated in, each condition holding and
// not, terminal and non-terminal actions, every kind of problem a policy file can have (reported
// with its JSON path), and the store that reloads the file without a restart.
#define BOOST_TEST_MODULE ng911 ESRP policy tests
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "policy/policy.h"
#include "support/test_files.h"

using namespace ng911::esrp;
using namespace ng911::esrp::policy;
using namespace std::chrono;

namespace {

const std::string kData = std::string(NG911_TEST_DATA_DIR) + "/esrp/policy/";

system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi};
}

// A call as the ESRP describes it to the policy: an emergency INVITE from a carrier.
struct Call {
  CallFacts facts;
  std::map<std::string, std::vector<std::string>> headers;  // lower-case names

  Call() {
    facts.method = "INVITE";
    facts.service = "urn:service:sos";
    facts.source = boost::asio::ip::make_address("192.0.2.10");
    facts.from_domain = "carrier.example";
    facts.now = utc(2026, 3, 4, 15, 0);  // a Wednesday, 10:00 in New York
    facts.header = [this](std::string_view name) {
      std::string key(name);
      std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
      auto it = headers.find(key);
      return it == headers.end() ? std::vector<std::string>{} : it->second;
    };
  }
  Call(const Call&) = delete;  // the header lookup captures this
  Call& with_header(const std::string& lower_name, std::string value) {
    headers[lower_name].push_back(std::move(value));
    return *this;
  }
};

// Queue states as the ESRP's subscriptions know them; `asked` records what the policy asked.
struct Queues {
  std::map<std::string, QueueStatus> states;
  std::vector<std::string> asked;
  QueueStateLookup lookup() {
    return [this](std::string_view uri) -> std::optional<QueueStatus> {
      asked.emplace_back(uri);
      auto it = states.find(std::string(uri));
      if (it == states.end()) return std::nullopt;
      return it->second;
    };
  }
};

// A policy with one catch-all origination rule set holding one routing rule with these
// conditions; `extra` adds top-level members (areas, holidayCalendars, timeZone).
Policy one_rule(const std::string& conditions, const std::string& extra = "") {
  return parse_policy(R"({)" + extra + R"( "ruleSets": [{"id": "o", "match": "default", "rules": [
      {"id": "r", "priority": 1, "conditions": [)" + conditions + R"(],
       "actions": [{"route": {"target": "sip:psap@127.0.0.1:5071"}}]}]}]})");
}

bool fires(const Policy& p, const CallFacts& call, const QueueStateLookup& queues = {}) {
  Decision d = p.evaluate_origination(call, queues);
  return !d.routes.empty();
}

// The problems a policy text is refused for; none when it loads.
std::vector<std::string> problems_of(const std::string& text) {
  try {
    parse_policy(text);
  } catch (const PolicyError& e) {
    return e.problems;
  }
  return {};
}

// True when one problem is exactly at `path` and says `what`.
bool reported(const std::vector<std::string>& problems, const std::string& path, const std::string& what) {
  for (const auto& p : problems)
    if (p.starts_with(path + ": ") && p.find(what) != std::string::npos) return true;
  return false;
}

std::string show(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p;
  return out.empty() ? " (none)" : out;
}

#define CHECK_REPORTED(text, path, what)                                                        \
  do {                                                                                          \
    auto problems_ = problems_of(text);                                                         \
    BOOST_TEST(reported(problems_, path, what), "expected \"" << path << ": ..." << what        \
                                                              << "...\" among:" << show(problems_)); \
  } while (0)

// A rule in a rule set, for validation cases: the path of the rule is ruleSets[0].rules[0].
std::string rule_doc(const std::string& rule_body, const std::string& set_head = R"("id": "o", "match": "default")",
                     const std::string& extra = "") {
  return "{" + extra + R"( "ruleSets": [{)" + set_head + R"(, "rules": [{"id": "r", "priority": 1, )" + rule_body +
         "}]}]}";
}
const std::string kRoute = R"("actions": [{"route": {"target": "sip:psap@127.0.0.1:5071"}}])";
std::string condition_doc(const std::string& condition, const std::string& extra = "") {
  return rule_doc(R"("conditions": [)" + condition + "], " + kRoute, R"("id": "o", "match": "default")", extra);
}

// A directory of its own under the system's temporary directory, removed afterwards.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("ng911-policy-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  // Written as editors do (a new file renamed over the old), so each version is a new inode.
  void write(const std::string& name, const std::string& text) const {
    auto tmp = path / (name + ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, path / name);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_order)

BOOST_AUTO_TEST_CASE(rules_by_descending_priority_file_order_on_ties_first_terminal_wins) {
  Policy p = parse_policy(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [
    {"id": "low", "priority": 1, "actions": [{"route": {"target": "sip:low@127.0.0.1"}}]},
    {"id": "tie-first", "priority": 50, "actions": [{"route": {"target": "sip:first@127.0.0.1"}}]},
    {"id": "never", "priority": 100, "conditions": [{"method": {"methods": ["OPTIONS"]}}],
     "actions": [{"busy": {}}]},
    {"id": "tie-second", "priority": 50, "actions": [{"route": {"target": "sip:second@127.0.0.1"}}]},
    {"id": "note", "priority": 70, "actions": [{"log": {"message": "seen"}}]}
  ]}]})");
  Call call;
  Decision d = p.evaluate_origination(call.facts, {});
  BOOST_TEST(d.matched == (std::vector<std::string>{"o/note", "o/tie-first"}), boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(d.routes.size() == 1u);
  BOOST_TEST(d.routes[0].target == "sip:first@127.0.0.1");
  BOOST_TEST(d.log == std::vector<std::string>{"seen"}, boost::test_tools::per_element());
  BOOST_TEST(!d.busy);
  BOOST_TEST(p.rule_count() == 5u);
}

BOOST_AUTO_TEST_CASE(non_terminal_actions_of_every_firing_rule_collected_until_the_terminal_one) {
  Policy p = parse_policy(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [
    {"id": "a", "priority": 30, "actions": [{"log": {"message": "one"}},
       {"notify": {"target": "sip:sup@127.0.0.1:5070", "message": "heads up"}}]},
    {"id": "skip", "priority": 25, "conditions": [{"service": {"urns": ["urn:service:sos.fire"]}}],
     "actions": [{"log": {"message": "not me"}}]},
    {"id": "b", "priority": 20, "actions": [{"log": {"message": "two"}}, {"busy": {}}]},
    {"id": "after", "priority": 10, "actions": [{"log": {"message": "too late"}}]}
  ]}]})");
  Call call;
  Decision d = p.evaluate_origination(call.facts, {});
  BOOST_TEST(d.matched == (std::vector<std::string>{"o/a", "o/b"}), boost::test_tools::per_element());
  BOOST_TEST(d.log == (std::vector<std::string>{"one", "two"}), boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(d.notify.size() == 1u);
  BOOST_TEST(d.notify[0].target == "sip:sup@127.0.0.1:5070");
  BOOST_TEST(d.notify[0].message == "heads up");
  BOOST_TEST(d.busy);
  BOOST_TEST(d.routes.empty());
}

BOOST_AUTO_TEST_CASE(no_terminal_rule_leaves_the_route_to_the_ecrf) {
  Policy p = parse_policy(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [
    {"id": "a", "priority": 1, "actions": [{"log": {"message": "only a note"}}]}]}]})");
  Call call;
  Decision d = p.evaluate_origination(call.facts, {});
  BOOST_TEST(d.routes.empty());
  BOOST_TEST(!d.busy);
  BOOST_TEST(d.matched == std::vector<std::string>{"o/a"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(several_route_actions_are_an_ordered_target_list) {
  Policy p = parse_policy(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [
    {"id": "r", "priority": 1, "actions": [
      {"route": {"target": "sip:first@127.0.0.1:5071", "ringTimeoutMs": 15000, "cause": "primary",
                 "resourcePriority": "esnet.0"}},
      {"log": {"message": "between"}},
      {"route": {"target": "sips:second@[::1]:5062"}}]}]}]})");
  Call call;
  Decision d = p.evaluate_origination(call.facts, {});
  BOOST_TEST_REQUIRE(d.routes.size() == 2u);
  BOOST_TEST(d.routes[0].target == "sip:first@127.0.0.1:5071");
  BOOST_TEST(d.routes[0].ring_timeout.count() == 15000);
  BOOST_TEST(d.routes[0].cause == "primary");
  BOOST_TEST(d.routes[0].resource_priority == "esnet.0");
  BOOST_TEST(d.routes[1].target == "sips:second@[::1]:5062");
  BOOST_TEST(d.routes[1].ring_timeout.count() == 0);  // the ESRP's default
  BOOST_TEST(d.routes[1].cause == "o/r");             // no cause given: the rule's name
  BOOST_TEST(d.routes[1].resource_priority.empty());
  BOOST_TEST(d.log == std::vector<std::string>{"between"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(origination_rule_set_chosen_by_source_then_default) {
  Policy p = parse_policy(R"({"ruleSets": [
    {"id": "carrier", "match": {"addresses": ["198.51.100.0/24", "2001:db8:100::/48"]},
     "rules": [{"id": "r", "priority": 1, "actions": [{"log": {"message": "carrier"}}]}]},
    {"id": "partner", "match": {"addresses": ["203.0.113.0/24"], "fromDomains": ["partner.example"]},
     "rules": [{"id": "r", "priority": 1, "actions": [{"log": {"message": "partner"}}]}]},
    {"id": "any", "match": "default",
     "rules": [{"id": "r", "priority": 1, "actions": [{"log": {"message": "default"}}]}]}]})");
  auto chosen = [&](const std::string& address, const std::string& domain) {
    Call call;
    call.facts.source = boost::asio::ip::make_address(address);
    call.facts.from_domain = domain;
    auto d = p.evaluate_origination(call.facts, {});
    return d.matched.empty() ? std::string() : d.matched.front();
  };
  BOOST_TEST(chosen("198.51.100.7", "x.example") == "carrier/r");
  BOOST_TEST(chosen("2001:db8:100:1::5", "x.example") == "carrier/r");
  BOOST_TEST(chosen("203.0.113.9", "partner.example") == "partner/r");
  BOOST_TEST(chosen("203.0.113.9", "other.example") == "any/r");  // both lists must hold
  BOOST_TEST(chosen("192.0.2.1", "partner.example") == "any/r");
  BOOST_TEST(chosen("::1", "") == "any/r");

  Policy no_default = parse_policy(R"({"ruleSets": [
    {"id": "carrier", "match": {"addresses": ["198.51.100.0/24"]},
     "rules": [{"id": "r", "priority": 1, "actions": [{"busy": {}}]}]}]})");
  Call other;
  Decision d = no_default.evaluate_origination(other.facts, {});
  BOOST_TEST(d.matched.empty());
  BOOST_TEST(!d.busy);
}

BOOST_AUTO_TEST_CASE(queue_rule_set_chosen_by_uri_equality) {
  Policy p = parse_policy(R"({"ruleSets": [
    {"id": "a", "queue": "sip:psap-a@127.0.0.1:5071",
     "rules": [{"id": "r", "priority": 1, "actions": [{"route": {"target": "sip:psap-b@127.0.0.1:5072"}}]}]},
    {"id": "v6", "queue": "sip:psap@[2001:db8::1]",
     "rules": [{"id": "r", "priority": 1, "actions": [{"log": {"message": "v6"}}]}]}]})");
  Call call;
  auto fires_for = [&](std::string_view uri) { return !p.evaluate_queue(uri, call.facts, {}).matched.empty(); };
  BOOST_TEST(fires_for("sip:psap-a@127.0.0.1:5071"));
  BOOST_TEST(fires_for("sip:psap-a@127.0.0.1:5071;transport=tcp;lr"));  // parameters do not make another queue
  BOOST_TEST(fires_for("SIP:psap-a@127.0.0.1:5071"));
  BOOST_TEST(fires_for("sip:psap@[2001:DB8::1]"));                      // hosts compare without case
  BOOST_TEST(!fires_for("sip:PSAP-A@127.0.0.1:5071"));                  // users compare with case
  BOOST_TEST(!fires_for("sip:psap-a@127.0.0.1"));                       // no port is not port 5071
  BOOST_TEST(!fires_for("sips:psap-a@127.0.0.1:5071"));
  BOOST_TEST(!fires_for("sip:psap-c@127.0.0.1:5071"));
  BOOST_TEST(!fires_for("not a uri"));
  Decision d = p.evaluate_queue("sip:psap-a@127.0.0.1:5071", call.facts, {});
  BOOST_TEST_REQUIRE(d.routes.size() == 1u);
  BOOST_TEST(d.routes[0].target == "sip:psap-b@127.0.0.1:5072");
  BOOST_TEST(queue_key("sip:psap-a@127.0.0.1:5071;lr").value_or("") == "sip:psap-a@127.0.0.1:5071");
  BOOST_TEST(!queue_key("tel:+15551234567").has_value());
}

BOOST_AUTO_TEST_CASE(queues_version_and_rule_count) {
  Policy p = load_policy(kData + "full.json");
  BOOST_TEST(p.version() == "full-example-1");
  BOOST_TEST(p.rule_count() == 7u);
  // Route targets and queue rule sets, once each, in file order.
  std::vector<std::string> expected{"sip:test-queue@127.0.0.1:5079", "sip:police-night@127.0.0.1:5074",
                                    "sip:psap-a@127.0.0.1:5071", "sip:psap-b@127.0.0.1:5072"};
  BOOST_TEST(p.queues() == expected, boost::test_tools::per_element());

  std::string text = R"({"ruleSets": [{"id": "o", "match": "default", "rules": []}]})";
  std::string other = R"({"ruleSets": [{"id": "p", "match": "default", "rules": []}]})";
  BOOST_TEST(parse_policy(text).version().starts_with("fnv1a64:"));
  BOOST_TEST(parse_policy(text).version() == parse_policy(text).version());
  BOOST_TEST(parse_policy(text).version() != parse_policy(other).version());
}

BOOST_AUTO_TEST_CASE(full_example_evaluates_as_documented) {
  Policy p = load_policy(kData + "full.json");
  {
    Call call;  // text from downtown on a Wednesday morning
    call.facts.method = "MESSAGE";
    call.facts.location = std::pair{30.25, -97.75};
    Decision d = p.evaluate_origination(call.facts, {});
    BOOST_TEST(d.matched == std::vector<std::string>{"origination-default/text-to-911"}, boost::test_tools::per_element());
    BOOST_TEST(d.log == std::vector<std::string>{"text-to-911 session"}, boost::test_tools::per_element());
    BOOST_TEST(d.routes.empty());
  }
  {
    Call call;  // police, downtown, Saturday 01:30 in New York (a Friday night shift)
    call.facts.service = "urn:service:sos.police";
    call.facts.location = std::pair{30.25, -97.75};
    call.facts.now = utc(2026, 3, 7, 6, 30);
    Decision d = p.evaluate_origination(call.facts, {});
    BOOST_TEST_REQUIRE(d.routes.size() == 2u);
    BOOST_TEST(d.routes[0].target == "sip:police-night@127.0.0.1:5074");
    BOOST_TEST(d.routes[0].ring_timeout.count() == 15000);
    BOOST_TEST(d.routes[1].target == "sip:psap-a@127.0.0.1:5071");
  }
  {
    Call call;  // the test carrier's SBC
    call.facts.source = boost::asio::ip::make_address("198.51.100.20");
    Decision d = p.evaluate_origination(call.facts, {});
    BOOST_TEST_REQUIRE(d.routes.size() == 1u);
    BOOST_TEST(d.routes[0].cause == "test carrier");
  }
  {
    Call call;  // a tagged device on a holiday, from the partner: notify, log, then busy
    call.facts.now = utc(2026, 12, 25, 17, 0);
    call.facts.from_domain = "sbc1.partner.example";
    call.with_header("user-agent", "testphone/7 (lab)");
    Decision d = p.evaluate_origination(call.facts, {});
    std::vector<std::string> expected{"origination-default/holiday-staffing", "origination-default/device-tagged",
                                      "origination-default/from-partner"};
    BOOST_TEST(d.matched == expected, boost::test_tools::per_element());
    BOOST_TEST(d.notify.size() == 1u);
    BOOST_TEST(d.log == std::vector<std::string>{"tagged device"}, boost::test_tools::per_element());
    BOOST_TEST(d.busy);
  }
  {
    Call call;  // psap-a with no known state: unknownAs Unreachable overflows it
    Queues q;
    Decision d = p.evaluate_queue("sip:psap-a@127.0.0.1:5071", call.facts, q.lookup());
    BOOST_TEST_REQUIRE(d.routes.size() == 1u);
    BOOST_TEST(d.routes[0].target == "sip:psap-b@127.0.0.1:5072");
    q.states["sip:psap-a@127.0.0.1:5071"] = QueueStatus::active;
    BOOST_TEST(p.evaluate_queue("sip:psap-a@127.0.0.1:5071", call.facts, q.lookup()).routes.empty());
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(policy_conditions)

BOOST_AUTO_TEST_CASE(time_period_in_a_time_zone_across_dst) {
  Policy p = one_rule(R"({"timePeriod": {"timeZone": "America/New_York", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                                          "from": "08:00", "to": "17:00"}})");
  Call call;
  auto at = [&](system_clock::time_point t) {
    call.facts.now = t;
    return fires(p, call.facts);
  };
  // Friday 2026-03-06, EST (UTC-5).
  BOOST_TEST(at(utc(2026, 3, 6, 13, 0)));    // 08:00, the first minute
  BOOST_TEST(!at(utc(2026, 3, 6, 12, 59)));  // 07:59
  BOOST_TEST(at(utc(2026, 3, 6, 21, 59)));   // 16:59
  BOOST_TEST(!at(utc(2026, 3, 6, 22, 0)));   // 17:00, the end is not inside
  // Monday 2026-03-09, after the switch to EDT on the 8th (UTC-4): the same UTC hour is an hour later.
  BOOST_TEST(at(utc(2026, 3, 9, 12, 0)));    // 08:00 EDT (07:00 in EST)
  BOOST_TEST(!at(utc(2026, 3, 9, 21, 0)));   // 17:00 EDT
  BOOST_TEST(at(utc(2026, 3, 9, 20, 59)));   // 16:59 EDT
  // Saturday.
  BOOST_TEST(!at(utc(2026, 3, 7, 15, 0)));
  // Back to EST on Sunday 2026-11-01: Monday 2026-11-02 08:00 is 13:00 UTC again.
  BOOST_TEST(!at(utc(2026, 11, 2, 12, 30)));
  BOOST_TEST(at(utc(2026, 11, 2, 13, 0)));

  // The same instant in another zone is another wall clock.
  Policy tokyo = one_rule(R"({"timePeriod": {"timeZone": "Asia/Tokyo", "from": "08:00", "to": "17:00"}})");
  call.facts.now = utc(2026, 3, 6, 13, 0);  // 22:00 in Tokyo
  BOOST_TEST(!fires(tokyo, call.facts));
  call.facts.now = utc(2026, 3, 6, 0, 0);  // 09:00 in Tokyo
  BOOST_TEST(fires(tokyo, call.facts));
}

BOOST_AUTO_TEST_CASE(time_period_crossing_midnight_belongs_to_the_day_it_starts) {
  // The file's timeZone applies where a timePeriod names none.
  Policy p = one_rule(R"({"timePeriod": {"days": ["Fri"], "from": "22:00", "to": "06:00"}})",
                      R"("timeZone": "America/New_York",)");
  Call call;
  auto at = [&](system_clock::time_point t) {
    call.facts.now = t;
    return fires(p, call.facts);
  };
  BOOST_TEST(at(utc(2026, 3, 7, 3, 0)));    // Friday 22:00 EST
  BOOST_TEST(at(utc(2026, 3, 7, 4, 30)));   // Friday 23:30
  BOOST_TEST(at(utc(2026, 3, 7, 8, 0)));    // Saturday 03:00: the Friday night shift
  BOOST_TEST(at(utc(2026, 3, 7, 10, 59)));  // Saturday 05:59
  BOOST_TEST(!at(utc(2026, 3, 7, 11, 0)));  // Saturday 06:00
  BOOST_TEST(!at(utc(2026, 3, 6, 8, 0)));   // Friday 03:00 belongs to Thursday's night
  BOOST_TEST(!at(utc(2026, 3, 8, 3, 30)));  // Saturday 22:30

  // from == to: 24 hours from that time.
  Policy day = one_rule(R"({"timePeriod": {"timeZone": "UTC", "days": ["Mon"], "from": "12:00", "to": "12:00"}})");
  call.facts.now = utc(2026, 3, 10, 11, 59);  // Tuesday 11:59
  BOOST_TEST(fires(day, call.facts));
  call.facts.now = utc(2026, 3, 10, 12, 0);
  BOOST_TEST(!fires(day, call.facts));
}

BOOST_AUTO_TEST_CASE(time_period_date_ranges) {
  Policy p = one_rule(R"({"timePeriod": {"timeZone": "America/Chicago",
                          "dates": [{"from": "2026-12-24", "to": "2026-12-26"}, {"from": "2027-01-01", "to": "2027-01-01"}]}})");
  Call call;
  auto at = [&](system_clock::time_point t) {
    call.facts.now = t;
    return fires(p, call.facts);
  };
  BOOST_TEST(at(utc(2026, 12, 24, 6, 0)));    // 00:00 CST
  BOOST_TEST(!at(utc(2026, 12, 24, 5, 59)));  // still the 23rd in Chicago
  BOOST_TEST(at(utc(2026, 12, 27, 5, 0)));    // the 26th, 23:00 CST
  BOOST_TEST(!at(utc(2026, 12, 27, 6, 0)));
  BOOST_TEST(at(utc(2027, 1, 1, 18, 0)));
  BOOST_TEST(!at(utc(2027, 1, 2, 18, 0)));
}

BOOST_AUTO_TEST_CASE(holiday_calendar_in_its_time_zone) {
  std::string calendars = R"("holidayCalendars": {"us": {"timeZone": "America/New_York",
                                                          "dates": ["2026-07-03", "12-25"]}},)";
  Policy holiday = one_rule(R"({"holiday": {"calendar": "us"}})", calendars);
  Policy workday = one_rule(R"({"holiday": {"calendar": "us", "isHoliday": false}})", calendars);
  Call call;
  auto at = [&](system_clock::time_point t) {
    call.facts.now = t;
    bool h = fires(holiday, call.facts), w = fires(workday, call.facts);
    BOOST_TEST(h != w);
    return h;
  };
  BOOST_TEST(at(utc(2026, 7, 3, 12, 0)));
  BOOST_TEST(at(utc(2026, 7, 4, 3, 59)));    // 23:59 EDT on the 3rd
  BOOST_TEST(!at(utc(2026, 7, 4, 4, 0)));    // the 4th has begun in New York
  BOOST_TEST(!at(utc(2027, 7, 3, 12, 0)));   // a one-off date
  BOOST_TEST(at(utc(2026, 12, 25, 15, 0)));  // every year
  BOOST_TEST(at(utc(2031, 12, 25, 15, 0)));
  BOOST_TEST(!at(utc(2031, 12, 26, 15, 0)));
}

BOOST_AUTO_TEST_CASE(queue_state_of_a_named_queue_and_unknown_states) {
  Call call;
  Queues q;
  const std::string b = "sip:psap-b@127.0.0.1:5072";
  Policy p = one_rule(R"({"queueState": {"queue": "sip:psap-b@127.0.0.1:5072", "states": ["full", "UNREACHABLE"]}})");
  BOOST_TEST(!fires(p, call.facts, q.lookup()));  // unknown: not matching by default
  BOOST_TEST(q.asked == std::vector<std::string>{b}, boost::test_tools::per_element());
  BOOST_TEST(!fires(p, call.facts, {}));          // no lookup at all: unknown
  q.states[b] = QueueStatus::full;
  BOOST_TEST(fires(p, call.facts, q.lookup()));
  q.states[b] = QueueStatus::unreachable;
  BOOST_TEST(fires(p, call.facts, q.lookup()));
  q.states[b] = QueueStatus::active;
  BOOST_TEST(!fires(p, call.facts, q.lookup()));
  q.states[b] = QueueStatus::resource_exhausted;
  BOOST_TEST(!fires(p, call.facts, q.lookup()));

  Policy unknown_down = one_rule(
      R"({"queueState": {"queue": "sip:psap-b@127.0.0.1:5072", "states": ["Unreachable"], "unknownAs": "Unreachable"}})");
  Queues none;
  BOOST_TEST(fires(unknown_down, call.facts, none.lookup()));
  Policy unknown_active = one_rule(
      R"({"queueState": {"queue": "sip:psap-b@127.0.0.1:5072", "states": ["Unreachable"], "unknownAs": "Active"}})");
  BOOST_TEST(!fires(unknown_active, call.facts, none.lookup()));
}

BOOST_AUTO_TEST_CASE(queue_state_of_the_rule_sets_own_queue) {
  Policy p = parse_policy(R"({"ruleSets": [
    {"id": "a", "queue": "sip:psap-a@127.0.0.1:5071;transport=udp",
     "rules": [{"id": "overflow", "priority": 1,
                "conditions": [{"queueState": {"queue": "$queue", "states": ["Full", "Disabled"]}}],
                "actions": [{"route": {"target": "sip:psap-b@127.0.0.1:5072"}}]},
               {"id": "standby", "priority": 0,
                "conditions": [{"queueState": {"states": ["Standby"]}}],
                "actions": [{"route": {"target": "sip:psap-c@127.0.0.1:5073"}}]}]}]})");
  Call call;
  Queues q;
  // Asked with the queue URI as the file wrote it (what queues() returns), however the ESRP names it.
  const std::string a = "sip:psap-a@127.0.0.1:5071;transport=udp";
  BOOST_TEST(p.queues().front() == a);
  q.states[a] = QueueStatus::disabled;
  Decision d = p.evaluate_queue("sip:psap-a@127.0.0.1:5071", call.facts, q.lookup());
  BOOST_TEST_REQUIRE(d.routes.size() == 1u);
  BOOST_TEST(d.routes[0].target == "sip:psap-b@127.0.0.1:5072");
  BOOST_TEST(q.asked.front() == a);
  q.states[a] = QueueStatus::standby;  // queue omitted: "$queue"
  d = p.evaluate_queue(a, call.facts, q.lookup());
  BOOST_TEST_REQUIRE(d.routes.size() == 1u);
  BOOST_TEST(d.routes[0].target == "sip:psap-c@127.0.0.1:5073");
  q.states[a] = QueueStatus::active;
  BOOST_TEST(p.evaluate_queue(a, call.facts, q.lookup()).matched.empty());
}

BOOST_AUTO_TEST_CASE(header_equals_contains_regex_present) {
  Call call;
  call.with_header("priority", "emergency").with_header("user-agent", "Acme Phone 2.1").with_header("x-a", "one")
      .with_header("x-a", " two ");
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "Priority", "equals": "emergency"}})"), call.facts));
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "Priority", "equals": "Emergency"}})"), call.facts));
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "Priority", "equals": "EMERGENCY", "ignoreCase": true}})"), call.facts));
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "x-a", "equals": "two"}})"), call.facts));  // any value, trimmed
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "User-Agent", "contains": "Phone 2"}})"), call.facts));
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "User-Agent", "contains": "phone 2"}})"), call.facts));
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "User-Agent", "contains": "phone 2", "ignoreCase": true}})"), call.facts));
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "User-Agent", "regex": "^Acme Phone [0-9]+\\.[0-9]+$"}})"), call.facts));
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "User-Agent", "regex": "^acme"}})"), call.facts));
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "User-Agent", "regex": "^acme", "ignoreCase": true}})"), call.facts));
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "X-A", "present": true}})"), call.facts));
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "X-B", "present": true}})"), call.facts));
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "X-B", "present": false}})"), call.facts));
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "X-A", "present": false}})"), call.facts));
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "X-B", "equals": ""}})"), call.facts));  // no value at all
  // A value too long for std::regex's recursion is not tested by a regex (and does not crash the ESRP).
  call.with_header("x-long", std::string(100000, 'a'));
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "X-Long", "regex": "(a|b)*c"}})"), call.facts));
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "X-Long", "regex": "a"}})"), call.facts));
  BOOST_TEST(fires(one_rule(R"({"header": {"name": "X-Long", "contains": "aaaa"}})"), call.facts));
  call.facts.header = nullptr;  // a caller that gives no headers
  BOOST_TEST(!fires(one_rule(R"({"header": {"name": "Priority", "present": true}})"), call.facts));
}

BOOST_AUTO_TEST_CASE(location_in_an_area) {
  std::string areas = R"("areas": {
    "square": {"type": "Polygon", "coordinates": [[[-97.8, 30.2], [-97.8, 30.3], [-97.7, 30.3], [-97.7, 30.2], [-97.8, 30.2]]]},
    "two": {"type": "MultiPolygon", "coordinates": [
      [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
      [[[10, 10], [14, 10], [14, 14], [10, 14], [10, 10]], [[11, 11], [11, 13], [13, 13], [13, 11], [11, 11]]]]}},)";
  Policy square = one_rule(R"({"locationIn": {"area": "square"}})", areas);
  Policy two = one_rule(R"({"locationIn": {"area": "two"}})", areas);
  Call call;
  auto at = [&](const Policy& p, double lat, double lon) {
    call.facts.location = std::pair{lat, lon};
    return fires(p, call.facts);
  };
  BOOST_TEST(at(square, 30.25, -97.75));
  BOOST_TEST(!at(square, -97.75, 30.25));  // (latitude, longitude), not GeoJSON's order
  BOOST_TEST(!at(square, 30.35, -97.75));
  BOOST_TEST(at(square, 30.2, -97.75));    // on the boundary
  BOOST_TEST(at(two, 0.5, 0.5));
  BOOST_TEST(at(two, 10.5, 10.5));
  BOOST_TEST(!at(two, 12, 12));            // in the hole
  BOOST_TEST(!at(two, 5, 5));
  call.facts.location.reset();
  BOOST_TEST(!fires(square, call.facts));  // no location: not inside
}

BOOST_AUTO_TEST_CASE(source_addresses_v4_v6_and_from_domains) {
  Call call;
  auto from = [&](const Policy& p, const std::string& address, const std::string& domain = "carrier.example") {
    call.facts.source = boost::asio::ip::make_address(address);
    call.facts.from_domain = domain;
    return fires(p, call.facts);
  };
  Policy v4 = one_rule(R"({"source": {"addresses": ["10.1.0.0/16", "192.0.2.10"]}})");
  BOOST_TEST(from(v4, "10.1.255.3"));
  BOOST_TEST(!from(v4, "10.2.0.1"));
  BOOST_TEST(from(v4, "192.0.2.10"));
  BOOST_TEST(!from(v4, "192.0.2.11"));
  BOOST_TEST(from(v4, "::ffff:10.1.2.3"));  // an IPv4 peer on a dual-stack socket
  BOOST_TEST(!from(v4, "2001:db8::1"));
  Policy v6 = one_rule(R"({"source": {"addresses": ["2001:db8:aa::/48", "::1/128"]}})");
  BOOST_TEST(from(v6, "2001:db8:aa:ffff::1"));
  BOOST_TEST(!from(v6, "2001:db8:ab::1"));
  BOOST_TEST(from(v6, "::1"));
  BOOST_TEST(!from(v6, "127.0.0.1"));
  Policy all = one_rule(R"({"source": {"addresses": ["0.0.0.0/0"]}})");
  BOOST_TEST(from(all, "203.0.113.1"));
  Policy domains = one_rule(R"({"source": {"fromDomains": ["Carrier.Example", "*.partner.example"]}})");
  BOOST_TEST(from(domains, "192.0.2.1", "carrier.example"));
  BOOST_TEST(from(domains, "192.0.2.1", "sbc.partner.example"));
  BOOST_TEST(!from(domains, "192.0.2.1", "partner.example"));  // *. is for subdomains only
  BOOST_TEST(!from(domains, "192.0.2.1", "evilpartner.example"));
  BOOST_TEST(!from(domains, "192.0.2.1", ""));
  Policy both = one_rule(R"({"source": {"addresses": ["192.0.2.0/24"], "fromDomains": ["carrier.example"]}})");
  BOOST_TEST(from(both, "192.0.2.1", "carrier.example"));
  BOOST_TEST(!from(both, "198.51.100.1", "carrier.example"));
  BOOST_TEST(!from(both, "192.0.2.1", "other.example"));
}

BOOST_AUTO_TEST_CASE(service_urns_and_sub_services) {
  Call call;
  auto asks = [&](const Policy& p, const std::string& service) {
    call.facts.service = service;
    return fires(p, call.facts);
  };
  Policy sos = one_rule(R"({"service": {"urns": ["urn:service:sos"]}})");
  BOOST_TEST(asks(sos, "urn:service:sos"));
  BOOST_TEST(asks(sos, "urn:service:sos.police"));
  BOOST_TEST(asks(sos, "URN:Service:SOS.fire"));
  BOOST_TEST(!asks(sos, "urn:service:sosx"));
  BOOST_TEST(!asks(sos, "urn:service:counseling"));
  Policy police = one_rule(R"({"service": {"urns": ["urn:service:sos.police", "urn:service:sos.ambulance"]}})");
  BOOST_TEST(asks(police, "urn:service:sos.police"));
  BOOST_TEST(asks(police, "urn:service:sos.ambulance"));
  BOOST_TEST(!asks(police, "urn:service:sos"));
  BOOST_TEST(!asks(police, "urn:service:sos.fire"));
}

BOOST_AUTO_TEST_CASE(method_not_and_any_of) {
  Call call;
  Policy message = one_rule(R"({"method": {"methods": ["MESSAGE"]}})");
  BOOST_TEST(!fires(message, call.facts));
  call.facts.method = "MESSAGE";
  BOOST_TEST(fires(message, call.facts));
  Policy not_message = one_rule(R"({"not": {"method": {"methods": ["MESSAGE"]}}})");
  BOOST_TEST(!fires(not_message, call.facts));
  call.facts.method = "INVITE";
  BOOST_TEST(fires(not_message, call.facts));
  Policy either = one_rule(R"({"anyOf": [{"method": {"methods": ["MESSAGE"]}},
                                         {"service": {"urns": ["urn:service:sos.fire"]}}]})");
  BOOST_TEST(!fires(either, call.facts));
  call.facts.service = "urn:service:sos.fire";
  BOOST_TEST(fires(either, call.facts));
  // Every condition of a rule must hold.
  Policy both = one_rule(R"({"method": {"methods": ["INVITE"]}}, {"service": {"urns": ["urn:service:sos.police"]}})");
  BOOST_TEST(!fires(both, call.facts));
  call.facts.service = "urn:service:sos.police";
  BOOST_TEST(fires(both, call.facts));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(policy_validation)

BOOST_AUTO_TEST_CASE(json_syntax_with_line_and_column) {
  auto problems = problems_of("{\n  \"ruleSets\": [\n    {\"id\": \"o\",, }\n  ]\n}\n");
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(problems[0].starts_with("line 3, column "), problems[0]);
  BOOST_TEST(problems_of("").size() == 1u);
  BOOST_TEST(problems_of(R"({"ruleSets": []} trailing)").size() == 1u);
}

BOOST_AUTO_TEST_CASE(types_missing_and_unknown_keys) {
  CHECK_REPORTED(R"([])", "(root)", "expected an object, found an array");
  CHECK_REPORTED(R"({})", "ruleSets", "missing (required)");
  CHECK_REPORTED(R"({"ruleSets": {}})", "ruleSets", "expected an array, found an object");
  CHECK_REPORTED(R"({"ruleSet": [], "ruleSets": []})", "ruleSet", "unknown key");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [{"id": "r", "priority": "high", )" +
                     kRoute + "}]}]}",
                 "ruleSets[0].rules[0].priority", "expected an integer, found a string");
  CHECK_REPORTED(rule_doc(R"("actons": [], )" + kRoute), "ruleSets[0].rules[0].actons", "unknown key");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [{"id": "r", )" + kRoute + "}]}]}",
                 "ruleSets[0].rules[0].priority", "missing (required)");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [{"id": "r", "priority": -1, )" + kRoute +
                     "}]}]}",
                 "ruleSets[0].rules[0].priority", "out of range");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [{"id": "r", "priority": 1.5, )" + kRoute +
                     "}]}]}",
                 "ruleSets[0].rules[0].priority", "expected an integer, found a number");
  CHECK_REPORTED(R"({"ruleSets": [{"id": 7, "match": "default", "rules": []}]})", "ruleSets[0].id",
                 "expected a string, found an integer");
  CHECK_REPORTED(condition_doc(R"({"header": {"name": "X", "present": "yes"}})"),
                 "ruleSets[0].rules[0].conditions[0].header.present", "expected true or false");
  CHECK_REPORTED(condition_doc(R"({"queueState": {"queue": "sip:q@127.0.0.1", "states": ["Full"], "extra": 1}})"),
                 "ruleSets[0].rules[0].conditions[0].queueState.extra", "unknown key");
}

BOOST_AUTO_TEST_CASE(duplicate_json_keys) {
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [
    {"id": "r", "priority": 1, "priority": 2, "actions": [{"busy": {}}]}]}]})",
                 "ruleSets[0].rules[0].priority", "duplicate key");
  CHECK_REPORTED(R"({"version": "a", "version": "b", "ruleSets": []})", "version", "duplicate key");
}

BOOST_AUTO_TEST_CASE(duplicate_ids_and_queues) {
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [
    {"id": "r", "priority": 1, "actions": [{"busy": {}}]},
    {"id": "r", "priority": 2, "actions": [{"busy": {}}]}]}]})",
                 "ruleSets[0].rules[1].id", "duplicate rule id \"r\"");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "rules": []},
                                   {"id": "o", "queue": "sip:q@127.0.0.1", "rules": []}]})",
                 "ruleSets[1].id", "duplicate rule set id \"o\"");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "a", "queue": "sip:q@127.0.0.1:5071", "rules": []},
                                   {"id": "b", "queue": "sip:q@127.0.0.1:5071;transport=tcp", "rules": []}]})",
                 "ruleSets[1].queue", "already has a rule set (ruleSets[0])");
  // The same rule id in two rule sets is fine.
  BOOST_TEST(problems_of(R"({"ruleSets": [
    {"id": "a", "queue": "sip:a@127.0.0.1", "rules": [{"id": "r", "priority": 1, "actions": [{"busy": {}}]}]},
    {"id": "b", "queue": "sip:b@127.0.0.1", "rules": [{"id": "r", "priority": 1, "actions": [{"busy": {}}]}]}]})")
                 .empty());
}

BOOST_AUTO_TEST_CASE(rule_set_kinds) {
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "queue": "sip:q@127.0.0.1", "rules": []}]})",
                 "ruleSets[0]", "both match and queue");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "rules": []}]})", "ruleSets[0]", "needs match");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "everything", "rules": []}]})", "ruleSets[0].match",
                 "expected \"default\"");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": {}, "rules": []}]})", "ruleSets[0].match",
                 "needs addresses and/or fromDomains");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "d", "match": "default", "rules": []},
                                   {"id": "c", "match": {"addresses": ["10.0.0.0/8"]}, "rules": []}]})",
                 "ruleSets[1].match", "never used: ruleSets[0]");
}

BOOST_AUTO_TEST_CASE(bad_uris) {
  CHECK_REPORTED(rule_doc(R"("actions": [{"route": {"target": "http://psap.example/"}}])"),
                 "ruleSets[0].rules[0].actions[0].route.target", "expected a sip: or sips: URI");
  CHECK_REPORTED(rule_doc(R"("actions": [{"route": {"target": "sip:psap@"}}])"),
                 "ruleSets[0].rules[0].actions[0].route.target", "sip:psap@");
  CHECK_REPORTED(rule_doc(R"("actions": [{"route": {"target": "psap-a"}}])"),
                 "ruleSets[0].rules[0].actions[0].route.target", "not a SIP URI");
  CHECK_REPORTED(rule_doc(R"("actions": [{"notify": {"target": "mailto:boss@example.net", "message": "m"}}])"),
                 "ruleSets[0].rules[0].actions[0].notify.target", "expected a sip: or sips: URI");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "q", "queue": "tel:+15551234567", "rules": []}]})", "ruleSets[0].queue",
                 "expected a sip: or sips: URI");
  CHECK_REPORTED(condition_doc(R"({"queueState": {"queue": "psap-b", "states": ["Full"]}})"),
                 "ruleSets[0].rules[0].conditions[0].queueState.queue", "not a SIP URI");
  CHECK_REPORTED(condition_doc(R"({"service": {"urns": ["sos"]}})"),
                 "ruleSets[0].rules[0].conditions[0].service.urns[0]", "expected a service URN");
}

BOOST_AUTO_TEST_CASE(bad_times_dates_and_days) {
  // The path from the design's example: the third condition of the first rule of the second rule set.
  std::string text = R"({"ruleSets": [{"id": "o", "match": "default", "rules": []},
    {"id": "q", "queue": "sip:q@127.0.0.1", "rules": [{"id": "r", "priority": 1,
      "conditions": [{"method": {"methods": ["INVITE"]}}, {"method": {"methods": ["MESSAGE"]}},
                     {"timePeriod": {"timeZone": "UTC", "from": "8:00", "to": "17:00"}}],
      "actions": [{"busy": {}}]}]}]})";
  CHECK_REPORTED(text, "ruleSets[1].rules[0].conditions[2].timePeriod.from", "expected HH:MM");
  CHECK_REPORTED(condition_doc(R"({"timePeriod": {"timeZone": "UTC", "from": "08:00", "to": "24:00"}})"),
                 "ruleSets[0].rules[0].conditions[0].timePeriod.to", "expected HH:MM");
  CHECK_REPORTED(condition_doc(R"({"timePeriod": {"timeZone": "UTC", "from": "08:00"}})"),
                 "ruleSets[0].rules[0].conditions[0].timePeriod", "needs both from and to");
  CHECK_REPORTED(condition_doc(R"({"timePeriod": {"timeZone": "UTC"}})"),
                 "ruleSets[0].rules[0].conditions[0].timePeriod", "needs days, from/to or dates");
  CHECK_REPORTED(condition_doc(R"({"timePeriod": {"timeZone": "UTC", "days": ["Mon", "Funday"]}})"),
                 "ruleSets[0].rules[0].conditions[0].timePeriod.days[1]", "expected a day");
  CHECK_REPORTED(condition_doc(R"({"timePeriod": {"timeZone": "UTC", "dates": [{"from": "2026-02-30", "to": "2026-03-01"}]}})"),
                 "ruleSets[0].rules[0].conditions[0].timePeriod.dates[0].from", "expected YYYY-MM-DD");
  CHECK_REPORTED(condition_doc(R"({"timePeriod": {"timeZone": "UTC", "dates": [{"from": "2026-03-02", "to": "2026-03-01"}]}})"),
                 "ruleSets[0].rules[0].conditions[0].timePeriod.dates[0]", "to is before from");
  CHECK_REPORTED(R"({"holidayCalendars": {"us": {"timeZone": "UTC", "dates": ["12-32"]}}, "ruleSets": []})",
                 "holidayCalendars.us.dates[0]", "expected YYYY-MM-DD (one day) or MM-DD (every year)");
  BOOST_TEST(problems_of(R"({"holidayCalendars": {"leap": {"timeZone": "UTC", "dates": ["02-29", "2028-02-29"]}}, "ruleSets": []})")
                 .empty());
}

BOOST_AUTO_TEST_CASE(unknown_time_zones) {
  CHECK_REPORTED(condition_doc(R"({"timePeriod": {"timeZone": "America/Atlantis", "days": ["Mon"]}})"),
                 "ruleSets[0].rules[0].conditions[0].timePeriod.timeZone", "unknown time zone \"America/Atlantis\"");
  CHECK_REPORTED(R"({"timeZone": "EST-ish", "ruleSets": []})", "timeZone", "unknown time zone");
  CHECK_REPORTED(condition_doc(R"({"timePeriod": {"days": ["Mon"]}})"),
                 "ruleSets[0].rules[0].conditions[0].timePeriod.timeZone", "missing (required when the file has no timeZone)");
  CHECK_REPORTED(R"({"holidayCalendars": {"us": {"dates": ["12-25"]}}, "ruleSets": []})",
                 "holidayCalendars.us.timeZone", "missing");
}

BOOST_AUTO_TEST_CASE(unknown_areas_and_holiday_calendars) {
  CHECK_REPORTED(condition_doc(R"({"locationIn": {"area": "atlantis"}})"),
                 "ruleSets[0].rules[0].conditions[0].locationIn.area", "unknown area \"atlantis\"");
  CHECK_REPORTED(condition_doc(R"({"holiday": {"calendar": "mars"}})"),
                 "ruleSets[0].rules[0].conditions[0].holiday.calendar", "unknown holiday calendar \"mars\"");
}

BOOST_AUTO_TEST_CASE(invalid_polygons) {
  auto area = [](const std::string& geometry) { return R"({"areas": {"a": )" + geometry + R"(}, "ruleSets": []})"; };
  CHECK_REPORTED(area(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]})"), "areas.a",
                 "invalid polygon");  // a bow tie crosses itself
  CHECK_REPORTED(area(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.5]]]})"),
                 "areas.a.coordinates[0]", "not closed");
  CHECK_REPORTED(area(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]})"), "areas.a.coordinates[0]",
                 "at least 4 positions");
  CHECK_REPORTED(area(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]})"),
                 "areas.a.coordinates[0][2]", "out of range");
  CHECK_REPORTED(area(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], "x", [0, 0]]]})"),
                 "areas.a.coordinates[0][2]", "expected a position");
  CHECK_REPORTED(area(R"({"type": "Point", "coordinates": [0, 0]})"), "areas.a.type", "expected \"Polygon\" or \"MultiPolygon\"");
  CHECK_REPORTED(area(R"({"type": "MultiPolygon", "coordinates": [
                   [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]], [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]]})"),
                 "areas.a", "invalid polygon");  // overlapping parts
  CHECK_REPORTED(area(R"({"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
                                                             [[3, 3], [6, 3], [6, 6], [3, 6], [3, 3]]]})"),
                 "areas.a", "invalid polygon");  // a hole outside its shell
  // A clockwise outer ring is taken (RFC 7946 asks readers not to refuse it).
  BOOST_TEST(problems_of(area(R"({"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]})")).empty());
}

BOOST_AUTO_TEST_CASE(regexes_that_do_not_compile) {
  CHECK_REPORTED(condition_doc(R"({"header": {"name": "User-Agent", "regex": "Acme (Phone"}})"),
                 "ruleSets[0].rules[0].conditions[0].header.regex", "does not compile");
  CHECK_REPORTED(condition_doc(R"({"header": {"name": "User-Agent"}})"),
                 "ruleSets[0].rules[0].conditions[0].header", "needs one of equals, contains, regex, present");
  CHECK_REPORTED(condition_doc(R"({"header": {"name": "User-Agent", "equals": "a", "regex": "a"}})"),
                 "ruleSets[0].rules[0].conditions[0].header", "only one of");
  CHECK_REPORTED(condition_doc(R"({"header": {"name": "User Agent", "present": true}})"),
                 "ruleSets[0].rules[0].conditions[0].header.name", "not a SIP header name");
}

BOOST_AUTO_TEST_CASE(empty_and_conflicting_actions) {
  CHECK_REPORTED(rule_doc(R"("actions": [])"), "ruleSets[0].rules[0].actions", "empty: a rule needs at least one action");
  CHECK_REPORTED(R"({"ruleSets": [{"id": "o", "match": "default", "rules": [{"id": "r", "priority": 1}]}]})",
                 "ruleSets[0].rules[0].actions", "missing (required)");
  CHECK_REPORTED(rule_doc(R"("actions": [{"busy": {}}, {"route": {"target": "sip:q@127.0.0.1"}}])"),
                 "ruleSets[0].rules[0].actions", "both route and busy");
  CHECK_REPORTED(rule_doc(R"("actions": [{"route": {"target": "sip:q@127.0.0.1"}, "log": {"message": "m"}}])"),
                 "ruleSets[0].rules[0].actions[0]", "expected one action per object");
  CHECK_REPORTED(rule_doc(R"("actions": [{"reject": {}}])"), "ruleSets[0].rules[0].actions[0].reject", "unknown action");
  CHECK_REPORTED(rule_doc(R"("actions": [{"log": {"message": ""}}])"), "ruleSets[0].rules[0].actions[0].log.message", "empty");
  CHECK_REPORTED(rule_doc(R"("actions": [{"busy": {"code": 486}}])"), "ruleSets[0].rules[0].actions[0].busy.code",
                 "unknown key");
  CHECK_REPORTED(rule_doc(R"("actions": [{"route": {"target": "sip:q@127.0.0.1", "ringTimeoutMs": 0}}])"),
                 "ruleSets[0].rules[0].actions[0].route.ringTimeoutMs", "out of range");
  CHECK_REPORTED(rule_doc(R"("actions": [{"route": {"target": "sip:q@127.0.0.1", "resourcePriority": "esnet.9"}}])"),
                 "ruleSets[0].rules[0].actions[0].route.resourcePriority", "expected esnet.0 to esnet.4");
}

BOOST_AUTO_TEST_CASE(bad_conditions) {
  CHECK_REPORTED(condition_doc(R"({"weather": {"rain": true}})"), "ruleSets[0].rules[0].conditions[0].weather",
                 "unknown condition");
  CHECK_REPORTED(condition_doc(R"({"method": {"methods": ["INVITE"]}, "service": {"urns": ["urn:service:sos"]}})"),
                 "ruleSets[0].rules[0].conditions[0]", "one condition per object");
  CHECK_REPORTED(condition_doc(R"({"queueState": {"queue": "sip:q@127.0.0.1", "states": ["Busy"]}})"),
                 "ruleSets[0].rules[0].conditions[0].queueState.states[0]", "unknown queue state \"Busy\"");
  CHECK_REPORTED(condition_doc(R"({"queueState": {"queue": "sip:q@127.0.0.1", "states": []}})"),
                 "ruleSets[0].rules[0].conditions[0].queueState.states", "empty");
  CHECK_REPORTED(condition_doc(R"({"queueState": {"queue": "$queue", "states": ["Full"]}})"),
                 "ruleSets[0].rules[0].conditions[0].queueState.queue", "only for a queue rule set");
  CHECK_REPORTED(condition_doc(R"({"queueState": {"states": ["Full"]}})"),
                 "ruleSets[0].rules[0].conditions[0].queueState.queue", "missing (required)");
  CHECK_REPORTED(condition_doc(R"({"not": {"anyOf": [{"method": {"methods": ["IN VITE"]}}]}})"),
                 "ruleSets[0].rules[0].conditions[0].not.anyOf[0].method.methods[0]", "not a SIP method");
  CHECK_REPORTED(condition_doc(R"({"anyOf": []})"), "ruleSets[0].rules[0].conditions[0].anyOf", "non-empty array");
}

BOOST_AUTO_TEST_CASE(bad_addresses) {
  CHECK_REPORTED(condition_doc(R"({"source": {"addresses": ["10.0.0.1/8"]}})"),
                 "ruleSets[0].rules[0].conditions[0].source.addresses[0]", "host bits set (the network is 10.0.0.0/8)");
  CHECK_REPORTED(condition_doc(R"({"source": {"addresses": ["10.0.0.0/33"]}})"),
                 "ruleSets[0].rules[0].conditions[0].source.addresses[0]", "bad prefix length");
  CHECK_REPORTED(condition_doc(R"({"source": {"addresses": ["10.0.0.0/"]}})"),
                 "ruleSets[0].rules[0].conditions[0].source.addresses[0]", "bad prefix length");
  CHECK_REPORTED(condition_doc(R"({"source": {"addresses": ["carrier.example"]}})"),
                 "ruleSets[0].rules[0].conditions[0].source.addresses[0]", "expected an IPv4 or IPv6 address");
  CHECK_REPORTED(condition_doc(R"({"source": {"addresses": ["2001:db8::1/32"]}})"),
                 "ruleSets[0].rules[0].conditions[0].source.addresses[0]", "host bits set");
  CHECK_REPORTED(condition_doc(R"({"source": {"fromDomains": ["user@carrier.example"]}})"),
                 "ruleSets[0].rules[0].conditions[0].source.fromDomains[0]", "expected a domain");
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  // invalid.json: a bad time, an unknown area and a bad URI, in one rule.
  try {
    load_policy(kData + "invalid.json");
    BOOST_FAIL("invalid.json loaded");
  } catch (const PolicyError& e) {
    BOOST_TEST(e.problems.size() == 3u, show(e.problems));
    BOOST_TEST(reported(e.problems, "ruleSets[0].rules[0].conditions[0].timePeriod.from", "expected HH:MM"));
    BOOST_TEST(reported(e.problems, "ruleSets[0].rules[0].conditions[1].locationIn.area", "unknown area"));
    BOOST_TEST(reported(e.problems, "ruleSets[0].rules[0].actions[0].route.target", "expected a sip:"));
    std::string what = e.what();
    BOOST_TEST(what.find("invalid.json") != std::string::npos);
    BOOST_TEST(what.find("unknown area") != std::string::npos);
  }
  try {
    load_policy(kData + "no-such-file.json");
    BOOST_FAIL("a missing file loaded");
  } catch (const PolicyError& e) {
    BOOST_TEST_REQUIRE(e.problems.size() == 1u);
    BOOST_TEST(e.problems[0].starts_with("cannot read"), e.problems[0]);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(policy_store)

BOOST_AUTO_TEST_CASE(reload_swaps_a_good_file_and_refuses_a_bad_one) {
  TempDir dir;
  auto file = dir.path / "policy.json";
  dir.write("policy.json", ng911::test::read_file(kData + "store-v1.json"));
  PolicyStore store(file);
  auto v1 = store.current();
  BOOST_TEST(v1->version() == "v1");
  BOOST_TEST(!store.changed_on_disk());

  Call call;
  Queues q;
  q.states["sip:psap-a@127.0.0.1:5071"] = QueueStatus::unreachable;
  BOOST_TEST(v1->evaluate_queue("sip:psap-a@127.0.0.1:5071", call.facts, q.lookup()).routes.empty());

  dir.write("policy.json", ng911::test::read_file(kData + "store-v2.json"));
  BOOST_TEST(store.changed_on_disk());
  BOOST_TEST(store.reload().empty());
  BOOST_TEST(!store.changed_on_disk());
  auto v2 = store.current();
  BOOST_TEST(v2->version() == "v2");
  Decision d = v2->evaluate_queue("sip:psap-a@127.0.0.1:5071", call.facts, q.lookup());
  BOOST_TEST_REQUIRE(d.routes.size() == 1u);
  BOOST_TEST(d.routes[0].target == "sip:psap-c@127.0.0.1:5073");
  BOOST_TEST(v1->version() == "v1");  // a call still holding the old policy keeps it whole

  dir.write("policy.json", ng911::test::read_file(kData + "invalid.json"));
  BOOST_TEST(store.changed_on_disk());
  auto problems = store.reload();
  BOOST_TEST(problems.size() == 3u, show(problems));
  BOOST_TEST(store.current() == v2);
  BOOST_TEST(!store.changed_on_disk());  // not retried until it changes again

  std::filesystem::remove(file);
  BOOST_TEST(store.changed_on_disk());
  problems = store.reload();
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(problems[0].starts_with("cannot read"), problems[0]);
  BOOST_TEST(store.current() == v2);
  BOOST_TEST(!store.changed_on_disk());

  dir.write("policy.json", ng911::test::read_file(kData + "store-v1.json"));
  BOOST_TEST(store.changed_on_disk());
  BOOST_TEST(store.reload().empty());
  BOOST_TEST(store.current()->version() == "v1");
}

BOOST_AUTO_TEST_CASE(a_bad_first_file_is_an_error) {
  TempDir dir;
  dir.write("policy.json", ng911::test::read_file(kData + "invalid.json"));
  BOOST_CHECK_THROW(PolicyStore(dir.path / "policy.json"), PolicyError);
  BOOST_CHECK_THROW(PolicyStore(dir.path / "missing.json"), PolicyError);
}

BOOST_AUTO_TEST_CASE(the_sample_appliance_policy_loads_and_overflows) {
  Policy p = load_policy(NG911_SAMPLE_POLICY);
  const std::string a = "sip:psap-a@127.0.0.1:5071", b = "sip:psap-b@127.0.0.1:5072";
  std::vector<std::string> queues = p.queues();
  BOOST_TEST((std::find(queues.begin(), queues.end(), a) != queues.end()));
  BOOST_TEST((std::find(queues.begin(), queues.end(), b) != queues.end()));

  Call call;
  Queues q;
  q.states[a] = QueueStatus::active;
  q.states[b] = QueueStatus::active;
  BOOST_TEST(p.evaluate_queue(a, call.facts, q.lookup()).routes.empty());
  for (QueueStatus down : {QueueStatus::full, QueueStatus::unreachable, QueueStatus::disabled}) {
    q.states[a] = down;
    Decision d = p.evaluate_queue(a, call.facts, q.lookup());
    BOOST_TEST_REQUIRE(d.routes.size() == 1u);
    BOOST_TEST(d.routes[0].target == b);
    BOOST_TEST(d.routes[0].cause == "queue full");
    BOOST_TEST(d.notify.size() == 1u);
  }
  q.states[b] = QueueStatus::full;  // both down: no policy route, the ESRP's default and last resort follow
  BOOST_TEST(p.evaluate_queue(a, call.facts, q.lookup()).routes.empty());
  q.states[a] = QueueStatus::active;
  Decision back = p.evaluate_queue(b, call.facts, q.lookup());
  BOOST_TEST_REQUIRE(back.routes.size() == 1u);
  BOOST_TEST(back.routes[0].target == a);
}

BOOST_AUTO_TEST_SUITE_END()
