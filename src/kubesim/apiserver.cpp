// ApiServer: construction, nodes, request routing and dispatch, admin operations.
#include "kubesim/apiserver.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "kubesim/apiserver_support.h"
#include "kubesim/patch.h"
#include "kubesim/status.h"
#include "kubesim/table.h"

namespace floatlb::kubesim {

using namespace apiserver_support;  // NOLINT(google-build-using-namespace): the split's shared helpers

ApiServer::ApiServer(const Clock& clock, ApiConfig cfg)
    : clock_(clock),
      cfg_(std::move(cfg)),
      store_(cfg_.historyLimit),
      clusterIps_(cfg_.serviceCidr),
      nodePorts_(cfg_.nodePortLo, cfg_.nodePortHi),
      rng_(cfg_.seed ? cfg_.seed : std::random_device{}()) {
  std::lock_guard<std::mutex> l(mu_);
  ensureDefaults();
}

const ResourceInfo& ApiServer::res(const std::string& plural) const {
  for (const auto& r : allResources())
    if (r.plural == plural) return r;
  return allResources().front();
}

std::string ApiServer::uuid() {
  std::string h = fmt::format("{:016x}{:016x}", rng_(), rng_());
  h[12] = '4';
  h[16] = "89ab"[rng_() % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20);
}

std::string ApiServer::randSuffix(int n) {
  static const char* alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(alphabet[rng_() % 27]);
  return s;
}

void ApiServer::ensureDefaults() {
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (store_.get("namespaces", "", ns)) continue;
    (void)createObject(res("namespaces"),
                       {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  }
  if (!store_.get("services", "default", "kubernetes")) {
    json svc = {
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata",
         {{"name", "kubernetes"},
          {"namespace", "default"},
          {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
        {"spec",
         {{"clusterIP", clusterIps_.nth(1)},
          {"ports", {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", 443}}}}}}};
    (void)createObject(res("services"), svc);
  }
}

void ApiServer::setApiEndpoint(const std::string& ip, int port) {
  std::lock_guard<std::mutex> l(mu_);
  apiIp_ = ip;
  apiPort_ = port;
  runEndpoints();
  cv_.notify_all();
}

json ApiServer::nodeObject(const NodeSpec& n) {
  std::string ts = rfc3339(now());
  json conds = json::array();
  for (const auto& [t, reason, msg] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"},
           {"DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
           {"PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"}})
    conds.push_back({{"type", t},
                     {"status", "False"},
                     {"lastHeartbeatTime", ts},
                     {"lastTransitionTime", ts},
                     {"reason", reason},
                     {"message", msg}});
  conds.push_back({{"type", "Ready"},
                   {"status", "True"},
                   {"lastHeartbeatTime", ts},
                   {"lastTransitionTime", ts},
                   {"reason", "KubeletReady"},
                   {"message", "kubelet is posting ready status"}});
  json cap = {{"cpu", "2"},
              {"ephemeral-storage", "20959212Ki"},
              {"memory", "3943360Ki"},
              {"pods", std::to_string(n.maxPods)}};
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", n.name},
            {"labels",
             {{"beta.kubernetes.io/arch", "amd64"},
              {"beta.kubernetes.io/os", "linux"},
              {"kubernetes.io/arch", "amd64"},
              {"kubernetes.io/os", "linux"},
              {"kubernetes.io/hostname", n.name},
              {"node.kubernetes.io/instance-type", n.instanceType},
              {"topology.kubernetes.io/region", cfg_.region},
              {"topology.kubernetes.io/zone", n.az}}},
            {"annotations", {{"node.alpha.kubernetes.io/ttl", "0"}}}}},
          {"spec", {{"providerID", "aws:///" + n.az + "/" + n.instanceId}}},
          {"status",
           {{"addresses",
             {{{"type", "InternalIP"}, {"address", n.ip}},
              {{"type", "Hostname"}, {"address", n.name}},
              {{"type", "InternalDNS"}, {"address", n.name}}}},
            {"allocatable", cap},
            {"capacity", cap},
            {"conditions", conds},
            {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
            {"nodeInfo",
             {{"architecture", "amd64"},
              {"bootID", uuid()},
              {"containerRuntimeVersion", "containerd://1.7.11"},
              {"kernelVersion", n.kernel},
              {"kubeProxyVersion", cfg_.version},
              {"kubeletVersion", cfg_.version},
              {"machineID", fmt::format("{:016x}{:016x}", rng_(), rng_())},
              {"operatingSystem", "linux"},
              {"osImage", "Amazon Linux 2"},
              {"systemUUID", uuid()}}}}}};
}

void ApiServer::addNode(const NodeSpec& n) {
  std::lock_guard<std::mutex> l(mu_);
  nodes_[n.name] = n;
  if (!store_.get("nodes", "", n.name)) (void)createObject(res("nodes"), nodeObject(n));
  cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------- routing

Response ApiServer::handle(const Request& req) {
  std::unique_lock<std::mutex> l(mu_);
  Response r = route(req);
  if (req.method != "GET") {
    runControllers();
    cv_.notify_all();
  }
  return r;
}

Response ApiServer::route(const Request& req) {
  const std::string& path = req.path;
  if (req.accept.find("application/vnd.kubernetes.protobuf") != std::string::npos &&
      req.accept.find("json") == std::string::npos && req.accept.find("*/*") == std::string::npos &&
      path.rfind("/openapi", 0) != 0)
    return errorResponse(
        apiError(406, "NotAcceptable",
                 "only the following media types are accepted: application/json, application/yaml"));
  if (path == "/version") {
    std::string v = cfg_.version;
    std::smatch m;
    std::regex re("^v(\\d+)\\.(\\d+)");
    std::string major = "1", minor = "32";
    if (std::regex_search(v, m, re)) {
      major = m[1];
      minor = m[2];
    }
    return jsonResponse(200, {{"major", major},
                              {"minor", minor},
                              {"gitVersion", v},
                              {"gitCommit", "0000000000000000000000000000000000000000"},
                              {"gitTreeState", "clean"},
                              {"buildDate", "2024-12-11T18:04:20Z"},
                              {"goVersion", "go1.23.3"},
                              {"compiler", "gc"},
                              {"platform", "linux/amd64"}});
  }
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    Response r;
    r.contentType = "text/plain; charset=utf-8";
    r.body = "ok";
    return r;
  }
  if (path == "/openapi/v2") {
    if (req.accept.find("protobuf") != std::string::npos) {
      Response r;
      r.contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
      r.body = openapiV2Protobuf(cfg_.version);
      return r;
    }
    return jsonResponse(200, {{"swagger", "2.0"},
                              {"info", {{"title", "Kubernetes"}, {"version", cfg_.version}}},
                              {"paths", json::object()}});
  }
  bool aggregated = req.accept.find("as=APIGroupDiscoveryList") != std::string::npos &&
                    req.accept.find("v=v2;") != std::string::npos;
  if (path == "/api" || path == "/apis") {
    if (aggregated) {
      Response r = jsonResponse(200, aggregatedDiscovery(path == "/api"));
      r.contentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
      return r;
    }
    return jsonResponse(200, path == "/api" ? legacyApiVersions(apiIp_ + ":" + std::to_string(apiPort_))
                                            : legacyApiGroupList());
  }
  if (path == "/api/v1") return jsonResponse(200, apiResourceList("", "v1"));

  // Resource paths.
  std::vector<std::string> seg;
  {
    size_t i = 1;
    while (i <= path.size()) {
      size_t j = path.find('/', i);
      if (j == std::string::npos) j = path.size();
      if (j > i) seg.push_back(path.substr(i, j - i));
      i = j + 1;
    }
  }
  std::string group, version;
  size_t k = 0;
  if (seg.size() >= 2 && seg[0] == "api" && seg[1] == "v1") {
    version = "v1";
    k = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    k = 3;
    if (seg.size() == 3) {
      bool known = std::any_of(allResources().begin(), allResources().end(), [&](const ResourceInfo& r) {
        return r.group == group && r.version == version;
      });
      if (known) return jsonResponse(200, apiResourceList(group, version));
    }
  } else if (seg.size() == 2 && seg[0] == "apis") {
    for (const auto& g : legacyApiGroupList()["groups"])
      if (g["name"] == seg[1]) {
        json x = g;
        x["kind"] = "APIGroup";
        x["apiVersion"] = "v1";
        return jsonResponse(200, x);
      }
  }
  Parsed p;
  if (!version.empty() && k < seg.size()) {
    std::vector<std::string> rest(seg.begin() + static_cast<long>(k), seg.end());
    if (rest.size() >= 3 && rest[0] == "namespaces" && rest[2] != "status" && rest[2] != "finalize") {
      p.ns = rest[1];
      rest.erase(rest.begin(), rest.begin() + 2);
    }
    p.res = findResource(group, version, rest[0]);
    if (p.res && !p.res->namespaced && !p.ns.empty()) p.res = nullptr;
    if (p.res && rest.size() >= 2) {
      p.name = rest[1];
      p.collection = false;
    }
    if (p.res && rest.size() == 3) p.sub = rest[2];
    if (p.res && (rest.size() > 3 || (!p.sub.empty() && (p.sub != "status" || !p.res->hasStatus))))
      p.res = nullptr;
  }
  if (!p.res) {
    Response r = errorResponse(apiError(404, "NotFound", "the server could not find the requested resource"));
    if (path.rfind("/api", 0) != 0) {
      r.contentType = "text/plain; charset=utf-8";
      r.body = "404 page not found\n";
    }
    return r;
  }
  return resourceRequest(req, p);
}

Response ApiServer::resourceRequest(const Request& req, const Parsed& p) {
  std::string verb = req.method;
  std::string resName = p.res->plural + (p.sub.empty() ? "" : "/" + p.sub);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->verb != verb || it->resource != resName) continue;
    int code = it->code;
    if (--it->count <= 0) faults_.erase(it);
    static const std::map<int, std::string> reasons = {{409, "Conflict"},
                                                       {429, "TooManyRequests"},
                                                       {500, "InternalError"},
                                                       {504, "Timeout"},
                                                       {503, "ServiceUnavailable"}};
    std::string reason = reasons.count(code) ? reasons.at(code) : "InternalError";
    std::string msg = code == 409
                          ? "Operation cannot be fulfilled on " + p.res->plural + " \"" + p.name +
                                "\": the object has been modified; please apply your changes to the latest "
                                "version and try again"
                      : code == 429 ? "Too many requests, please try again later."
                      : code == 504 ? "Timeout: request did not complete within the allotted timeout"
                                    : "Internal error occurred: injected fault";
    return errorResponse(apiError(code, reason, msg, {{"name", p.name}, {"kind", p.res->plural}}));
  }
  Result<Response> r = badRequest("unsupported verb");
  if (verb == "GET") {
    if (!p.collection) {
      r = doGet(req, p);
    } else if (parseBool(q(req, "watch"))) {
      r = doWatch(req, p);
    } else {
      r = doList(req, p);
    }
  } else if (verb == "POST" && p.collection) {
    r = doCreate(req, p);
  } else if (verb == "PUT" && !p.collection) {
    r = doUpdate(req, p);
  } else if (verb == "PATCH" && !p.collection) {
    r = doPatch(req, p);
  } else if (verb == "DELETE" && !p.collection) {
    r = doDelete(req, p);
  } else {
    r = apiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }
  return r.ok() ? std::move(r).value() : errorResponse(r.error());
}

// ---------------------------------------------------------------------------------------------- admin

json ApiServer::state() {
  std::lock_guard<std::mutex> l(mu_);
  json s = store_.snapshot();
  s["compactedRevision"] = store_.compactedRevision();
  s["nodesDown"] = json::array();
  for (const auto& [n, t] : nodeDownSince_) s["nodesDown"].push_back(n);
  s["faults"] = json::array();
  for (const auto& f : faults_)
    s["faults"].push_back({{"verb", f.verb}, {"resource", f.resource}, {"code", f.code}, {"count", f.count}});
  return s;
}

void ApiServer::compact() {
  std::lock_guard<std::mutex> l(mu_);
  store_.compact();
  cv_.notify_all();
}

void ApiServer::dropWatches(bool reset) {
  std::lock_guard<std::mutex> l(mu_);
  ++dropGen_;
  dropReset_ = reset;
  cv_.notify_all();
}

void ApiServer::addFault(const std::string& verb, const std::string& resource, int code, int count) {
  std::lock_guard<std::mutex> l(mu_);
  faults_.push_back({verb, resource, code, count});
}

json ApiServer::snapshot() {
  std::lock_guard<std::mutex> l(mu_);
  return store_.snapshot();
}

void ApiServer::restore(const json& snap) {
  std::lock_guard<std::mutex> l(mu_);
  store_.restore(snap);
  for (const json* s : store_.list("services", "")) {
    const json spec = (*s).value("spec", json::object());
    if (spec.value("clusterIP", "") != "" && spec["clusterIP"] != "None")
      (void)clusterIps_.allocate(spec["clusterIP"].get<std::string>());
    for (const auto& p : spec.value("ports", json::array()))
      if (p.value("nodePort", 0)) (void)nodePorts_.allocate(p["nodePort"].get<int>());
    if (spec.value("healthCheckNodePort", 0))
      (void)nodePorts_.allocate(spec["healthCheckNodePort"].get<int>());
  }
  cv_.notify_all();
}

}  // namespace floatlb::kubesim
