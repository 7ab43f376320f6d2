// `kubesim up` / `kubesim down`: the process shell around ApiServer + KubeHttpServer (listeners, the
// generated CA and tokens, kubeconfig and env files, daemonising, state file). apps/kubesim parses argv.
#pragma once

#include <string>

namespace floatlb::kubesim {

struct UpOptions {
  std::string vpcsimStateDir;  // join this vpcsim world (netns realisation)
  std::string prefix = "ks";
  std::string stateDir;  // default /tmp/kubesim-<prefix>
  std::string k8sVersion = "v1.32.0";
  std::string stateFile;  // snapshot kept across restarts ("" = none)
  std::string logFile;    // request log (JSON lines)
  bool daemon = false;
  bool noNetns = false;
  int nodes = 2;
  int port = 0;       // plain http on 127.0.0.1 (0 = any free port)
  int httpsPort = 0;  // TLS on 127.0.0.1 (0 = any free port)
  int nodeGraceMs = 40000;
  int bookmarkMs = 10000;
};

int runUp(const UpOptions& o);
int runDown(const std::string& prefix, const std::string& stateDir);
std::string defaultStateDir(const std::string& prefix);

}  // namespace floatlb::kubesim
