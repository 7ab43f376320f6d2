// The Kubernetes API server model: routing of REST requests to the store, defaulting/validation and
// allocation per kind, lists, watches, and the mini controllers (scheduler, a record-only kubelet for
// --no-netns, Deployments, EndpointSlices/Endpoints, garbage collection, node lifecycle). Pure: no
// sockets; time from the injected Clock. Thread-safe (one mutex); watchers block on a condition variable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "kubesim/alloc.h"
#include "kubesim/resources.h"
#include "kubesim/selector.h"
#include "kubesim/store.h"

namespace floatlb::kubesim {

using json = nlohmann::json;

struct ApiConfig {
  std::string version = "v1.32.0";
  std::string serviceCidr = "10.100.0.0/16";
  int nodePortLo = 30000, nodePortHi = 32767;
  size_t historyLimit = 10000;
  std::string region = "ap-northeast-3";
  int64_t nodeGraceMs = 40000;
  // --no-netns: pods are records; a built-in kubelet marks them Running with an address of the node's /24.
  bool recordKubelet = true;
  // Image patterns the kubelet can "pull" (prefix match, `*` at the end); anything else ⇒ ErrImagePull.
  std::vector<std::string> images = {
      "nginx",          "nginx:*",  "docker.io/library/nginx:*", "ghcr.io/loxilb-io/kube-loxilb:*",
      "kube-floatlb:*", "busybox:*"};
  uint64_t seed = 0;  // 0 = random
};

struct NodeSpec {
  std::string name;  // ip-192-168-218-10.<region>.compute.internal
  std::string ip;
  std::string az;
  std::string instanceId;
  std::string instanceType = "t3.medium";
  int maxPods = 5;
  std::string kernel = "6.1.0";
};

struct Request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;  // decoded
  std::string accept;
  std::string contentType;
  std::string userAgent;
  std::string body;
};

struct WatchCursor {
  const ResourceInfo* res = nullptr;
  std::string ns;
  LabelSelector labels;
  FieldSelector fields;
  uint64_t rv = 0;
  bool bookmarks = false;
  bool table = false;
  std::string includeObject;
  int timeoutSeconds = 0;
  std::deque<std::string> pending;  // synthetic ADDED lines (watch from RV 0/unset) or an ERROR
  bool endAfterPending = false;
  uint64_t dropGen = 0;
  bool columnsSent = false;
};

struct Response {
  int code = 200;
  std::string contentType = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<WatchCursor> watch;  // set: stream events instead of `body`
};

class ApiServer {
 public:
  ApiServer(const Clock& clock, ApiConfig cfg);

  Response handle(const Request& req);

  enum class WatchStep { kData, kIdle, kEnd, kReset };
  // Next lines for a watch (each `{"type":…,"object":…}\n`), waiting up to `wait` for news.
  WatchStep pollWatch(WatchCursor& c, std::chrono::milliseconds wait, std::string& out);
  std::string bookmarkLine(const WatchCursor& c);

  void addNode(const NodeSpec& n);
  // The address clients inside the cluster use (default/kubernetes Endpoints/EndpointSlice).
  void setApiEndpoint(const std::string& ip, int port);
  // Runs the controllers once (also done after every write); skipped when nothing changed since a pass
  // that wrote nothing and no timed work (node grace, image pull back-off) is pending.
  void tick();
  // Controller passes run so far (tests: the idle ticker does no work).
  uint64_t controllerPasses();

  // Admin.
  json state();
  void compact();
  void dropWatches(bool reset);
  Status setNodeState(const std::string& name, bool up);
  void addFault(const std::string& verb, const std::string& resource, int code, int count);
  json snapshot();
  void restore(const json& snap);

 private:
  struct Parsed;
  const Clock& clock_;
  ApiConfig cfg_;
  std::mutex mu_;
  std::condition_variable cv_;
  Store store_;
  IpAllocator clusterIps_;
  PortAllocator nodePorts_;
  std::mt19937_64 rng_;
  std::map<std::string, NodeSpec> nodes_;
  std::map<std::string, int64_t> nodeDownSince_;
  std::map<std::string, std::set<std::string>> podIpsUsed_;  // node -> IPs (record kubelet)
  std::map<std::string, int64_t> pullFailedAt_;              // pod uid -> when ErrImagePull was set
  std::string apiIp_ = "127.0.0.1";
  int apiPort_ = 443;
  uint64_t dropGen_ = 0;
  bool dropReset_ = false;
  struct Fault {
    std::string verb, resource;
    int code;
    int count;
  };
  std::vector<Fault> faults_;
  // Change tracking: the controllers read the store's history from their own cursor and work only on
  // what changed (a gap in the history, a restore or a compaction ⇒ one full pass).
  using ObjKey = std::tuple<std::string, std::string, std::string>;  // resource, namespace, name
  uint64_t gcRv_ = 0, epRv_ = 0;
  bool gcFull_ = true, epFull_ = true;
  std::set<std::string> liveUids_;
  std::map<std::string, std::set<ObjKey>> dependents_;     // owner uid -> objects naming it
  std::set<std::pair<std::string, std::string>> epDirty_;  // Services to recompute (ns, name)
  bool idle_ = false;                                      // last pass wrote nothing at idleRv_
  uint64_t idleRv_ = 0;
  uint64_t passes_ = 0;
  void resetTracking();
  void gcIndex(const std::string& resource, const json& obj, bool add);

  int64_t now() const { return clock_.wallMillis(); }
  std::string uuid();
  std::string randSuffix(int n);
  Response route(const Request& req);
  Response resourceRequest(const Request& req, const Parsed& p);
  Result<Response> doGet(const Request& req, const Parsed& p);
  Result<Response> doList(const Request& req, const Parsed& p);
  Result<Response> doWatch(const Request& req, const Parsed& p);
  Result<Response> doCreate(const Request& req, const Parsed& p);
  Result<Response> doUpdate(const Request& req, const Parsed& p);
  Result<Response> doPatch(const Request& req, const Parsed& p);
  Result<Response> doDelete(const Request& req, const Parsed& p);

  Result<json> decodeBody(const Request& req, const ResourceInfo& r, std::vector<std::string>& warnings);
  // Create after parsing: naming, defaulting, validation, allocation, store.
  Result<json> createObject(const ResourceInfo& r, json obj);
  // Update of `cur` to `next` (PUT and PATCH share it); `sub` = "" or "status".
  Result<json> updateObject(const ResourceInfo& r, const json& cur, json next, const std::string& sub);
  Result<json> deleteObject(const ResourceInfo& r, const json& cur, const json& opts);
  void finalizeDelete(const ResourceInfo& r, const json& obj);

  Status admitService(json& obj, const json* old);
  void releaseService(const json& obj);
  void defaultPodSpec(json& spec);
  Status admitPod(json& obj, const json* old);
  Status admitDeployment(json& obj, const json* old);

  std::string eventLine(const std::string& type, const WatchCursor& c, const json& obj);
  bool matches(const WatchCursor& c, const json& obj) const;

  void runControllers();
  void recordEvent(const json& involved, const std::string& type, const std::string& reason,
                   const std::string& message, const std::string& component, const std::string& host = "");
  void runDeployments();
  void runGc();
  void runScheduler();
  void runKubelet();
  void runNodeLifecycle();
  void runEndpoints();
  void ensureDefaults();
  json nodeObject(const NodeSpec& n);
  const ResourceInfo& res(const std::string& plural) const;
};

}  // namespace floatlb::kubesim
