// vpcsim: a VPC in a box. `vpcsim up --topology F --prefix P [--port N] [--state-dir D]
// [--latency=zero|default] [--detach-ms N] [--no-netns] [--daemon]`, `vpcsim down --prefix P`.
// Everything lives in src/sim/app.h; this is argv in, exit code out.
#include <iostream>
#include <string>
#include <vector>

#include "sim/app.h"

int main(int argc, char** argv) {
  using namespace floatlb::sim;
  auto opts = parseAppArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!opts.ok()) {
    std::cerr << "vpcsim: " << opts.error().message;
    return 2;
  }
  if (opts->help) {
    std::cout << opts->usage;
    return 0;
  }
  if (opts->command == "down") return down(*opts);
  return opts->daemon ? runDaemonised(*opts) : runVpcsim(*opts);
}
