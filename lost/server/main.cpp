#include <iostream>

#include "server/config.h"
#include "server/lost_service.h"

int main(int argc, char** argv) {
  try {
    auto config = ng911::lost::parse_config(argc, argv);
    if (!config) return 0;
    ng911::lost::LostService service(std::move(*config));
    return service.run();
  } catch (const std::exception& e) {
    std::cerr << "ng911-lost: " << e.what() << "\n";
    return 2;
  }
}
