#include <iostream>

#include "gis/cli.h"

int main(int argc, char** argv) { return ng911::gis::run_cli(argc, argv, std::cout, std::cerr); }
