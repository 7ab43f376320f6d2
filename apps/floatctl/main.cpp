// floatctl: loxicmd-compatible CLI for the floatlb REST API. All logic lives in src/cli.
#include <iostream>
#include <string>
#include <vector>

#include "cli/floatctl.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return floatlb::cli::runFloatctl(args, floatlb::cli::makeHttpTransport, std::cout, std::cerr);
}
