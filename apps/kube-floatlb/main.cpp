// kube-floatlb: the Kubernetes operator for floatlb, kube-loxilb's flags (docs/operator.md).
#include <csignal>
#include <cstdio>

#include "common/log.h"
#include "operator/options.h"
#include "operator/shell.h"

namespace {
std::atomic<bool> g_stop{false};
void onSignal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = floatlb::kube::parseOptions(args);
  if (!parsed) {
    std::fprintf(stderr, "kube-floatlb: %s\n", parsed.error().message.c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(parsed->help_text.c_str(), stdout);
    return 0;
  }
  floatlb::log::Level level = floatlb::log::Level::kInfo;
  floatlb::log::parseLevel(parsed->options.loglevel, &level);
  floatlb::log::setLevel(level);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return floatlb::kube::runOperator(parsed->options, g_stop);
}
