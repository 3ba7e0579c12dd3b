// ng911-calllog: a call's story from the ESRP's call log, for call-takers' supervisors and
// investigators. Exit codes: 0 found; 1 no such call; 2 bad usage or no database.
#include <algorithm>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "calllog/story.h"
#include "db/conninfo.h"

namespace po = boost::program_options;
using ng911::esrp::CallKey;
using ng911::esrp::LoggedEvent;

namespace {

constexpr int kOk = 0;
constexpr int kNotFound = 1;
constexpr int kUsage = 2;

constexpr const char* kUsageText =
    "usage: ng911-calllog COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  story (--call-id ID | --incident-id ID | --emergency-call-id ID) [--json]\n"
    "                      a call's events in time order: one line per event (time, kind,\n"
    "                      details), or one JSON object per line with --json; by incident id,\n"
    "                      every call of the incident. Exit 1 if there is no such call.\n"
    "  recent [--limit N] [--json]\n"
    "                      the latest calls, newest first: start time, Call-ID, incident id,\n"
    "                      outcome\n"
    "\n"
    "Every command takes --db CONNINFO; without it libpq's PG* variables and then the local\n"
    "cluster (127.0.0.1:55432, database ng911) are used. Exit codes: 0 done, 1 no such call,\n"
    "2 bad usage or no database.\n";

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// key=value for each detail field: strings bare unless they need quotes, the rest as JSON.
std::string details_text(const std::string& detail_json) {
  nlohmann::json detail = nlohmann::json::parse(detail_json, nullptr, false);
  if (!detail.is_object()) return detail_json;
  std::string out;
  for (const auto& [key, value] : detail.items()) {
    if (!out.empty()) out += "  ";
    out += key + "=";
    if (value.is_string()) {
      const auto& s = value.get_ref<const std::string&>();
      bool bare = !s.empty() && s.find_first_of(" \t\"\\\n\r") == std::string::npos;
      out += bare ? s : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  return out;
}

nlohmann::ordered_json optional_text(const std::string& s) { return s.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(s); }

void print_json(const LoggedEvent& e, std::ostream& out) {
  nlohmann::ordered_json line = {{"id", e.id},
                                 {"at", e.at},
                                 {"kind", e.kind},
                                 {"esrp_id", e.esrp_id},
                                 {"sip_call_id", optional_text(e.sip_call_id)},
                                 {"emergency_call_id", optional_text(e.emergency_call_id)},
                                 {"incident_id", optional_text(e.incident_id)},
                                 {"detail", nlohmann::ordered_json::parse(e.detail_json, nullptr, false)},
                                 {"event_uid", e.event_uid}};
  out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

// Each call under a heading of its identifiers, calls in the order they started.
void print_story(const std::vector<LoggedEvent>& events, std::ostream& out) {
  std::size_t kind_width = 0;
  std::set<std::string> esrps;
  std::vector<std::string> calls;
  for (const auto& e : events) {
    kind_width = std::max(kind_width, e.kind.size());
    esrps.insert(e.esrp_id);
    if (std::find(calls.begin(), calls.end(), e.sip_call_id) == calls.end()) calls.push_back(e.sip_call_id);
  }
  for (const auto& call : calls) {
    std::string emergency_call_id, incident_id;
    for (const auto& e : events) {
      if (e.sip_call_id != call) continue;
      if (emergency_call_id.empty()) emergency_call_id = e.emergency_call_id;
      if (incident_id.empty()) incident_id = e.incident_id;
    }
    out << "call " << (call.empty() ? "(no SIP Call-ID)" : call);
    if (!emergency_call_id.empty()) out << "  emergency call id " << emergency_call_id;
    if (!incident_id.empty()) out << "  incident " << incident_id;
    out << '\n';
    for (const auto& e : events) {
      if (e.sip_call_id != call) continue;
      std::string line = "  " + e.at + "  " + pad(e.kind, kind_width);
      // Which ESRP logged it matters only where several did.
      if (esrps.size() > 1) line += "  esrp=" + e.esrp_id;
      std::string details = details_text(e.detail_json);
      if (!details.empty()) line += "  " + details;
      out << line << '\n';
    }
  }
}

po::options_description common_options() {
  po::options_description o("options");
  o.add_options()("help,h", "this help")("db", po::value<std::string>(), "PostgreSQL connection string")(
      "json", "one JSON object per line");
  return o;
}

po::variables_map parse(const po::options_description& desc, const std::vector<std::string>& args) {
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

std::string conninfo_of(const po::variables_map& vm) {
  std::optional<std::string> explicit_db;
  if (vm.count("db")) explicit_db = vm["db"].as<std::string>();
  return ng911::db::resolve_conninfo(explicit_db);
}

int cmd_story(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc = common_options();
  desc.add_options()("call-id", po::value<std::string>(), "the SIP Call-ID")(
      "incident-id", po::value<std::string>(), "NENA incident id (urn:emergency:uid:incidentid:...): every call of it")(
      "emergency-call-id", po::value<std::string>(), "NENA emergency call id (urn:emergency:uid:callid:...)");
  auto vm = parse(desc, args);
  if (vm.count("help")) {
    out << "usage: ng911-calllog story (--call-id ID | --incident-id ID | --emergency-call-id ID) [options]\n" << desc;
    return kOk;
  }
  std::vector<std::pair<CallKey, std::string>> keys;
  if (vm.count("call-id")) keys.emplace_back(CallKey::sip_call_id, vm["call-id"].as<std::string>());
  if (vm.count("incident-id")) keys.emplace_back(CallKey::incident_id, vm["incident-id"].as<std::string>());
  if (vm.count("emergency-call-id"))
    keys.emplace_back(CallKey::emergency_call_id, vm["emergency-call-id"].as<std::string>());
  if (keys.size() != 1) throw po::error("name the call by exactly one of --call-id, --incident-id, --emergency-call-id");
  auto events = ng911::esrp::call_story(conninfo_of(vm), keys.front().first, keys.front().second);
  if (events.empty()) {
    err << "ng911-calllog: no call with that id in the log\n";
    return kNotFound;
  }
  if (vm.count("json")) {
    for (const auto& e : events) print_json(e, out);
  } else {
    print_story(events, out);
  }
  return kOk;
}

int cmd_recent(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc = common_options();
  desc.add_options()("limit", po::value<std::size_t>()->default_value(20), "how many calls");
  auto vm = parse(desc, args);
  if (vm.count("help")) {
    out << "usage: ng911-calllog recent [options]\n" << desc;
    return kOk;
  }
  std::size_t limit = vm["limit"].as<std::size_t>();
  if (limit == 0) throw po::error("--limit must be at least 1");
  auto calls = ng911::esrp::recent_calls(conninfo_of(vm), limit);
  if (calls.empty()) err << "ng911-calllog: no calls in the log\n";
  if (vm.count("json")) {
    for (const auto& c : calls) {
      nlohmann::ordered_json line = {{"started_at", c.started_at},
                                     {"sip_call_id", c.sip_call_id},
                                     {"emergency_call_id", optional_text(c.emergency_call_id)},
                                     {"incident_id", optional_text(c.incident_id)},
                                     {"outcome", c.outcome}};
      out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    return kOk;
  }
  std::size_t call_width = 0, incident_width = 0;
  for (const auto& c : calls) {
    call_width = std::max(call_width, c.sip_call_id.size());
    incident_width = std::max(incident_width, std::max<std::size_t>(c.incident_id.size(), 1));
  }
  for (const auto& c : calls)
    out << c.started_at << "  " << pad(c.sip_call_id, call_width) << "  "
        << pad(c.incident_id.empty() ? "-" : c.incident_id, incident_width) << "  " << c.outcome << '\n';
  return kOk;
}

int run(int argc, char** argv, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    (args.empty() ? err : out) << kUsageText;
    return args.empty() ? kUsage : kOk;
  }
  std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "story") return cmd_story(args, out, err);
    if (command == "recent") return cmd_recent(args, out, err);
    err << "ng911-calllog: unknown command '" << command << "'\n" << kUsageText;
    return kUsage;
  } catch (const po::error& e) {
    err << "ng911-calllog " << command << ": " << e.what() << "\n";
    return kUsage;
  } catch (const std::exception& e) {
    err << "ng911-calllog " << command << ": " << e.what() << "\n";
    return kUsage;
  }
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv, std::cout, std::cerr); }
