#include "store.h"

#include <stdexcept>

#include <pqxx/pqxx>

namespace ng911::psap {

using nlohmann::json;

namespace {

std::optional<std::string> nullable(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

bool is_final(std::string_view state) {
  return state == "ended" || state == "abandoned" || state == "transferred" || state == "interrupted";
}

constexpr const char* kSummaryColumns =
    "id, kind, queue_uri, sip_call_id, state, caller_uri, caller_name, callback, service, "
    "coalesce(answered_by, ''), to_char(arrived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "coalesce(to_char(answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), ''), "
    "coalesce(to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), ''), coalesce(end_reason, '')";

json summary_of(const pqxx::row& r) {
  auto opt = [](const pqxx::field& f) { return f.as<std::string>().empty() ? json(nullptr) : json(f.as<std::string>()); };
  return {{"id", r[0].as<std::int64_t>()},  {"kind", r[1].as<std::string>()},      {"queue", r[2].as<std::string>()},
          {"sip_call_id", r[3].as<std::string>()}, {"state", r[4].as<std::string>()}, {"caller_uri", r[5].as<std::string>()},
          {"caller_name", r[6].as<std::string>()}, {"callback", r[7].as<std::string>()}, {"service", r[8].as<std::string>()},
          {"answered_by", opt(r[9])}, {"arrived_at", r[10].as<std::string>()}, {"answered_at", opt(r[11])},
          {"ended_at", opt(r[12])}, {"end_reason", opt(r[13])}};
}

}  // namespace

struct Store::Connection {
  explicit Connection(const std::string& conninfo) : c(conninfo) {}
  pqxx::connection c;
  operator pqxx::connection&() { return c; }
};

Store::Store(std::string conninfo) : conninfo_(std::move(conninfo)) { db(); }
Store::~Store() = default;

// A connection that broke (server restart) is opened anew on the next use.
Store::Connection& Store::db() {
  if (!connection_ || !connection_->c.is_open()) connection_ = std::make_unique<Connection>(conninfo_);
  return *connection_;
}

CallId Store::insert_call(const NewCall& c) {
  static const CallView empty;
  const CallView& v = c.view ? *c.view : empty;
  pqxx::work w(db());
  auto r = w.exec_params(
      "INSERT INTO psap.call (kind, queue_uri, sip_call_id, state, caller_uri, caller_name, callback, service, "
      "emergency_call_id, incident_id, location, additional_data, history) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13::jsonb) RETURNING id",
      c.kind, c.queue_uri, c.sip_call_id, c.state, v.caller_uri, v.caller_name, v.callback, v.service,
      nullable(v.emergency_call_id), nullable(v.incident_id), v.location.dump(), v.additional_data.dump(), v.history.dump());
  w.commit();
  return r[0][0].as<CallId>();
}

void Store::set_state(CallId id, std::string_view state, const std::string& actor, std::string_view end_reason) {
  pqxx::work w(db());
  std::string s(state);
  w.exec_params(
      "UPDATE psap.call SET state = $2, "
      "answered_by = CASE WHEN $2 = 'answered' AND answered_by IS NULL THEN $3 ELSE answered_by END, "
      "answered_at = CASE WHEN $2 = 'answered' AND answered_at IS NULL THEN now() ELSE answered_at END, "
      "ended_at = CASE WHEN $4 THEN now() ELSE ended_at END, "
      "end_reason = CASE WHEN $4 THEN $5 ELSE end_reason END WHERE id = $1",
      id, s, nullable(actor), is_final(state), nullable(std::string(end_reason)));
  w.commit();
}

void Store::set_location(CallId id, const json& location) {
  pqxx::work w(db());
  w.exec_params("UPDATE psap.call SET location = $2::jsonb WHERE id = $1", id, location.dump());
  w.commit();
}

void Store::add_event(CallId id, std::string_view kind, const std::string& actor, const json& detail) {
  pqxx::work w(db());
  w.exec_params("INSERT INTO psap.call_event (call_id, kind, actor, detail) VALUES ($1, $2, $3, $4::jsonb)", id,
                std::string(kind), nullable(actor), detail.dump());
  w.commit();
}

std::int64_t Store::add_text(CallId id, std::string_view direction, std::string_view sender, std::string_view body,
                             std::string_view status) {
  pqxx::work w(db());
  auto r = w.exec_params(
      "INSERT INTO psap.text_message (call_id, direction, sender, body, status) VALUES ($1, $2, $3, $4, $5) RETURNING id",
      id, std::string(direction), std::string(sender), std::string(body), std::string(status));
  w.commit();
  return r[0][0].as<std::int64_t>();
}

void Store::set_text_status(std::int64_t text_id, std::string_view status) {
  pqxx::work w(db());
  w.exec_params("UPDATE psap.text_message SET status = $2 WHERE id = $1", text_id, std::string(status));
  w.commit();
}

std::vector<CallId> Store::interrupt_open_calls() {
  pqxx::work w(db());
  auto r = w.exec(
      "WITH open AS (SELECT id, state FROM psap.call WHERE state IN ('ringing', 'answered', 'on_hold') FOR UPDATE), "
      "ev AS (INSERT INTO psap.call_event (call_id, kind, detail) "
      "       SELECT id, 'interrupted', jsonb_build_object('state', state, 'why', 'ng911-psap restarted') FROM open) "
      "UPDATE psap.call c SET state = 'interrupted', ended_at = now(), end_reason = 'ng911-psap restarted' "
      "FROM open WHERE c.id = open.id RETURNING c.id");
  w.commit();
  std::vector<CallId> out;
  for (const auto& row : r) out.push_back(row[0].as<CallId>());
  return out;
}

json Store::recent_calls(int limit) {
  pqxx::work w(db());
  auto r = w.exec_params(std::string("SELECT ") + kSummaryColumns + " FROM psap.call ORDER BY id DESC LIMIT $1", limit);
  json out = json::array();
  for (const auto& row : r) out.push_back(summary_of(row));
  return out;
}

std::optional<json> Store::call(CallId id) {
  pqxx::work w(db());
  auto r = w.exec_params(std::string("SELECT ") + kSummaryColumns +
                             ", coalesce(emergency_call_id, ''), coalesce(incident_id, ''), location::text, "
                             "additional_data::text, history::text FROM psap.call WHERE id = $1",
                         id);
  if (r.empty()) return std::nullopt;
  json out = summary_of(r[0]);
  out["emergency_call_id"] = r[0][14].as<std::string>();
  out["incident_id"] = r[0][15].as<std::string>();
  out["location"] = json::parse(r[0][16].as<std::string>());
  out["additional_data"] = json::parse(r[0][17].as<std::string>());
  out["history"] = json::parse(r[0][18].as<std::string>());
  json events = json::array();
  for (const auto& e : w.exec_params(
           "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), kind, coalesce(actor, ''), detail::text "
           "FROM psap.call_event WHERE call_id = $1 ORDER BY id",
           id))
    events.push_back({{"at", e[0].as<std::string>()}, {"kind", e[1].as<std::string>()},
                      {"actor", e[2].as<std::string>()}, {"detail", json::parse(e[3].as<std::string>())}});
  out["events"] = events;
  json texts = json::array();
  for (const auto& t : w.exec_params(
           "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), direction, sender, body, status "
           "FROM psap.text_message WHERE call_id = $1 ORDER BY id",
           id))
    texts.push_back({{"id", t[0].as<std::int64_t>()}, {"at", t[1].as<std::string>()}, {"direction", t[2].as<std::string>()},
                     {"sender", t[3].as<std::string>()}, {"body", t[4].as<std::string>()}, {"status", t[5].as<std::string>()}});
  out["texts"] = texts;
  return out;
}

void Store::add_user(const std::string& name, Role role, const std::string& password_hash) {
  pqxx::work w(db());
  try {
    w.exec_params("INSERT INTO psap.app_user (name, role, password_hash) VALUES ($1, $2, $3)", name,
                  std::string(role_name(role)), password_hash);
  } catch (const pqxx::unique_violation&) {
    throw std::invalid_argument("user '" + name + "' exists already");
  } catch (const pqxx::check_violation&) {
    throw std::invalid_argument("user name '" + name + "' not allowed (1-64 of A-Z a-z 0-9 . _ -)");
  }
  w.commit();
}

std::optional<StoredUser> Store::user(const std::string& name) {
  pqxx::work w(db());
  auto r = w.exec_params("SELECT name, role, password_hash, disabled FROM psap.app_user WHERE name = $1", name);
  if (r.empty()) return std::nullopt;
  return StoredUser{r[0][0].as<std::string>(), parse_role(r[0][1].as<std::string>()).value_or(Role::call_taker),
                    r[0][2].as<std::string>(), r[0][3].as<bool>()};
}

void Store::create_session(const std::string& token_sha256, const std::string& user, int seconds) {
  pqxx::work w(db());
  w.exec_params(
      "INSERT INTO psap.session (token_sha256, user_name, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))",
      token_sha256, user, seconds);
  w.commit();
}

std::optional<StoredUser> Store::session_user(const std::string& token_sha256) {
  pqxx::work w(db());
  auto r = w.exec_params(
      "SELECT u.name, u.role, u.password_hash, u.disabled FROM psap.session s JOIN psap.app_user u ON u.name = s.user_name "
      "WHERE s.token_sha256 = $1 AND s.ended_at IS NULL AND s.expires_at > now() AND NOT u.disabled",
      token_sha256);
  if (r.empty()) return std::nullopt;
  return StoredUser{r[0][0].as<std::string>(), parse_role(r[0][1].as<std::string>()).value_or(Role::call_taker),
                    r[0][2].as<std::string>(), r[0][3].as<bool>()};
}

void Store::end_session(const std::string& token_sha256) {
  pqxx::work w(db());
  w.exec_params("UPDATE psap.session SET ended_at = now() WHERE token_sha256 = $1 AND ended_at IS NULL", token_sha256);
  w.commit();
}

void Store::audit(const std::string& user, std::string_view action, std::optional<CallId> call, std::string_view outcome,
                  const json& detail) {
  pqxx::work w(db());
  w.exec_params("INSERT INTO psap.audit_log (user_name, action, call_id, outcome, detail) VALUES ($1, $2, $3, $4, $5::jsonb)",
                nullable(user), std::string(action), call, std::string(outcome), detail.dump());
  w.commit();
}

json Store::audit_tail(int limit) {
  pqxx::work w(db());
  json out = json::array();
  for (const auto& r : w.exec_params(
           "SELECT coalesce(user_name, ''), action, call_id, outcome, detail::text FROM psap.audit_log ORDER BY id DESC LIMIT $1",
           limit))
    out.push_back({{"user", r[0].as<std::string>()}, {"action", r[1].as<std::string>()},
                   {"call_id", r[2].is_null() ? json(nullptr) : json(r[2].as<CallId>())},
                   {"outcome", r[3].as<std::string>()}, {"detail", json::parse(r[4].as<std::string>())}});
  return out;
}

std::string Store::boundaries(const std::vector<std::string>& queue_uris) {
  pqxx::work w(db());
  // The array travels as one text parameter in PostgreSQL's array syntax, each element quoted.
  std::string array = "{";
  for (std::size_t i = 0; i < queue_uris.size(); ++i) {
    if (i) array += ",";
    array += "\"";
    for (char ch : queue_uris[i]) {
      if (ch == '"' || ch == '\\') array += '\\';
      array += ch;
    }
    array += "\"";
  }
  array += "}";
  auto r = w.exec_params(
      "SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object("
      "  'type', 'Feature', 'geometry', ST_AsGeoJSON(geom, 6)::json, 'properties', json_build_object("
      "  'es_nguid', es_nguid, 'name', dsplayname, 'service_uri', serviceuri, 'service_urn', serviceurn, "
      "  'agency_id', agency_id))), '[]'::json))::text "
      "FROM gis.current_service_boundary WHERE layer = 'PsapPolygon' AND (cardinality($1::text[]) = 0 OR serviceuri = ANY($1::text[]))",
      array);
  return r[0][0].as<std::string>();
}

}  // namespace ng911::psap
