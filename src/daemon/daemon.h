// The floatlb daemon: wires the datapath, the rule table, health probes, HA state, the cloud hook
// and the REST API together, runs the periodic work (conntrack aging, interface watching) and
// stops cleanly on SIGINT/SIGTERM (SIGHUP re-reads the TLS certificate). apps/floatlb/main.cpp
// only parses flags and calls run().
//
// Phases: build() checks the flags and constructs every component (nothing listens yet, the
// saved rules are restored); start() starts the HA services, the cloud hook, the REST API and
// the background loops; waitForSignal() blocks; stop() takes everything down in the one order
// stated in daemon.cpp (the reverse of start).
#pragma once

#include <memory>

#include "common/result.h"
#include "daemon/options.h"

namespace floatlb::daemon {

class Daemon {
 public:
  explicit Daemon(Options options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  Status build();
  Status start();
  // Blocks until SIGINT or SIGTERM (handling SIGHUP on the way); returns the signal number.
  int waitForSignal();
  void stop();

 private:
  // The steps of build(), in order.
  Status readFlags();
  Status openDatapath();
  Status restoreRules();
  void buildHa();
  Status buildCloud();
  void buildApi();

  struct Parts;
  Options o_;
  std::unique_ptr<Parts> p_;
};

// build + start + waitForSignal + stop; returns the process exit code (2 bad flags, 1 failure).
int run(const Options& options);

// --remove-datapath: removes what a stopped daemon leaves attached on purpose (the tc filters, the
// pinned maps) and prints what it removed; exit code 0, or 1 with the reason on stderr.
int removeDatapath(const Options& options);

}  // namespace floatlb::daemon
