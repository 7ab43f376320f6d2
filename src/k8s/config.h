// Where the API server is and how to authenticate (kubernetes.md §2.1): kubeconfig files
// (incl. $KUBECONFIG lists merged first-wins), exec credential plugins (aws eks get-token), and
// the in-cluster service-account config. File contents are read here; the HTTP client only sees
// PEM blobs and a credential source.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "k8s/json.h"

namespace floatlb::k8s {

struct ExecConfig {
  std::string api_version = "client.authentication.k8s.io/v1beta1";
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool provide_cluster_info = false;
  std::string interactive_mode = "Never";
};

struct RestConfig {
  std::string server;  // https://host:port (no trailing slash)
  std::string ca_pem;
  bool insecure = false;
  std::string tls_server_name;
  std::string token;
  std::string token_file;  // re-read periodically and on 401
  std::string client_cert_pem, client_key_pem;
  std::optional<ExecConfig> exec;
  std::string ns = "default";
  [[nodiscard]] bool tls() const { return server.rfind("https://", 0) == 0; }
};

// Parses and merges kubeconfig documents (text, directory of the file for relative paths).
Result<RestConfig> kubeconfigFrom(const std::vector<std::pair<std::string, std::string>>& docs,
                                  const std::string& context);
Result<RestConfig> loadKubeconfig(const std::vector<std::string>& files, const std::string& context);
// In-cluster: KUBERNETES_SERVICE_HOST/PORT + the service-account directory.
Result<RestConfig> inClusterConfig(const std::map<std::string, std::string>& env, const std::string& sa_dir);
// Precedence: explicit --kubeconfig > $KUBECONFIG (':'-list) > ~/.kube/config > in-cluster.
Result<RestConfig> resolveConfig(const std::string& kubeconfig, const std::string& context);

std::string base64Decode(std::string_view in);
Result<std::string> readFile(const std::string& path);

// ---- exec credential plugins ----

struct ExecCredential {
  std::string token;
  std::string client_cert_pem, client_key_pem;
  std::optional<int64_t> expiry_wall_ms;  // status.expirationTimestamp
};

// KUBERNETES_EXEC_INFO for the plugin.
std::string execInfo(const ExecConfig& e, const RestConfig& cluster);
Result<ExecCredential> parseExecCredential(std::string_view stdout_text);
// RFC 3339 ("2026-12-01T18:59:16Z", fractional seconds and offsets accepted) -> ms since epoch.
std::optional<int64_t> parseRfc3339(std::string_view s);

// Runs a plugin: returns its stdout. The real one forks; tests inject a fake.
class ExecRunner {
 public:
  virtual ~ExecRunner() = default;
  virtual Result<std::string> run(const ExecConfig& e, const std::string& exec_info) = 0;
};
class ProcessExecRunner final : public ExecRunner {
 public:
  Result<std::string> run(const ExecConfig& e, const std::string& exec_info) override;
};

// The credential to put on a request: static token, token file (re-read every 60 s and on 401)
// or exec plugin (cached until 30 s before expiry, re-run on 401). Pure apart from the runner and
// file reads; thread-safe callers serialise.
class Credentials {
 public:
  Credentials(RestConfig cfg, const Clock& clock, ExecRunner& runner);
  // Bearer token ("" = none) and client cert/key to use now.
  Result<ExecCredential> current();
  // The server said 401: drop cached credentials so the next current() refreshes.
  void invalidate();
  [[nodiscard]] int execRuns() const { return exec_runs_; }

 private:
  RestConfig cfg_;
  const Clock& clock_;
  ExecRunner& runner_;
  std::optional<ExecCredential> cached_;
  TimePoint cached_at_{};
  int exec_runs_ = 0;
};

}  // namespace floatlb::k8s
