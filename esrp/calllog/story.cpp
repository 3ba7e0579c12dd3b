#include "calllog/story.h"

#include <stdexcept>

#include <pqxx/pqxx>

namespace ng911::esrp {
namespace {

constexpr const char* kEventColumns = R"SQL(
  id, event_uid, esrp_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
  coalesce(sip_call_id, ''), coalesce(emergency_call_id, ''), coalesce(incident_id, ''), kind, detail::text
)SQL";

std::string text(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

// The column is chosen from a closed set, never from the caller's text.
std::string story_sql(CallKey key) {
  std::string select = std::string("SELECT") + kEventColumns + "FROM esrp.call_event WHERE ";
  if (key == CallKey::sip_call_id) return select + "sip_call_id = $1 ORDER BY at, id";
  std::string column = key == CallKey::incident_id ? "incident_id" : "emergency_call_id";
  // A call's ids are on its call_start (the ESRP writes them there, made when the caller sent
  // none), and only call_start rows are indexed by them (migration 0007): the call's Call-IDs
  // come from there, then every event by Call-ID. As an array (an InitPlan, computed once):
  // `sip_call_id IN (subquery)` was planned as a filter on every row of the log.
  return select + "sip_call_id = ANY (ARRAY(SELECT sip_call_id FROM esrp.call_event WHERE kind = 'call_start' AND " +
         column + " = $1 AND sip_call_id IS NOT NULL)) ORDER BY at, id";
}

constexpr const char* kRecentSql = R"SQL(
SELECT to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), s.sip_call_id,
       coalesce(s.emergency_call_id,
                (SELECT e.emergency_call_id FROM esrp.call_event e
                  WHERE e.sip_call_id = s.sip_call_id AND e.emergency_call_id IS NOT NULL ORDER BY e.id LIMIT 1), ''),
       coalesce(s.incident_id,
                (SELECT e.incident_id FROM esrp.call_event e
                  WHERE e.sip_call_id = s.sip_call_id AND e.incident_id IS NOT NULL ORDER BY e.id LIMIT 1), ''),
       coalesce((SELECT coalesce(e.detail->>'outcome', 'ended') FROM esrp.call_event e
                  WHERE e.sip_call_id = s.sip_call_id AND e.kind = 'call_end' ORDER BY e.at DESC, e.id DESC LIMIT 1),
                'in progress')
FROM esrp.call_event s
WHERE s.kind = 'call_start' AND s.sip_call_id IS NOT NULL
ORDER BY s.at DESC, s.id DESC
LIMIT $1
)SQL";

}  // namespace

std::vector<LoggedEvent> call_story(const std::string& conninfo, CallKey key, const std::string& value) {
  std::vector<LoggedEvent> events;
  try {
    pqxx::connection conn(conninfo);
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec_params(story_sql(key), value)) {
      events.push_back({row[0].as<std::int64_t>(), text(row[1]), text(row[2]), text(row[3]), text(row[4]),
                        text(row[5]), text(row[6]), text(row[7]), text(row[8])});
    }
  } catch (const pqxx::failure& e) {
    throw std::runtime_error(std::string("call log: ") + e.what());
  }
  return events;
}

std::vector<CallSummary> recent_calls(const std::string& conninfo, std::size_t limit) {
  std::vector<CallSummary> calls;
  try {
    pqxx::connection conn(conninfo);
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec_params(kRecentSql, static_cast<long long>(limit)))
      calls.push_back({text(row[0]), text(row[1]), text(row[2]), text(row[3]), text(row[4])});
  } catch (const pqxx::failure& e) {
    throw std::runtime_error(std::string("call log: ") + e.what());
  }
  return calls;
}

}  // namespace ng911::esrp
