// ng911-esrp: the Emergency Services Routing Proxy (NENA i3). See esrp/README.md.
#include <iostream>

#include "policy/policy.h"
#include "service/esrp_node.h"

int main(int argc, char** argv) {
  try {
    auto options = ng911::esrp::parse_options(argc, argv);
    if (!options) return 0;
    return ng911::esrp::run_esrp(*options);
  } catch (const ng911::esrp::policy::PolicyError& e) {
    std::cerr << "ng911-esrp: policy rules refused:\n";
    for (const auto& p : e.problems) std::cerr << "  " << p << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ng911-esrp: " << e.what() << "\n";
    return 2;
  }
}
