#include "db/conninfo.h"

#include <cstdlib>

namespace ng911::db {

std::optional<std::string> process_env(const char* name) {
  if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return std::string(v);
  return std::nullopt;
}

std::string resolve_conninfo(const std::optional<std::string>& explicit_conninfo,
                             const EnvLookup& env) {
  if (explicit_conninfo) return *explicit_conninfo;
  // A PGSERVICE names a whole connection in pg_service.conf: defer to it entirely.
  if (env("PGSERVICE")) return "";
  // Only the fields the environment leaves open get our defaults, so that libpq applies
  // PGHOST, PGPORT, ... itself (a conninfo keyword would override them).
  std::string conninfo;
  auto add = [&](const char* keyword, const std::string& value) {
    if (!conninfo.empty()) conninfo += ' ';
    conninfo += keyword;
    conninfo += '=';
    conninfo += value;
  };
  if (!env("PGHOST") && !env("PGHOSTADDR")) add("host", kDefaultHost);
  if (!env("PGPORT")) add("port", std::to_string(kDefaultPort));
  if (!env("PGDATABASE")) add("dbname", kDefaultDatabase);
  if (!env("PGUSER")) add("user", kDefaultUser);
  return conninfo;
}

}  // namespace ng911::db
