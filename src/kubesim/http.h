// kubesim's HTTP front: a thin adapter from cpp-httplib to ApiServer::handle (and chunked watch
// streams), plus the admin endpoint (plain listener only) and bearer-token auth (TLS listener).
// Kept small on purpose: the transport may later move to the project's event-driven server.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "kubesim/apiserver.h"

namespace floatlb::kubesim {

struct HttpConfig {
  int bookmarkIntervalMs = 10000;  // idle time before a BOOKMARK on watches that allow them
  int maxWatchSeconds = 1800;      // when the client gives no timeoutSeconds
  std::string logFile;             // request log, one JSON line per request ("" = none)
};

class KubeHttpServer {
 public:
  KubeHttpServer(ApiServer& api, const Clock& clock, HttpConfig cfg);
  ~KubeHttpServer();
  KubeHttpServer(const KubeHttpServer&) = delete;
  KubeHttpServer& operator=(const KubeHttpServer&) = delete;

  // Anonymous listener with the admin endpoint; port 0 = any. Returns the bound port.
  Result<int> listenPlain(const std::string& host, int port);
  // TLS listener that requires `Authorization: Bearer <token>` with a token from `tokensFile`
  // (lines `token[,user[,groups]]`, re-read on change). No admin endpoint.
  Result<int> listenTls(const std::string& host, int port, const std::string& certFile,
                        const std::string& keyFile, const std::string& tokensFile);
  // Same as listenTls but bound inside a network namespace (path /run/netns/<name>).
  Result<int> listenTlsInNetns(const std::string& netnsPath, const std::string& host, int port,
                               const std::string& certFile, const std::string& keyFile,
                               const std::string& tokensFile);
  // Runs the controllers every `period` (node lifecycle, graceful deletions, slices).
  void startTicker(std::chrono::milliseconds period);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floatlb::kubesim
