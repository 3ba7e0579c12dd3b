#pragma once
// ng911-psap as a process: its options, the wiring of the SIP endpoint, the storage and the
// console server on one event loop, and the user administration subcommand.
#include <optional>
#include <string>

#include "api.h"
#include "console_server.h"
#include "psap.h"

namespace ng911::psap {

struct PsapOptions {
  PsapConfig psap;
  std::optional<std::string> db;  // --db; else PG* variables, else the local cluster
  ConsoleServerOptions http;
  ApiConfig api;
};

// nullopt after --help (printed). Throws std::invalid_argument on a bad option.
std::optional<PsapOptions> parse_options(int argc, char** argv);
// Runs until SIGINT or SIGTERM; the exit code.
int run_psap(const PsapOptions& options);
// "user add NAME --role call-taker|supervisor [--db CONNINFO]": the password is read from the
// first line of stdin. The exit code (0, 1 refused, 2 usage).
int user_command(int argc, char** argv);

}  // namespace ng911::psap
