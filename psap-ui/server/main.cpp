// ng911-psap: the PSAP endpoint (SIP queues, call storage, console API). See psap-ui/README.md.
#include <cstring>
#include <iostream>

#include "node.h"

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "user") == 0) return ng911::psap::user_command(argc, argv);
    auto options = ng911::psap::parse_options(argc, argv);
    if (!options) return 0;
    return ng911::psap::run_psap(*options);
  } catch (const std::exception& e) {
    std::cerr << "ng911-psap: " << e.what() << "\n";
    return 2;
  }
}
