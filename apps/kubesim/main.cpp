// kubesim: a Kubernetes API server in a box. `kubesim up --no-netns [--nodes N] [--state-dir D] [--daemon]
// [--k8s-version v1.32.0] [--port N]`, `kubesim up --vpcsim-state-dir DIR [--prefix P]`, `kubesim down`.
#include <CLI/CLI.hpp>

#include "kubesim/app.h"

int main(int argc, char** argv) {
  CLI::App app{"kubesim: Kubernetes API emulator"};
  app.require_subcommand(1);
  floatlb::kubesim::UpOptions o;
  auto* up = app.add_subcommand("up", "start the API server");
  up->add_option("--vpcsim-state-dir", o.vpcsimStateDir, "vpcsim world to join (nodes, pod IPs)");
  up->add_option("--prefix", o.prefix, "name prefix (namespaces, default state dir)");
  up->add_option("--state-dir", o.stateDir, "where kubeconfig, kubesim.env, CA and tokens go");
  up->add_option("--k8s-version", o.k8sVersion, "version served on /version and by the nodes");
  up->add_option("--state-file", o.stateFile, "snapshot restored at start and written at stop");
  up->add_option("--log", o.logFile, "request log (JSON lines)");
  up->add_flag("--daemon", o.daemon, "detach once the listeners are up");
  up->add_flag("--no-netns", o.noNetns, "API only: pods are records, no root needed");
  up->add_option("--nodes", o.nodes, "number of record nodes with --no-netns");
  up->add_option("--port", o.port, "plain-http port on 127.0.0.1 (0 = any)");
  up->add_option("--https-port", o.httpsPort, "TLS port on 127.0.0.1 (0 = any)");
  up->add_option("--node-grace-ms", o.nodeGraceMs, "time before a downed node turns Ready=Unknown");
  up->add_option("--bookmark-ms", o.bookmarkMs, "idle time before a watch BOOKMARK");
  std::string downPrefix = "ks", downDir;
  auto* down = app.add_subcommand("down", "stop kubesim and remove what it made");
  down->add_option("--prefix", downPrefix, "name prefix");
  down->add_option("--state-dir", downDir, "state dir given to up");
  CLI11_PARSE(app, argc, argv);
  if (*up) return floatlb::kubesim::runUp(o);
  return floatlb::kubesim::runDown(downPrefix, downDir);
}
