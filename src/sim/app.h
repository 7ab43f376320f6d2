// The vpcsim program (apps/vpcsim/main.cpp is a thin main over this): argv parsing with CLI11,
// `up` (topology -> model -> namespaces -> listeners -> env file -> wait for SIGINT/SIGTERM ->
// teardown), `up --daemon` (fork, wait for the env file) and `down` (stop our daemon by its pid
// file, delete the prefix's namespaces).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace floatlb::sim {

struct AppOptions {
  std::string command;  // "up" | "down"
  std::string topology;
  std::string prefix;
  std::string state_dir;            // "" = /tmp/vpcsim-<prefix>
  int port = 0;                     // 0 = any free port
  std::string latency = "default";  // zero | default
  std::optional<int64_t> detach_ms;
  std::optional<int64_t> route_propagation_ms;
  bool no_netns = false;
  bool daemon = false;
  bool help = false;  // --help was given: `usage` holds the text
  std::string usage;
};

// argv without the program name. Flags keep their historical spelling; `--flag value` and
// `--flag=value` both work. Unknown flags and bad values are errors.
Result<AppOptions> parseAppArgs(const std::vector<std::string>& args);

[[nodiscard]] std::string stateDir(const AppOptions& o);

// `vpcsim up` in the foreground; returns the process exit code.
int runVpcsim(const AppOptions& o);
// `vpcsim up --daemon`: forks the simulator, returns once its env file exists (printing it).
int runDaemonised(const AppOptions& o);
// `vpcsim down`.
int down(const AppOptions& o);

}  // namespace floatlb::sim
