// floatlb daemon entry point: flags in, daemon::run out. See src/daemon/.
#include <cstdio>
#include <string>
#include <vector>

#include "daemon/daemon.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto opts = floatlb::daemon::parseOptions(args);
  if (!opts) {
    std::fprintf(stderr, "floatlb: %s\n", opts.error().message.c_str());
    return 2;
  }
  if (opts->help) {
    std::fputs(floatlb::daemon::usage().c_str(), stdout);
    return 0;
  }
  if (opts->version) {
    std::puts("floatlb 0.1.0");
    return 0;
  }
  return floatlb::daemon::run(*opts);
}
