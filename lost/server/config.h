#pragma once
// ng911-lost's configuration: command-line flags and, with --config FILE, the same options in
// a file (one "name = value" per line, '#' comments; flags win over the file).
#include <chrono>
#include <optional>
#include <string>

#include "ecrf/ecrf.h"
#include "http/server.h"

namespace ng911::lost {

struct Config {
  http::ServerOptions http;
  ecrf::EcrfConfig ecrf;
  std::optional<std::string> db;  // --db; else PG* variables, then the local cluster
  std::chrono::milliseconds peer_timeout{2000};
  std::string peer_ca;  // CAs for https peers' certificates; empty: the system's trust store
  std::chrono::seconds reload_check{5};
  bool log_queries = true;
};

// Returns nullopt after printing --help; throws std::runtime_error with a message on bad input.
std::optional<Config> parse_config(int argc, const char* const* argv);

// "bbox:minlon,minlat,maxlon,maxlat" or "wkt:POLYGON((lon lat, ...))" / MULTIPOLYGON.
ecrf::MultiPolygon parse_region(const std::string& spec);

}  // namespace ng911::lost
