// The thin HTTP shell of the Kubernetes client: libcurl with TLS (CA, client certificates, SNI),
// credentials only over TLS, one re-authentication on 401 (exec plugin re-run / token re-read),
// gzip, keep-alive handles, and the streaming GET used by watches. Plus the runners that drive
// the pure Reflector and LeaderElector over it.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "k8s/config.h"
#include "k8s/informer.h"
#include "k8s/leader.h"
#include "k8s/throttle.h"

namespace floatlb::k8s {

struct HttpResponse {
  int code = 0;  // 0 = transport error (see error)
  std::string body;
  std::string error;
  Duration retry_after{};  // the server's Retry-After header (429/503), zero when absent
};

class ApiClient {
 public:
  ApiClient(RestConfig cfg, const Clock& clock, ExecRunner& runner, std::string user_agent);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  HttpResponse request(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::string& content_type = "application/json",
                       Duration timeout = std::chrono::seconds(30));
  // Streaming GET: `on_data` gets every chunk; returning false ends the stream. The transfer is
  // aborted after `stall` without a byte, or when `stop` becomes true.
  HttpResponse stream(const std::string& path, const std::function<bool(std::string_view)>& on_data,
                      Duration stall, const std::atomic<bool>& stop);

  [[nodiscard]] const RestConfig& config() const { return cfg_; }
  [[nodiscard]] uint64_t requests() const { return requests_.load(); }
  [[nodiscard]] int execRuns();
  // Time left of the server's last Retry-After (429): until then request() sends nothing and
  // answers 429 itself.
  [[nodiscard]] Duration throttledFor() const { return gate_.remaining(clock_.now()); }
  [[nodiscard]] uint64_t throttled() const { return gate_.throttled(); }

 private:
  void* handle();
  void giveBack(void* h);
  HttpResponse perform(void* h, const std::string& method, const std::string& path, const std::string& body,
                       const std::string& content_type, Duration timeout,
                       const std::function<bool(std::string_view)>* on_data, Duration stall,
                       const std::atomic<bool>* stop);

  RestConfig cfg_;
  const Clock& clock_;
  RetryAfterGate gate_;
  Credentials creds_;
  std::mutex creds_mu_;
  std::string ua_;
  std::mutex pool_mu_;
  std::vector<void*> pool_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<bool> warned_plain_{false};
};

// Runs a Reflector for one resource path (e.g. /api/v1/services) until `stop`; deltas and the
// first sync are delivered through `sink` from the runner's thread.
void runInformer(ApiClient& api, const std::string& resource_path, const Clock& clock,
                 const std::function<void(std::vector<Delta>&, bool synced)>& sink,
                 const std::atomic<bool>& stop, uint32_t seed);

// Runs leader election until `stop`; `on_change(leader)` on every transition. Releases the Lease
// when stopping as leader.
void runLeaderElection(ApiClient& api, LeaderConfig cfg, const Clock& clock,
                       const std::function<void(bool)>& on_change, const std::atomic<bool>& stop);

}  // namespace floatlb::k8s
