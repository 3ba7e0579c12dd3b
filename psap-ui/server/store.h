#pragma once
// ng911-psap's PostgreSQL storage (schema psap, migration 0005): calls and their events, text
// messages, users, sessions and the audit log; and the PSAP boundaries of the GIS layers that
// the LoST server publishes (gis.current_service_boundary), for the console's map.
//
// One connection, used from the endpoint's event loop only; a broken connection is opened
// again on the next use. Every method throws std::exception (pqxx's) on a database error: the
// caller decides what a failed write means (the endpoint logs it and keeps the call in memory).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth.h"
#include "call_view.h"

namespace ng911::psap {

using CallId = std::int64_t;

struct StoredUser {
  std::string name;
  Role role = Role::call_taker;
  std::string password_hash;
  bool disabled = false;
};

struct NewCall {
  std::string kind;  // voice, text
  std::string queue_uri;
  std::string sip_call_id;
  std::string state;  // ringing
  const CallView* view = nullptr;
};

class Store {
 public:
  explicit Store(std::string conninfo);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  CallId insert_call(const NewCall& call);
  // answered_at is set on the first answer, ended_at and end_reason when the state is final.
  void set_state(CallId id, std::string_view state, const std::string& actor, std::string_view end_reason = {});
  void set_location(CallId id, const nlohmann::json& location);
  void add_event(CallId id, std::string_view kind, const std::string& actor, const nlohmann::json& detail = nlohmann::json::object());
  std::int64_t add_text(CallId id, std::string_view direction, std::string_view sender, std::string_view body,
                        std::string_view status);
  void set_text_status(std::int64_t text_id, std::string_view status);
  // After a restart: every call still ringing, answered or on hold is 'interrupted', with an
  // event saying what state it was in. Returns their ids.
  std::vector<CallId> interrupt_open_calls();

  // The most recent calls, newest first, as summaries (the fields of GET /api/calls).
  nlohmann::json recent_calls(int limit);
  // A call with its events and text messages; nullopt for an unknown id.
  std::optional<nlohmann::json> call(CallId id);

  // Throws std::invalid_argument when the user exists or the name is not allowed.
  void add_user(const std::string& name, Role role, const std::string& password_hash);
  std::optional<StoredUser> user(const std::string& name);
  void create_session(const std::string& token_sha256, const std::string& user, int seconds);
  // The user of a live session (not ended, not expired, user not disabled).
  std::optional<StoredUser> session_user(const std::string& token_sha256);
  void end_session(const std::string& token_sha256);

  void audit(const std::string& user, std::string_view action, std::optional<CallId> call, std::string_view outcome,
             const nlohmann::json& detail = nlohmann::json::object());
  // The last audit rows, newest first (tests, supervisors).
  nlohmann::json audit_tail(int limit);

  // A GeoJSON FeatureCollection of the published PsapPolygon features: those whose ServiceURI
  // is one of `queue_uris`, or every one when the list is empty.
  std::string boundaries(const std::vector<std::string>& queue_uris);

 private:
  struct Connection;  // keeps libpqxx out of this header
  Connection& db();
  std::string conninfo_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace ng911::psap
