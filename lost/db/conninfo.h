#pragma once
// Resolves the PostgreSQL connection string a tool uses.
//
// Order: an explicit --db CONNINFO wins; otherwise libpq's PG* environment variables are honoured
// field by field, and whatever they leave unset falls back to the appliance's local cluster
// (127.0.0.1:55432, database ng911, user postgres).
#include <functional>
#include <optional>
#include <string>

namespace ng911::db {

inline constexpr const char* kDefaultHost = "127.0.0.1";
inline constexpr int kDefaultPort = 55432;
inline constexpr const char* kDefaultDatabase = "ng911";
inline constexpr const char* kDefaultUser = "postgres";

// Looks up an environment variable; injectable so that tests need not touch the process env.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;
std::optional<std::string> process_env(const char* name);

std::string resolve_conninfo(const std::optional<std::string>& explicit_conninfo,
                             const EnvLookup& env = process_env);

}  // namespace ng911::db
