// floatlb daemon entry point: flags in, daemon::run out. See src/daemon/.
#include <cstdio>
#include <string>
#include <vector>

#include "common/version.h"
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
    std::printf("floatlb %s\n", floatlb::projectVersion());
    return 0;
  }
  if (opts->remove_datapath) return floatlb::daemon::removeDatapath(*opts);
  return floatlb::daemon::run(*opts);
}
