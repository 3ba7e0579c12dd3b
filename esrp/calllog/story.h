#pragma once
// The call log read back (esrp.call_event): one call's story and the latest calls, for
// ng911-calllog and for tests. Database errors are thrown as std::runtime_error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ng911::esrp {

// How a call is named: by its SIP Call-ID, or by NENA's emergency call id
// (urn:emergency:uid:callid:...) or incident id (urn:emergency:uid:incidentid:...).
enum class CallKey { sip_call_id, emergency_call_id, incident_id };

struct LoggedEvent {
  std::int64_t id = 0;
  std::string event_uid, esrp_id;
  std::string at;  // ISO 8601 in UTC, microseconds: 2026-11-25T10:00:00.123456Z
  std::string sip_call_id, emergency_call_id, incident_id;  // empty where the event had none
  std::string kind;
  std::string detail_json;  // a JSON object
};

// The events of the calls the key names, in time order (ties in log order). By emergency call
// id or incident id: every event of every call whose call_start carries that id (the ESRP
// writes a call's ids there), the events without ids included. Empty: no such call.
std::vector<LoggedEvent> call_story(const std::string& conninfo, CallKey key, const std::string& value);

struct CallSummary {
  std::string started_at;  // the call_start event's `at`
  std::string sip_call_id, emergency_call_id, incident_id;
  std::string outcome;  // the last call_end's detail "outcome" ("ended" without one); "in progress" before it
};

// The latest calls by their call_start event, newest first.
std::vector<CallSummary> recent_calls(const std::string& conninfo, std::size_t limit);

}  // namespace ng911::esrp
