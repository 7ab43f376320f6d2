// ApiRouter: the whole REST API (`/netlox/v1/...`, LoxiLB-compatible) as a pure function from a
// request to a response, independent of the HTTP server that carries it (src/api/server.cpp).
// Authentication (bearer tokens) and the ErrorCode -> HTTP status mapping (httpStatusFor) happen
// here, once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/json_codec.h"
#include "api/views.h"
#include "common/result.h"
#include "common/version.h"
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
  EndpointHealthApi* health = nullptr;  // optional
  HaView* ha = nullptr;                 // optional: no HA services (--ka/--cluster) running
  CloudView* cloud = nullptr;           // optional: no cloud hook (--cloud=aws)
  // Bearer tokens accepted on every route but GET /netlox/v1 (liveness). Empty = no
  // authentication (the reference's behaviour).
  std::vector<std::string> tokens;
  std::string version = projectVersion();
  std::string build_info;
};

int httpStatusFor(ErrorCode code);

struct ApiRequest {
  std::string method;                        // GET, POST, DELETE, ...
  std::string path;                          // decoded path without the query
  std::map<std::string, std::string> query;  // decoded; last value wins
  std::string body;
  std::string authorization;  // the Authorization header, if any
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Constant-time equality of two secrets (the time depends on the lengths only).
bool constantTimeEquals(std::string_view a, std::string_view b);

class ApiRouter {
 public:
  explicit ApiRouter(ApiDeps deps);
  ~ApiRouter();
  ApiRouter(const ApiRouter&) = delete;
  ApiRouter& operator=(const ApiRouter&) = delete;

  // Thread-safe as far as the dependencies are (RuleManager, CiStateTable and the views are).
  [[nodiscard]] ApiResponse handle(const ApiRequest& request) const;
  // The /metrics text (also used by tests and the bench).
  [[nodiscard]] std::string metricsText() const;
  [[nodiscard]] const ApiDeps& deps() const { return deps_; }

 private:
  struct Route;
  ApiDeps deps_;
  std::vector<Route> routes_;
};

}  // namespace floatlb::api
