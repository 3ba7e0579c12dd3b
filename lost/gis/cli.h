#pragma once
// ng911-gis: the command line with which GIS administrators load, validate, publish, roll
// back and export NENA GIS layers. Exit codes: 0 done; 1 validation refused the data (or found
// errors in `validate`); 2 bad usage, unreadable input or no database.
#include <iosfwd>

namespace ng911::gis {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace ng911::gis
