// The REST API (`/netlox/v1/...`, LoxiLB-compatible). The one place where a Result's ErrorCode
// becomes an HTTP status (httpStatusFor in server.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/json_codec.h"
#include "common/result.h"
#include "dataplane/datapath.h"
#include "ha/ci_state.h"
#include "lb/rule_manager.h"

namespace floatlb::api {

// Endpoint health as the API shows and changes it (implemented by the daemon over src/health).
class EndpointHealthApi {
 public:
  virtual ~EndpointHealthApi() = default;
  virtual std::vector<EndpointRow> rows() = 0;
  virtual Status addManual(const lb::ProbeConfig& cfg) = 0;
  virtual Status removeManual(Ip4 ip, const std::string& type, uint16_t port) = 0;
};

struct ApiDeps {
  lb::RuleManager* rules = nullptr;
  dataplane::Datapath* datapath = nullptr;
  ha::CiStateTable* cistate = nullptr;
  EndpointHealthApi* health = nullptr;               // optional
  std::function<std::string()> metrics_text;         // optional extra Prometheus lines
  std::function<std::string()> bfd_json;             // optional; absent => 500 "bfd session not running"
  std::function<std::string()> ha_peers_json;        // optional; GET /config/ha/peers (floatlb)
  std::function<std::string()> cloud_timeline_json;  // optional; GET /config/cloud/timeline (floatlb)
  // optional: how POST /config/cistate is carried out (with --ka the heartbeat machine decides);
  // absent => the state is stored directly.
  std::function<Status(const CiStateRequest&)> set_cistate;
  std::string version = "0.1.0";
  std::string build_info;
};

int httpStatusFor(ErrorCode code);

class ApiServer {
 public:
  explicit ApiServer(ApiDeps deps);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds host:port (port 0 = ephemeral) and serves on a background thread.
  Status start(const std::string& host, uint16_t port);
  void stop();
  [[nodiscard]] uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floatlb::api
