// The floatlb daemon: wires the datapath, the rule table, health probes, HA state and the REST
// API together, runs the periodic work (conntrack aging, interface watching) and stops cleanly on
// SIGINT/SIGTERM. apps/floatlb/main.cpp only parses flags and calls run().
#pragma once

#include "daemon/options.h"

namespace floatlb::daemon {

// Returns the process exit code.
int run(const Options& options);

}  // namespace floatlb::daemon
