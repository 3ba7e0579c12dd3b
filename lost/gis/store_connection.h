#pragma once
// Internal to the GIS library: the connection behind GisStore, shared by its source files.
#include <pqxx/pqxx>

#include "gis/gis_store.h"

namespace ng911::gis {

struct GisStore::Connection {
  explicit Connection(const std::string& conninfo) : conn(conninfo) {}
  pqxx::connection conn;
};

}  // namespace ng911::gis
