#include "kubesim/apiserver.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <regex>

#include "kubesim/patch.h"
#include "kubesim/status.h"
#include "kubesim/table.h"

namespace floatlb::kubesim {

namespace {

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(const std::string& in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out(in.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  for (auto it = in.rbegin(); it != in.rend() && *it == '='; ++it) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

bool parseBool(const std::string& v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

std::string q(const Request& r, const std::string& k) {
  auto it = r.query.find(k);
  return it == r.query.end() ? "" : it->second;
}

const std::regex kDns1123Label("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
const std::regex kDns1035Label("^[a-z]([-a-z0-9]*[a-z0-9])?$");
const std::regex kDns1123Sub("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
const std::regex kQualifiedName(
    "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/"
    ")?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$");

const char* kDns1035Msg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const char* kDns1123LabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const char* kDns1123SubMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

// The name rule of a resource: "" when `name` is valid, else the real server's explanation.
std::string nameRule(const std::string& plural, const std::string& name) {
  if (plural.find("role") != std::string::npos)  // RBAC: path segment names
    return name.find('/') != std::string::npos || name.find('%') != std::string::npos ? "may not contain '/'"
                                                                                      : "";
  struct Rule {
    const std::regex* re;
    size_t max;
    const char* msg;
  };
  Rule rule = plural == "services"     ? Rule{&kDns1035Label, 63, kDns1035Msg}
              : plural == "namespaces" ? Rule{&kDns1123Label, 63, kDns1123LabelMsg}
                                       : Rule{&kDns1123Sub, 253, kDns1123SubMsg};
  return name.size() > rule.max || !std::regex_match(name, *rule.re) ? rule.msg : "";
}

// Field validation (`fieldValidation` = Strict | Warn (default) | Ignore): Strict ⇒ 400 "<prefix>strict
// decoding error: unknown field \"a\", …"; Warn ⇒ one warning per unknown field. Unknown fields are
// dropped, as decoding into the typed object does on a real server.
Status checkFields(const ResourceInfo& r, json& obj, const std::string& mode, const std::string& prefix,
                   std::vector<std::string>& warnings) {
  std::string msg;
  auto unknown = unknownFields(r, obj);
  for (const auto& u : unknown) msg += (msg.empty() ? "" : ", ") + std::string("unknown field \"") + u + "\"";
  if (mode == "Strict" && !msg.empty()) return badRequest(prefix + "strict decoding error: " + msg);
  for (const auto& u : unknown) {
    if (mode != "Ignore") warnings.push_back("unknown field \"" + u + "\"");
    eraseFieldPath(obj, u);
  }
  return okStatus();
}

std::string keyFor(const json& o) {
  return o["metadata"].value("namespace", "") + "/" + o["metadata"].value("name", "");
}

Response jsonResponse(int code, const json& body) {
  Response r;
  r.code = code;
  r.body = body.dump();
  return r;
}

Response errorResponse(const Error& e) {
  json s = statusOf(e);
  Response r = jsonResponse(httpCodeOf(s), s);
  if (r.code == 429 || r.code == 504) r.headers.emplace_back("Retry-After", "1");
  return r;
}

bool wantsTable(const std::string& accept) { return accept.find("as=Table") != std::string::npos; }

bool imageKnown(const std::vector<std::string>& pats, const std::string& image) {
  for (const auto& p : pats) {
    if (!p.empty() && p.back() == '*') {
      if (image.rfind(p.substr(0, p.size() - 1), 0) == 0) return true;
    } else if (image == p) {
      return true;
    }
  }
  return false;
}

bool podReady(const json& pod) {
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

json condition(const std::string& type, const std::string& status, const std::string& ts,
               const std::string& reason = "", const std::string& message = "") {
  json c = {{"type", type}, {"status", status}, {"lastProbeTime", nullptr}, {"lastTransitionTime", ts}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

}  // namespace

struct ApiServer::Parsed {
  const ResourceInfo* res = nullptr;
  std::string ns, name, sub;
  bool collection = true;
};

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

// ---------------------------------------------------------------------------------------------- reads

Result<Response> ApiServer::doGet(const Request& req, const Parsed& p) {
  const json* o = store_.get(p.res->plural, p.ns, p.name);
  if (!o) return notFound(p.res->plural, p.res->group, p.name);
  if (wantsTable(req.accept)) {
    Response r = jsonResponse(200, renderTable(p.res->plural, {*o}, now(), q(req, "includeObject"), ""));
    r.contentType = "application/json;as=Table;v=v1;g=meta.k8s.io";
    return r;
  }
  return jsonResponse(200, *o);
}

Result<Response> ApiServer::doList(const Request& req, const Parsed& p) {
  FLB_ASSIGN_OR_RETURN(LabelSelector ls, parseLabelSelector(q(req, "labelSelector")));
  FLB_ASSIGN_OR_RETURN(FieldSelector fs, parseFieldSelector(p.res->plural, q(req, "fieldSelector")));
  std::string rvs = q(req, "resourceVersion");
  if (!rvs.empty() && rvs != "0") {
    uint64_t rv = std::strtoull(rvs.c_str(), nullptr, 10);
    if (rv > store_.revision()) FLB_TRY(store_.since(rv));  // 504 Too large resource version
    if (q(req, "resourceVersionMatch") == "Exact" && rv != store_.revision())
      return apiError(410, "Expired",
                      "too old resource version: " + rvs + " (" + std::to_string(store_.revision()) + ")");
  }
  std::string listRv = std::to_string(store_.revision());
  std::string start;
  if (!q(req, "continue").empty()) {
    auto raw = unbase64(q(req, "continue"));
    json tok = raw ? json::parse(*raw, nullptr, false) : json();
    if (!tok.is_object()) return badRequest("continue key is not valid: illegal base64 data");
    uint64_t trv = tok.value("rv", uint64_t{0});
    if (trv < store_.compactedRevision())
      return apiError(
          410, "Expired",
          "The provided continue parameter is too old to display a consistent list result. You can start "
          "a new list without the continue parameter.");
    listRv = std::to_string(trv);
    start = tok.value("start", "");
  }
  int64_t limit = std::atoll(q(req, "limit").c_str());
  std::vector<json> items;
  std::string cont;
  int64_t remaining = 0;
  for (const json* o : store_.list(p.res->plural, p.ns)) {
    if (!start.empty() && keyFor(*o) <= start) continue;
    if (!ls.matches((*o)["metadata"].value("labels", json::object())) || !fs.matches(p.res->plural, *o))
      continue;
    if (limit > 0 && static_cast<int64_t>(items.size()) >= limit) {
      ++remaining;
      continue;
    }
    items.push_back(*o);
  }
  if (remaining > 0) cont = base64(json{{"rv", std::stoull(listRv)}, {"start", keyFor(items.back())}}.dump());
  if (wantsTable(req.accept)) {
    json t = renderTable(p.res->plural, items, now(), q(req, "includeObject"), listRv);
    if (!cont.empty()) {
      t["metadata"]["continue"] = cont;
      t["metadata"]["remainingItemCount"] = remaining;
    }
    Response r = jsonResponse(200, t);
    r.contentType = "application/json;as=Table;v=v1;g=meta.k8s.io";
    return r;
  }
  json list = {{"kind", p.res->kind + "List"},
               {"apiVersion", p.res->apiVersion()},
               {"metadata", {{"resourceVersion", listRv}}},
               {"items", json::array()}};
  if (!cont.empty()) {
    list["metadata"]["continue"] = cont;
    list["metadata"]["remainingItemCount"] = remaining;
  }
  for (auto& o : items) {
    o.erase("kind");
    o.erase("apiVersion");
    list["items"].push_back(std::move(o));
  }
  return jsonResponse(200, list);
}

bool ApiServer::matches(const WatchCursor& c, const json& obj) const {
  if (!c.ns.empty() && obj["metadata"].value("namespace", "") != c.ns) return false;
  return c.labels.matches(obj["metadata"].value("labels", json::object())) &&
         c.fields.matches(c.res->plural, obj);
}

std::string ApiServer::eventLine(const std::string& type, const WatchCursor& c, const json& obj) {
  json o;
  if (c.table) {
    o = renderTable(c.res->plural, {obj}, now(), c.includeObject, "", !c.columnsSent);
  } else {
    o = obj;
  }
  return json{{"type", type}, {"object", o}}.dump() + "\n";
}

std::string ApiServer::bookmarkLine(const WatchCursor& c) {
  std::lock_guard<std::mutex> l(mu_);
  return json{{"type", "BOOKMARK"},
              {"object",
               {{"kind", c.res->kind},
                {"apiVersion", c.res->apiVersion()},
                {"metadata", {{"resourceVersion", std::to_string(c.rv)}}}}}}
             .dump() +
         "\n";
}

Result<Response> ApiServer::doWatch(const Request& req, const Parsed& p) {
  auto c = std::make_shared<WatchCursor>();
  c->res = p.res;
  c->ns = p.ns;
  FLB_ASSIGN_OR_RETURN(c->labels, parseLabelSelector(q(req, "labelSelector")));
  FLB_ASSIGN_OR_RETURN(c->fields, parseFieldSelector(p.res->plural, q(req, "fieldSelector")));
  if (parseBool(q(req, "sendInitialEvents")))
    return apiError(400, "BadRequest", "sendInitialEvents is not supported by this server");
  c->bookmarks = parseBool(q(req, "allowWatchBookmarks"));
  c->table = wantsTable(req.accept);
  c->includeObject = q(req, "includeObject");
  c->timeoutSeconds = std::atoi(q(req, "timeoutSeconds").c_str());
  c->dropGen = dropGen_;
  std::string rvs = q(req, "resourceVersion");
  if (rvs.empty() || rvs == "0") {
    c->rv = store_.revision();
    for (const json* o : store_.list(p.res->plural, p.ns))
      if (matches(*c, *o)) {
        c->pending.push_back(eventLine("ADDED", *c, *o));
        c->columnsSent = true;
      }
  } else {
    c->rv = std::strtoull(rvs.c_str(), nullptr, 10);
    auto ev = store_.since(c->rv);
    if (!ev.ok()) {
      json st = statusOf(ev.error());
      if (httpCodeOf(st) != 410) return ev.error();
      c->pending.push_back(json{{"type", "ERROR"}, {"object", st}}.dump() + "\n");
      c->endAfterPending = true;
    }
  }
  Response r;
  r.contentType = c->table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
  r.watch = c;
  return r;
}

ApiServer::WatchStep ApiServer::pollWatch(WatchCursor& c, std::chrono::milliseconds wait, std::string& out) {
  std::unique_lock<std::mutex> l(mu_);
  for (int round = 0; round < 2; ++round) {
    if (c.dropGen != dropGen_) return dropReset_ ? WatchStep::kReset : WatchStep::kEnd;
    if (!c.pending.empty()) {
      while (!c.pending.empty()) {
        out += c.pending.front();
        c.pending.pop_front();
      }
      return WatchStep::kData;
    }
    if (c.endAfterPending) return WatchStep::kEnd;
    auto ev = store_.since(c.rv);
    if (!ev.ok()) {
      out += json{{"type", "ERROR"}, {"object", statusOf(ev.error())}}.dump() + "\n";
      c.endAfterPending = true;
      return WatchStep::kData;
    }
    for (const StoreEvent* e : *ev) {
      if (e->resource != c.res->plural) continue;
      bool now = e->type != "DELETED" && matches(c, e->object);
      bool before = !e->prev.is_null() && matches(c, e->prev);
      std::string type;
      if (e->type == "ADDED" && now) type = "ADDED";
      if (e->type == "MODIFIED") type = now && before ? "MODIFIED" : now ? "ADDED" : before ? "DELETED" : "";
      if (e->type == "DELETED" && before) type = "DELETED";
      if (type.empty()) continue;
      out += eventLine(type, c, e->object);
      c.columnsSent = true;
    }
    c.rv = store_.revision();
    if (!out.empty()) return WatchStep::kData;
    if (round == 0) cv_.wait_for(l, wait);
  }
  return WatchStep::kIdle;
}

// ---------------------------------------------------------------------------------------------- writes

Result<json> ApiServer::decodeBody(const Request& req, const ResourceInfo& r,
                                   std::vector<std::string>& warnings) {
  if (req.contentType.find("protobuf") != std::string::npos)
    return apiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json, application/yaml");
  json obj = json::parse(req.body, nullptr, false);
  if (obj.is_discarded() || !obj.is_object())
    return badRequest(r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind +
                      ": couldn't get version/kind; json parse error: unexpected end of JSON input");
  FLB_TRY(checkFields(r, obj, q(req, "fieldValidation"),
                      r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind + ": ",
                      warnings));
  if (obj.contains("kind") && obj["kind"] != r.kind)
    return badRequest(r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind +
                      ": the kind in the data (" + obj.value("kind", "") +
                      ") does not match the expected kind");
  obj["kind"] = r.kind;
  obj["apiVersion"] = r.apiVersion();
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  return obj;
}

namespace {
Response withWarnings(Response r, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) {  // 299 - "<text>" with the text quoted as Go's strconv.Quote does
    std::string quoted;
    for (char c : w) quoted += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    r.headers.emplace_back("Warning", "299 - \"" + quoted + "\"");
  }
  return r;
}
}  // namespace

Result<Response> ApiServer::doCreate(const Request& req, const Parsed& p) {
  std::vector<std::string> warnings;
  FLB_ASSIGN_OR_RETURN(json obj, decodeBody(req, *p.res, warnings));
  if (p.res->namespaced) {
    std::string bns = obj["metadata"].value("namespace", "");
    if (!bns.empty() && bns != p.ns)
      return badRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    obj["metadata"]["namespace"] = p.ns;
  }
  if (q(req, "dryRun") == "All") return withWarnings(jsonResponse(201, obj), warnings);
  FLB_ASSIGN_OR_RETURN(json created, createObject(*p.res, std::move(obj)));
  return withWarnings(jsonResponse(201, created), warnings);
}

Result<json> ApiServer::createObject(const ResourceInfo& r, json obj) {
  json& md = obj["metadata"];
  if (r.namespaced) {
    std::string ns = md.value("namespace", "");
    const json* nso = store_.get("namespaces", "", ns);
    if (!nso) return notFound("namespaces", "", ns);
    if (nso->contains("/metadata/deletionTimestamp"_json_pointer))
      return apiError(403, "Forbidden",
                      r.plural + " \"" + md.value("name", "") +
                          "\" is forbidden: unable to create new content in namespace " + ns +
                          " because it is being terminated");
  } else {
    md.erase("namespace");
  }
  std::string name = md.value("name", "");
  if (name.empty() && md.value("generateName", "") != "") {
    for (int i = 0; i < 8 && (name.empty() || store_.get(r.plural, md.value("namespace", ""), name)); ++i)
      name = md["generateName"].get<std::string>() + randSuffix(5);
    md["name"] = name;
  }
  if (name.empty())
    return invalid(
        r.kind, r.group, "",
        {{"metadata.name", "FieldValueRequired", "Required value: name or generateName is required"}});
  std::string rule = nameRule(r.plural, name);
  if (!rule.empty())
    return invalid(r.kind, r.group, name,
                   {{"metadata.name", "FieldValueInvalid", "Invalid value: \"" + name + "\": " + rule}});
  if (store_.get(r.plural, md.value("namespace", ""), name)) {
    json d = {{"name", name}, {"kind", r.plural}};
    if (!r.group.empty()) d["group"] = r.group;
    return apiError(
        409, "AlreadyExists",
        (r.group.empty() ? r.plural : r.plural + "." + r.group) + " \"" + name + "\" already exists", d);
  }
  md["uid"] = uuid();
  md["creationTimestamp"] = rfc3339(now());
  for (const char* k :
       {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"})
    md.erase(k);
  md.erase("generation");
  if (r.plural == "deployments") md["generation"] = 1;
  if (r.plural == "services") {
    obj["status"] = {{"loadBalancer", json::object()}};
    FLB_TRY(admitService(obj, nullptr));
  } else if (r.plural == "pods") {
    FLB_TRY(admitPod(obj, nullptr));
  } else if (r.plural == "deployments") {
    obj["status"] = json::object();
    FLB_TRY(admitDeployment(obj, nullptr));
  } else if (r.plural == "nodes") {
    if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
    if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = json::object();
  } else if (r.plural == "namespaces") {
    md["labels"]["kubernetes.io/metadata.name"] = name;
    obj["spec"] = {{"finalizers", {"kubernetes"}}};
    obj["status"] = {{"phase", "Active"}};
  } else if (r.plural == "secrets") {
    if (obj.contains("stringData")) {
      for (auto it = obj["stringData"].begin(); it != obj["stringData"].end(); ++it)
        obj["data"][it.key()] = base64(it.value().get<std::string>());
      obj.erase("stringData");
    }
    if (!obj.contains("type")) obj["type"] = "Opaque";
  } else if (r.plural == "events") {
    if (!obj.contains("count")) obj["count"] = 1;
  }
  return store_.put(r.plural, std::move(obj));
}

Result<Response> ApiServer::doUpdate(const Request& req, const Parsed& p) {
  std::vector<std::string> warnings;
  FLB_ASSIGN_OR_RETURN(json obj, decodeBody(req, *p.res, warnings));
  std::string bname = obj["metadata"].value("name", "");
  if (bname != p.name)
    return badRequest("the name of the object (" + bname + ") does not match the name on the URL (" + p.name +
                      ")");
  if (p.res->namespaced) {
    std::string bns = obj["metadata"].value("namespace", "");
    if (!bns.empty() && bns != p.ns)
      return badRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    obj["metadata"]["namespace"] = p.ns;
  }
  const json* cur = store_.get(p.res->plural, p.ns, p.name);
  if (!cur) return notFound(p.res->plural, p.res->group, p.name);
  json curCopy = *cur;
  FLB_ASSIGN_OR_RETURN(json out, updateObject(*p.res, curCopy, std::move(obj), p.sub));
  return withWarnings(jsonResponse(200, out), warnings);
}

Result<Response> ApiServer::doPatch(const Request& req, const Parsed& p) {
  const json* curp = store_.get(p.res->plural, p.ns, p.name);
  if (!curp) return notFound(p.res->plural, p.res->group, p.name);
  json cur = *curp;
  json patch = json::parse(req.body, nullptr, false);
  if (patch.is_discarded()) return badRequest("error decoding patch: invalid character in JSON");
  const std::string& ct = req.contentType;
  Result<json> patched = badRequest("");
  if (ct.rfind("application/merge-patch+json", 0) == 0) {
    patched = mergePatch(cur, patch);
  } else if (ct.rfind("application/json-patch+json", 0) == 0) {
    patched = jsonPatch(cur, patch);
  } else if (ct.rfind("application/strategic-merge-patch+json", 0) == 0) {
    patched = strategicMergePatch(cur, patch);
  } else if (ct.rfind("application/apply-patch+yaml", 0) == 0) {
    return apiError(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json "
        "(server-side apply is not implemented by kubesim)");
  } else {
    return apiError(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json");
  }
  if (!patched.ok()) return patched.error();
  json next = std::move(patched).value();
  std::vector<std::string> warnings;
  FLB_TRY(checkFields(*p.res, next, q(req, "fieldValidation"), "", warnings));
  next["kind"] = p.res->kind;
  next["apiVersion"] = p.res->apiVersion();
  if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = json::object();
  next["metadata"]["name"] = p.name;
  if (p.res->namespaced) next["metadata"]["namespace"] = p.ns;
  if (next["metadata"].value("resourceVersion", "") == "")
    next["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"];
  FLB_ASSIGN_OR_RETURN(json out, updateObject(*p.res, cur, std::move(next), p.sub));
  return withWarnings(jsonResponse(200, out), warnings);
}

Result<json> ApiServer::updateObject(const ResourceInfo& r, const json& cur, json next,
                                     const std::string& sub) {
  std::string rv = next["metadata"].value("resourceVersion", "");
  std::string curRv = cur["metadata"].value("resourceVersion", "");
  if (!rv.empty() && rv != curRv) {
    json d = {{"name", cur["metadata"].value("name", "")}, {"kind", r.plural}};
    if (!r.group.empty()) d["group"] = r.group;
    return apiError(
        409, "Conflict",
        "Operation cannot be fulfilled on " + (r.group.empty() ? r.plural : r.plural + "." + r.group) +
            " \"" + cur["metadata"].value("name", "") +
            "\": the object has been modified; please apply your changes to the latest version and try again",
        d);
  }
  json out;
  if (sub == "status") {
    out = cur;
    out["status"] = next.value("status", json::object());
  } else {
    out = std::move(next);
    json& md = out["metadata"];
    for (const char* k :
         {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
      if (cur["metadata"].contains(k)) {
        md[k] = cur["metadata"][k];
      } else {
        md.erase(k);
      }
    }
    md.erase("managedFields");
    if (r.hasStatus) {
      if (cur.contains("status")) {
        out["status"] = cur["status"];
      } else {
        out.erase("status");
      }
    }
    if (cur["metadata"].contains("deletionTimestamp")) {
      std::set<std::string> old;
      for (const auto& f : cur["metadata"].value("finalizers", json::array()))
        old.insert(f.get<std::string>());
      for (const auto& f : md.value("finalizers", json::array()))
        if (!old.count(f.get<std::string>()))
          return invalid(r.kind, r.group, md.value("name", ""),
                         {{"metadata.finalizers", "FieldValueForbidden",
                           "Forbidden: no new finalizers can be added if the object is being deleted, found "
                           "new finalizers []string{\"" +
                               f.get<std::string>() + "\"}"}});
    }
    if (md.contains("finalizers") && md["finalizers"].empty()) md.erase("finalizers");
  }
  if (r.plural == "services") {
    if (sub == "status") {
      std::vector<Cause> causes;
      const json ing = out.value("status", json::object())
                           .value("loadBalancer", json::object())
                           .value("ingress", json::array());
      for (size_t i = 0; i < ing.size(); ++i) {
        std::string f = fmt::format("status.loadBalancer.ingress[{}]", i);
        std::string ip = ing[i].value("ip", ""), host = ing[i].value("hostname", "");
        if (!ip.empty() && !parseIpv4(ip))
          causes.push_back(
              {f + ".ip", "FieldValueInvalid", "Invalid value: \"" + ip + "\": must be a valid IP address"});
        if (!host.empty()) {
          if (parseIpv4(host))
            causes.push_back({f + ".hostname", "FieldValueInvalid",
                              "Invalid value: \"" + host + "\": must be a DNS name, not an IP address"});
          else if (!std::regex_match(host, kDns1123Sub))
            causes.push_back(
                {f + ".hostname", "FieldValueInvalid", "Invalid value: \"" + host + "\": " + kDns1123SubMsg});
        }
        if (ing[i].contains("ipMode")) {
          std::string m = ing[i].value("ipMode", "");
          if (ip.empty())
            causes.push_back({f + ".ipMode", "FieldValueForbidden",
                              "Forbidden: may not be specified when `ip` is not set"});
          else if (m != "VIP" && m != "Proxy")
            causes.push_back({f + ".ipMode", "FieldValueNotSupported",
                              "Unsupported value: \"" + m + "\": supported values: \"Proxy\", \"VIP\""});
        }
        const json ports = ing[i].value("ports", json::array());
        for (size_t j = 0; j < ports.size(); ++j) {
          if (!ports[j].contains("port"))
            causes.push_back(
                {fmt::format("{}.ports[{}].port", f, j), "FieldValueRequired", "Required value"});
          if (!ports[j].contains("protocol"))
            causes.push_back(
                {fmt::format("{}.ports[{}].protocol", f, j), "FieldValueRequired", "Required value"});
        }
      }
      if (!causes.empty()) return invalid(r.kind, r.group, cur["metadata"].value("name", ""), causes);
    } else {
      FLB_TRY(admitService(out, &cur));
    }
  } else if (r.plural == "pods" && sub.empty()) {
    FLB_TRY(admitPod(out, &cur));
  } else if (r.plural == "deployments" && sub.empty()) {
    FLB_TRY(admitDeployment(out, &cur));
    if (out.value("spec", json::object()) != cur.value("spec", json::object()))
      out["metadata"]["generation"] = cur["metadata"].value("generation", 1) + 1;
  }
  if (out["metadata"].contains("deletionTimestamp") &&
      out["metadata"].value("finalizers", json::array()).empty() &&
      !(r.plural == "pods" && out["metadata"].value("deletionGracePeriodSeconds", 0) > 0 &&
        out.value("spec", json::object()).value("nodeName", "") != "")) {
    finalizeDelete(r, out);
    return out;
  }
  return store_.put(r.plural, std::move(out));
}

void ApiServer::finalizeDelete(const ResourceInfo& r, const json& obj) {
  if (r.plural == "services") releaseService(obj);
  if (r.plural == "pods") {
    std::string node = obj.value("spec", json::object()).value("nodeName", "");
    std::string ip = obj.value("status", json::object()).value("podIP", "");
    if (!ip.empty()) podIpsUsed_[node].erase(ip);
  }
  store_.erase(r.plural, obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
}

Result<Response> ApiServer::doDelete(const Request& req, const Parsed& p) {
  const json* curp = store_.get(p.res->plural, p.ns, p.name);
  if (!curp) return notFound(p.res->plural, p.res->group, p.name);
  json opts = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (!opts.is_object()) return badRequest("error decoding DeleteOptions");
  if (!q(req, "gracePeriodSeconds").empty())
    opts["gracePeriodSeconds"] = std::atoi(q(req, "gracePeriodSeconds").c_str());
  if (!q(req, "propagationPolicy").empty()) opts["propagationPolicy"] = q(req, "propagationPolicy");
  json cur = *curp;
  if (opts.contains("preconditions")) {
    const json& pc = opts["preconditions"];
    if (pc.value("uid", "") != "" && pc["uid"] != cur["metadata"]["uid"])
      return apiError(409, "Conflict",
                      "Precondition failed: UID in precondition: " + pc.value("uid", "") +
                          ", UID in object meta: " + cur["metadata"].value("uid", ""));
    if (pc.value("resourceVersion", "") != "" && pc["resourceVersion"] != cur["metadata"]["resourceVersion"])
      return apiError(
          409, "Conflict",
          "Precondition failed: ResourceVersion in precondition: " + pc.value("resourceVersion", "") +
              ", ResourceVersion in object meta: " + cur["metadata"].value("resourceVersion", ""));
  }
  if (q(req, "dryRun") == "All") return jsonResponse(200, cur);
  FLB_ASSIGN_OR_RETURN(json out, deleteObject(*p.res, cur, opts));
  return jsonResponse(200, out);
}

Result<json> ApiServer::deleteObject(const ResourceInfo& r, const json& cur, const json& opts) {
  json obj = cur;
  json& md = obj["metadata"];
  bool hasFinalizers = !md.value("finalizers", json::array()).empty();
  auto successStatus = [&] {
    json d = {{"name", md.value("name", "")}, {"kind", r.plural}, {"uid", md.value("uid", "")}};
    if (!r.group.empty()) d["group"] = r.group;
    return json{{"kind", "Status"},
                {"apiVersion", "v1"},
                {"metadata", json::object()},
                {"status", "Success"},
                {"details", d}};
  };
  bool returnsObject = r.plural == "services" || r.plural == "pods" || r.plural == "namespaces";
  if (r.plural == "pods" && obj.value("spec", json::object()).value("nodeName", "") != "") {
    int grace = opts.contains("gracePeriodSeconds") && opts["gracePeriodSeconds"].is_number()
                    ? opts["gracePeriodSeconds"].get<int>()
                    : obj["spec"].value("terminationGracePeriodSeconds", 30);
    if (grace > 0 || hasFinalizers) {
      int64_t deadline = now() + grace * 1000LL;
      if (md.contains("deletionTimestamp")) {
        auto old = parseTime(md["deletionTimestamp"].get<std::string>());
        if (old && *old <= deadline) return obj;
      }
      md["deletionTimestamp"] = rfc3339(deadline);
      md["deletionGracePeriodSeconds"] = grace;
      return store_.put(r.plural, std::move(obj));
    }
  }
  if (r.plural == "namespaces") {
    if (!md.contains("deletionTimestamp")) {
      md["deletionTimestamp"] = rfc3339(now());
      md["deletionGracePeriodSeconds"] = 0;
      obj["status"]["phase"] = "Terminating";
      return store_.put(r.plural, std::move(obj));
    }
    return obj;
  }
  if (hasFinalizers) {
    if (md.contains("deletionTimestamp")) return obj;
    md["deletionTimestamp"] = rfc3339(now());
    md["deletionGracePeriodSeconds"] = 0;
    return store_.put(r.plural, std::move(obj));
  }
  finalizeDelete(r, obj);
  return returnsObject ? obj : successStatus();
}

// ---------------------------------------------------------------------------------------------- kinds

Status ApiServer::admitService(json& obj, const json* old) {
  const std::string name = obj["metadata"].value("name", "");
  if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
  json& spec = obj["spec"];
  const json oldSpec = old ? old->value("spec", json::object()) : json::object();
  std::vector<Cause> causes;
  std::string type = spec.value("type", "ClusterIP");
  spec["type"] = type;
  static const std::set<std::string> types = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"};
  if (!types.count(type))
    causes.push_back(
        {"spec.type", "FieldValueNotSupported",
         "Unsupported value: \"" + type +
             "\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""});
  bool external = type == "NodePort" || type == "LoadBalancer";
  bool typeChanged = old && oldSpec.value("type", "ClusterIP") != type;
  if (spec.contains("loadBalancerClass") && !spec["loadBalancerClass"].is_null()) {
    std::string cls = spec["loadBalancerClass"].get<std::string>();
    if (type != "LoadBalancer") {
      if (typeChanged && oldSpec.value("loadBalancerClass", json()) == spec["loadBalancerClass"])
        spec.erase("loadBalancerClass");
      else
        causes.push_back({"spec.loadBalancerClass", "FieldValueForbidden",
                          "Forbidden: may only be used when `type` is 'LoadBalancer'"});
    } else if (!std::regex_match(cls, kQualifiedName) || cls.find('/') == std::string::npos) {
      causes.push_back({"spec.loadBalancerClass", "FieldValueInvalid",
                        "Invalid value: \"" + cls +
                            "\": must be a label-style value with a prefix (e.g. 'example.com/name')"});
    }
  }
  if (old && oldSpec.value("type", "") == "LoadBalancer" && type == "LoadBalancer" &&
      oldSpec.contains("loadBalancerClass") &&
      oldSpec["loadBalancerClass"] != spec.value("loadBalancerClass", json()))
    causes.push_back({"spec.loadBalancerClass", "FieldValueInvalid",
                      "Invalid value: " + spec.value("loadBalancerClass", json("null")).dump() +
                          ": may not change once set"});
  if (spec.value("loadBalancerIP", "") != "" && !parseIpv4(spec["loadBalancerIP"].get<std::string>()))
    causes.push_back(
        {"spec.loadBalancerIP", "FieldValueInvalid",
         "Invalid value: \"" + spec["loadBalancerIP"].get<std::string>() + "\": must be a valid IP address"});
  if (spec.contains("selector") && spec["selector"].is_object())
    for (auto it = spec["selector"].begin(); it != spec["selector"].end(); ++it)
      if (!std::regex_match(it.key(), kQualifiedName))
        causes.push_back({"spec.selector", "FieldValueInvalid",
                          "Invalid value: \"" + it.key() +
                              "\": name part must consist of alphanumeric characters, '-', '_' or '.'"});
  if (!spec.contains("ports") || !spec["ports"].is_array()) spec["ports"] = json::array();
  json& ports = spec["ports"];
  if (ports.empty() && type != "ExternalName" && spec.value("clusterIP", "") != "None")
    causes.push_back({"spec.ports", "FieldValueRequired", "Required value"});
  std::set<std::string> names;
  std::set<std::pair<int, std::string>> seen;
  for (size_t i = 0; i < ports.size(); ++i) {
    json& pt = ports[i];
    std::string f = fmt::format("spec.ports[{}]", i);
    int port = pt.value("port", 0);
    if (port < 1 || port > 65535)
      causes.push_back({f + ".port", "FieldValueInvalid",
                        fmt::format("Invalid value: {}: must be between 1 and 65535, inclusive", port)});
    std::string proto = pt.value("protocol", "TCP");
    pt["protocol"] = proto;
    if (proto != "TCP" && proto != "UDP" && proto != "SCTP")
      causes.push_back(
          {f + ".protocol", "FieldValueNotSupported",
           "Unsupported value: \"" + proto + "\": supported values: \"SCTP\", \"TCP\", \"UDP\""});
    if (!pt.contains("targetPort")) pt["targetPort"] = port;
    std::string pname = pt.value("name", "");
    if (ports.size() > 1 && pname.empty())
      causes.push_back({f + ".name", "FieldValueRequired", "Required value"});
    if (!pname.empty() && !names.insert(pname).second)
      causes.push_back({f + ".name", "FieldValueDuplicate", "Duplicate value: \"" + pname + "\""});
    if (!seen.insert({port, proto}).second)
      causes.push_back(
          {f, "FieldValueDuplicate",
           fmt::format("Duplicate value: core.ServicePort{{Name:\"{}\", Protocol:\"{}\", Port:{}}}", pname,
                       proto, port)});
    if (!external && pt.value("nodePort", 0) != 0) {
      bool carried = typeChanged;
      if (carried) {
        pt.erase("nodePort");
      } else {
        causes.push_back({f + ".nodePort", "FieldValueForbidden",
                          "Forbidden: may not be used when `type` is '" + type + "'"});
      }
    }
  }
  std::string etp = spec.value("externalTrafficPolicy", "");
  if (external) {
    if (etp.empty()) spec["externalTrafficPolicy"] = etp = "Cluster";
    if (etp != "Cluster" && etp != "Local")
      causes.push_back({"spec.externalTrafficPolicy", "FieldValueNotSupported",
                        "Unsupported value: \"" + etp + "\": supported values: \"Cluster\", \"Local\""});
  } else if (!etp.empty()) {
    if (typeChanged)
      spec.erase("externalTrafficPolicy");
    else
      causes.push_back(
          {"spec.externalTrafficPolicy", "FieldValueInvalid",
           "Invalid value: \"" + etp + "\": may only be set for externally-accessible services"});
  }
  bool needHc = type == "LoadBalancer" && etp == "Local";
  if (!needHc && spec.value("healthCheckNodePort", 0) != 0) {
    if (old && oldSpec.value("healthCheckNodePort", 0) == spec["healthCheckNodePort"])
      spec.erase("healthCheckNodePort");
    else
      causes.push_back(
          {"spec.healthCheckNodePort", "FieldValueInvalid",
           "Invalid value: " + spec["healthCheckNodePort"].dump() +
               ": may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"});
  }
  if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
  if (type != "ExternalName") {
    if (!spec.contains("internalTrafficPolicy")) spec["internalTrafficPolicy"] = "Cluster";
    if (!spec.contains("ipFamilies")) spec["ipFamilies"] = {"IPv4"};
    if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
  }
  if (type == "LoadBalancer" && !spec.contains("allocateLoadBalancerNodePorts"))
    spec["allocateLoadBalancerNodePorts"] = true;
  if (type != "LoadBalancer") spec.erase("allocateLoadBalancerNodePorts");
  if (!causes.empty()) return invalid("Service", "", name, causes);

  // Allocation: all-or-nothing; what this call took is released again on failure.
  std::vector<int> tookPorts;
  std::string tookIp;
  auto rollback = [&] {
    for (int p : tookPorts) nodePorts_.release(p);
    if (!tookIp.empty()) clusterIps_.release(tookIp);
  };
  std::string oldIp = oldSpec.value("clusterIP", "");
  if (type == "ExternalName") {
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
  } else if (old && !oldIp.empty()) {
    std::string want = spec.value("clusterIP", "");
    if (want.empty()) {
      spec["clusterIP"] = oldIp;
    } else if (want != oldIp) {
      return invalid("Service", "", name,
                     {{"spec.clusterIPs[0]", "FieldValueInvalid",
                       "Invalid value: []string{\"" + want + "\"}: may not change once set"}});
    }
  } else {
    std::string want = spec.value("clusterIP", "");
    if (want.empty() && spec.contains("clusterIPs") && !spec["clusterIPs"].empty())
      want = spec["clusterIPs"][0].get<std::string>();
    if (want == "None") {
      spec["clusterIP"] = "None";
    } else if (!want.empty()) {
      std::string err = clusterIps_.allocate(want);
      if (!err.empty())
        return invalid(
            "Service", "", name,
            {{"spec.clusterIPs", "FieldValueInvalid", "Invalid value: []string{\"" + want + "\"}: " + err}});
      tookIp = want;
      spec["clusterIP"] = want;
    } else {
      auto ip = clusterIps_.allocateNext(rng_);
      if (!ip)
        return apiError(500, "InternalError",
                        "Internal error occurred: failed to allocate a serviceIP: range is full");
      tookIp = *ip;
      spec["clusterIP"] = *ip;
    }
  }
  if (spec.contains("clusterIP")) spec["clusterIPs"] = {spec["clusterIP"]};
  bool needNodePorts =
      external && (type != "LoadBalancer" || spec.value("allocateLoadBalancerNodePorts", true));
  std::set<int> oldPorts;
  std::map<std::string, int> oldByName;
  for (const auto& op : oldSpec.value("ports", json::array()))
    if (op.value("nodePort", 0)) {
      oldPorts.insert(op["nodePort"].get<int>());
      oldByName[op.value("name", "")] = op["nodePort"].get<int>();
    }
  std::set<int> keep;
  if (external) {
    std::set<int> usedNew;
    for (const auto& pt : ports)
      if (pt.value("nodePort", 0)) usedNew.insert(pt["nodePort"].get<int>());
    for (size_t i = 0; i < ports.size(); ++i) {
      json& pt = ports[i];
      int np = pt.value("nodePort", 0);
      if (np == 0 && oldByName.count(pt.value("name", "")) &&
          !usedNew.count(oldByName[pt.value("name", "")])) {
        np = oldByName[pt.value("name", "")];
        usedNew.insert(np);
        pt["nodePort"] = np;
      }
      if (np != 0) {
        if (oldPorts.count(np) || keep.count(np)) {
          keep.insert(np);
          continue;
        }
        std::string err = nodePorts_.allocate(np);
        if (!err.empty()) {
          rollback();
          return invalid("Service", "", name,
                         {{fmt::format("spec.ports[{}].nodePort", i), "FieldValueInvalid",
                           fmt::format("Invalid value: {}: {}", np, err)}});
        }
        tookPorts.push_back(np);
        keep.insert(np);
      } else if (needNodePorts) {
        auto got = nodePorts_.allocateNext(rng_);
        if (!got) {
          rollback();
          return apiError(500, "InternalError",
                          "Internal error occurred: failed to allocate a nodePort: range is full");
        }
        tookPorts.push_back(*got);
        keep.insert(*got);
        pt["nodePort"] = *got;
      }
    }
  }
  int oldHc = oldSpec.value("healthCheckNodePort", 0);
  if (needHc) {
    int hc = spec.value("healthCheckNodePort", 0);
    if (hc == 0 && oldHc) hc = oldHc;
    if (hc != 0 && hc != oldHc) {
      std::string err = nodePorts_.allocate(hc);
      if (!err.empty()) {
        rollback();
        return invalid("Service", "", name,
                       {{"spec.healthCheckNodePort", "FieldValueInvalid",
                         fmt::format("Invalid value: {}: {}", hc, err)}});
      }
      tookPorts.push_back(hc);
    } else if (hc == 0) {
      auto got = nodePorts_.allocateNext(rng_);
      if (!got) {
        rollback();
        return apiError(500, "InternalError",
                        "Internal error occurred: failed to allocate a nodePort: range is full");
      }
      tookPorts.push_back(*got);
      hc = *got;
    }
    spec["healthCheckNodePort"] = hc;
  }
  // Success: release what the old version held and the new one does not.
  for (int p : oldPorts)
    if (!keep.count(p)) nodePorts_.release(p);
  if (oldHc && spec.value("healthCheckNodePort", 0) != oldHc) nodePorts_.release(oldHc);
  if (type == "ExternalName" && !oldIp.empty() && oldIp != "None") clusterIps_.release(oldIp);
  return okStatus();
}

void ApiServer::releaseService(const json& obj) {
  const json spec = obj.value("spec", json::object());
  std::string ip = spec.value("clusterIP", "");
  if (!ip.empty() && ip != "None") clusterIps_.release(ip);
  for (const auto& p : spec.value("ports", json::array()))
    if (p.value("nodePort", 0)) nodePorts_.release(p["nodePort"].get<int>());
  if (spec.value("healthCheckNodePort", 0)) nodePorts_.release(spec["healthCheckNodePort"].get<int>());
}

void ApiServer::defaultPodSpec(json& spec) {
  auto dflt = [&](const char* k, json v) {
    if (!spec.contains(k)) spec[k] = std::move(v);
  };
  dflt("restartPolicy", "Always");
  dflt("dnsPolicy", "ClusterFirst");
  dflt("terminationGracePeriodSeconds", 30);
  dflt("schedulerName", "default-scheduler");
  dflt("serviceAccountName", "default");
  if (!spec.contains("serviceAccount")) spec["serviceAccount"] = spec["serviceAccountName"];
  dflt("securityContext", json::object());
  dflt("enableServiceLinks", true);
  dflt("preemptionPolicy", "PreemptLowerPriority");
  dflt("priority", 0);
  dflt("tolerations", json::array({{{"key", "node.kubernetes.io/not-ready"},
                                    {"operator", "Exists"},
                                    {"effect", "NoExecute"},
                                    {"tolerationSeconds", 300}},
                                   {{"key", "node.kubernetes.io/unreachable"},
                                    {"operator", "Exists"},
                                    {"effect", "NoExecute"},
                                    {"tolerationSeconds", 300}}}));
  for (const char* list : {"containers", "initContainers"}) {
    if (!spec.contains(list)) continue;
    for (auto& c : spec[list]) {
      std::string image = c.value("image", "");
      auto colon = image.rfind(':');
      bool latest = colon == std::string::npos || image.find('/', colon) != std::string::npos ||
                    image.substr(colon + 1) == "latest";
      if (!c.contains("imagePullPolicy")) c["imagePullPolicy"] = latest ? "Always" : "IfNotPresent";
      if (!c.contains("terminationMessagePath")) c["terminationMessagePath"] = "/dev/termination-log";
      if (!c.contains("terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
      if (!c.contains("resources")) c["resources"] = json::object();
      if (c.contains("ports"))
        for (auto& p : c["ports"])
          if (!p.contains("protocol")) p["protocol"] = "TCP";
    }
  }
}

Status ApiServer::admitPod(json& obj, const json* old) {
  const std::string name = obj["metadata"].value("name", "");
  if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
  json& spec = obj["spec"];
  defaultPodSpec(spec);
  std::vector<Cause> causes;
  if (!spec.contains("containers") || !spec["containers"].is_array() || spec["containers"].empty()) {
    causes.push_back({"spec.containers", "FieldValueRequired", "Required value"});
  } else {
    std::set<std::string> names;
    for (size_t i = 0; i < spec["containers"].size(); ++i) {
      const json& c = spec["containers"][i];
      std::string f = fmt::format("spec.containers[{}]", i);
      if (c.value("name", "") == "")
        causes.push_back({f + ".name", "FieldValueRequired", "Required value"});
      else if (!names.insert(c["name"].get<std::string>()).second)
        causes.push_back({f + ".name", "FieldValueDuplicate",
                          "Duplicate value: \"" + c["name"].get<std::string>() + "\""});
      if (c.value("image", "") == "")
        causes.push_back({f + ".image", "FieldValueRequired", "Required value"});
    }
  }
  if (!causes.empty()) return invalid("Pod", "", name, causes);
  if (!old) {
    obj["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
    return okStatus();
  }
  json a = old->value("spec", json::object()), b = spec;
  for (json* s : {&a, &b}) {
    for (const char* list : {"containers", "initContainers"})
      if (s->contains(list))
        for (auto& c : (*s)[list]) c.erase("image");
    s->erase("activeDeadlineSeconds");
    s->erase("tolerations");
    s->erase("terminationGracePeriodSeconds");
  }
  if (a != b)
    return invalid(
        "Pod", "", name,
        {{"spec", "FieldValueForbidden",
          "Forbidden: pod updates may not change fields other than "
          "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec."
          "tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow "
          "it to be set to 1 if it was previously negative)"}});
  return okStatus();
}

Status ApiServer::admitDeployment(json& obj, const json* /*old*/) {
  const std::string name = obj["metadata"].value("name", "");
  if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = json::object();
  json& spec = obj["spec"];
  if (!spec.contains("replicas")) spec["replicas"] = 1;
  if (!spec.contains("strategy"))
    spec["strategy"] = {{"type", "RollingUpdate"},
                        {"rollingUpdate", {{"maxUnavailable", "25%"}, {"maxSurge", "25%"}}}};
  if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
  if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
  std::vector<Cause> causes;
  if (!spec.contains("selector")) causes.push_back({"spec.selector", "FieldValueRequired", "Required value"});
  json labels = spec.contains("/template/metadata/labels"_json_pointer)
                    ? spec["/template/metadata/labels"_json_pointer]
                    : json::object();
  if (spec.contains("selector") && !selectorFromJson(spec["selector"]).matches(labels))
    causes.push_back({"spec.template.metadata.labels", "FieldValueInvalid",
                      "Invalid value: " + labels.dump() + ": `selector` does not match template `labels`"});
  if (!spec.contains("/template/spec/containers"_json_pointer) ||
      spec["/template/spec/containers"_json_pointer].empty())
    causes.push_back({"spec.template.spec.containers", "FieldValueRequired", "Required value"});
  if (!causes.empty()) return invalid("Deployment", "apps", name, causes);
  if (!spec["template"].contains("metadata")) spec["template"]["metadata"] = json::object();
  spec["template"]["metadata"]["creationTimestamp"] = nullptr;
  defaultPodSpec(spec["template"]["spec"]);
  return okStatus();
}

// ---------------------------------------------------------------------------------------------- controllers

void ApiServer::recordEvent(const json& inv, const std::string& type, const std::string& reason,
                            const std::string& message, const std::string& component,
                            const std::string& host) {
  const json& md = inv["metadata"];
  std::string ts = rfc3339(now());
  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata",
              {{"name", md.value("name", "") + "." + fmt::format("{:016x}", rng_())},
               {"namespace", md.value("namespace", "default")}}},
             {"involvedObject",
              {{"kind", inv.value("kind", "")},
               {"namespace", md.value("namespace", "")},
               {"name", md.value("name", "")},
               {"uid", md.value("uid", "")},
               {"apiVersion", inv.value("apiVersion", "v1")},
               {"resourceVersion", md.value("resourceVersion", "")}}},
             {"reason", reason},
             {"message", message},
             {"source",
              host.empty() ? json{{"component", component}} : json{{"component", component}, {"host", host}}},
             {"firstTimestamp", ts},
             {"lastTimestamp", ts},
             {"count", 1},
             {"type", type},
             {"eventTime", nullptr},
             {"reportingComponent", component},
             {"reportingInstance", host}};
  (void)createObject(res("events"), std::move(ev));
}

void ApiServer::tick() {
  std::lock_guard<std::mutex> l(mu_);
  runControllers();
  cv_.notify_all();
}

void ApiServer::runControllers() {
  ensureDefaults();
  runDeployments();
  runGc();
  runScheduler();
  if (cfg_.recordKubelet) runKubelet();
  runNodeLifecycle();
  runEndpoints();
}

void ApiServer::runDeployments() {
  for (const json* dp : store_.list("deployments", "")) {
    json d = *dp;
    if (d["metadata"].contains("deletionTimestamp")) continue;
    std::string ns = d["metadata"].value("namespace", ""), uid = d["metadata"].value("uid", "");
    std::string hash =
        fmt::format("{:010x}", std::hash<std::string>{}(d["spec"]["template"].dump()) & 0xffffffffffULL);
    hash = hash.substr(0, 10);
    std::vector<json> owned;
    for (const json* p : store_.list("pods", ns))
      for (const auto& o : (*p)["metadata"].value("ownerReferences", json::array()))
        if (o.value("uid", "") == uid) owned.push_back(*p);
    int want = d["spec"].value("replicas", 1);
    int current = 0, ready = 0;
    std::vector<json> active;
    for (const auto& p : owned) {
      if (p["metadata"].contains("deletionTimestamp")) continue;
      if (p["metadata"].value("labels", json::object()).value("pod-template-hash", "") != hash) {
        (void)deleteObject(res("pods"), p, json::object());
        continue;
      }
      active.push_back(p);
    }
    for (int i = static_cast<int>(active.size()) - 1; i >= want; --i)
      (void)deleteObject(res("pods"), active[i], json::object());
    if (static_cast<int>(active.size()) > want) active.resize(static_cast<size_t>(want));
    for (int i = static_cast<int>(active.size()); i < want; ++i) {
      json tmpl = d["spec"]["template"];
      json pod = {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", tmpl.value("metadata", json::object())},
                  {"spec", tmpl["spec"]}};
      pod["metadata"].erase("creationTimestamp");
      pod["metadata"]["namespace"] = ns;
      pod["metadata"]["generateName"] = d["metadata"].value("name", "") + "-" + hash + "-";
      pod["metadata"]["labels"]["pod-template-hash"] = hash;
      pod["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                             {"kind", "Deployment"},
                                             {"name", d["metadata"]["name"]},
                                             {"uid", uid},
                                             {"controller", true},
                                             {"blockOwnerDeletion", true}}};
      auto made = createObject(res("pods"), std::move(pod));
      if (made.ok()) active.push_back(*made);
    }
    for (const auto& p : active) {
      ++current;
      if (podReady(p)) ++ready;
    }
    std::string ts = rfc3339(now());
    json st = {{"observedGeneration", d["metadata"].value("generation", 1)},
               {"replicas", current},
               {"updatedReplicas", current}};
    if (ready) {
      st["readyReplicas"] = ready;
      st["availableReplicas"] = ready;
    }
    if (current - ready) st["unavailableReplicas"] = current - ready;
    json old = d.value("status", json::object());
    bool avail = ready >= want;
    json conds = json::array({{{"type", "Available"},
                               {"status", avail ? "True" : "False"},
                               {"reason", avail ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"},
                               {"message", avail ? "Deployment has minimum availability."
                                                 : "Deployment does not have minimum availability."}},
                              {{"type", "Progressing"},
                               {"status", "True"},
                               {"reason", "NewReplicaSetAvailable"},
                               {"message", "ReplicaSet \"" + d["metadata"].value("name", "") + "-" + hash +
                                               "\" has successfully progressed."}}});
    for (auto& c : conds) {
      std::string t0 = ts;
      for (const auto& oc : old.value("conditions", json::array()))
        if (oc.value("type", "") == c["type"] && oc.value("status", "") == c["status"])
          t0 = oc.value("lastTransitionTime", ts);
      c["lastUpdateTime"] = t0;
      c["lastTransitionTime"] = t0;
    }
    st["conditions"] = conds;
    if (st != old) {
      d["status"] = st;
      store_.put("deployments", d);
    }
  }
}

void ApiServer::runGc() {
  std::set<std::string> uids;
  for (const auto& r : allResources())
    for (const json* o : store_.list(r.plural, "")) uids.insert((*o)["metadata"].value("uid", ""));
  for (const auto& r : allResources()) {
    if (r.plural == "namespaces") continue;
    std::vector<json> doomed;
    for (const json* o : store_.list(r.plural, "")) {
      const json refs = (*o)["metadata"].value("ownerReferences", json::array());
      if (refs.empty() || (*o)["metadata"].contains("deletionTimestamp")) continue;
      bool alive = std::any_of(refs.begin(), refs.end(),
                               [&](const json& x) { return uids.count(x.value("uid", "")) > 0; });
      if (!alive) doomed.push_back(*o);
    }
    for (const auto& o : doomed) (void)deleteObject(r, o, json::object());
  }
  // Terminating namespaces: delete the contents, then the namespace.
  std::vector<json> nss;
  for (const json* n : store_.list("namespaces", ""))
    if ((*n)["metadata"].contains("deletionTimestamp")) nss.push_back(*n);
  for (const auto& n : nss) {
    std::string ns = n["metadata"].value("name", "");
    bool empty = true;
    for (const auto& r : allResources()) {
      if (!r.namespaced) continue;
      std::vector<json> objs;
      for (const json* o : store_.list(r.plural, ns)) objs.push_back(*o);
      for (const auto& o : objs) {
        empty = false;
        if (!o["metadata"].contains("deletionTimestamp")) (void)deleteObject(r, o, json::object());
      }
    }
    if (empty) store_.erase("namespaces", "", ns);
  }
  // Every namespace has a `default` ServiceAccount.
  for (const json* n : store_.list("namespaces", "")) {
    std::string ns = (*n)["metadata"].value("name", "");
    if ((*n)["metadata"].contains("deletionTimestamp") || store_.get("serviceaccounts", ns, "default"))
      continue;
    (void)createObject(res("serviceaccounts"), {{"apiVersion", "v1"},
                                                {"kind", "ServiceAccount"},
                                                {"metadata", {{"name", "default"}, {"namespace", ns}}}});
  }
}

void ApiServer::runScheduler() {
  std::vector<json> pending;
  for (const json* p : store_.list("pods", ""))
    if ((*p)["spec"].value("nodeName", "") == "" && !(*p)["metadata"].contains("deletionTimestamp") &&
        (*p)["spec"].value("schedulerName", "default-scheduler") == "default-scheduler")
      pending.push_back(*p);
  for (auto& pod : pending) {
    std::string best;
    size_t bestCount = 0;
    const json sel = pod["spec"].value("nodeSelector", json::object());
    for (const json* n : store_.list("nodes", "")) {
      bool ready = false;
      for (const auto& c : (*n)["status"].value("conditions", json::array()))
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ready = true;
      if (!ready || (*n)["spec"].value("unschedulable", false)) continue;
      if (!selectorFromJson(sel).matches((*n)["metadata"].value("labels", json::object()))) continue;
      std::string name = (*n)["metadata"].value("name", "");
      size_t count = 0;
      for (const json* p : store_.list("pods", ""))
        if ((*p)["spec"].value("nodeName", "") == name) ++count;
      size_t cap = static_cast<size_t>(
          std::atoi((*n)["status"].value("allocatable", json::object()).value("pods", "110").c_str()));
      if (count >= cap) continue;
      if (best.empty() || count < bestCount) {
        best = name;
        bestCount = count;
      }
    }
    std::string ts = rfc3339(now());
    if (best.empty()) {
      json conds = pod["status"].value("conditions", json::array());
      if (!conds.empty()) continue;
      size_t n = store_.list("nodes", "").size();
      std::string msg = fmt::format(
          "0/{} nodes are available: {} node(s) didn't match Pod's node affinity/selector or had no free "
          "IPs. preemption: 0/{} nodes are available.",
          n, n, n);
      pod["status"]["conditions"] = {condition("PodScheduled", "False", ts, "Unschedulable", msg)};
      const json& stored = store_.put("pods", pod);
      recordEvent(stored, "Warning", "FailedScheduling", msg, "default-scheduler");
      continue;
    }
    pod["spec"]["nodeName"] = best;
    pod["status"]["conditions"] = {condition("PodScheduled", "True", ts)};
    const json& stored = store_.put("pods", pod);
    recordEvent(stored, "Normal", "Scheduled",
                "Successfully assigned " + pod["metadata"].value("namespace", "") + "/" +
                    pod["metadata"].value("name", "") + " to " + best,
                "default-scheduler");
  }
}

void ApiServer::runKubelet() {
  std::vector<json> pods;
  for (const json* p : store_.list("pods", ""))
    if ((*p)["spec"].value("nodeName", "") != "") pods.push_back(*p);
  int64_t t = now();
  std::string ts = rfc3339(t);
  for (auto& pod : pods) {
    std::string node = pod["spec"]["nodeName"].get<std::string>();
    auto ni = nodes_.find(node);
    if (pod["metadata"].contains("deletionTimestamp")) {
      // No process to stop: the record kubelet finishes a graceful deletion at once.
      recordEvent(pod, "Normal", "Killing",
                  "Stopping container " + pod["spec"]["containers"][0].value("name", ""), "kubelet", node);
      pod["metadata"]["deletionGracePeriodSeconds"] = 0;
      if (pod["metadata"].value("finalizers", json::array()).empty()) {
        finalizeDelete(res("pods"), pod);
      } else {
        store_.put("pods", pod);
      }
      continue;
    }
    if (ni == nodes_.end() || nodeDownSince_.count(node)) continue;
    json& st = pod["status"];
    std::string phase = st.value("phase", "Pending");
    if (phase != "Pending") continue;
    std::string uid = pod["metadata"].value("uid", "");
    json cs = json::array();
    bool pullFailed = false;
    for (const auto& c : pod["spec"]["containers"]) {
      std::string image = c.value("image", "");
      if (!imageKnown(cfg_.images, image)) {
        pullFailed = true;
        bool backoff = pullFailedAt_.count(uid) && t - pullFailedAt_[uid] >= 2000;
        std::string reason = backoff ? "ImagePullBackOff" : "ErrImagePull";
        std::string msg = backoff ? "Back-off pulling image \"" + image + "\""
                                  : "failed to pull and unpack image \"" + image +
                                        "\": failed to resolve reference \"" + image + "\": not found";
        cs.push_back({{"name", c.value("name", "")},
                      {"image", image},
                      {"imageID", ""},
                      {"ready", false},
                      {"started", false},
                      {"restartCount", 0},
                      {"lastState", json::object()},
                      {"state", {{"waiting", {{"reason", reason}, {"message", msg}}}}}});
      } else {
        cs.push_back({{"name", c.value("name", "")},
                      {"image", image},
                      {"imageID", "docker.io/library/" + image + "@sha256:" +
                                      fmt::format("{:016x}{:016x}{:016x}{:016x}",
                                                  std::hash<std::string>{}(image), 1u, 2u, 3u)},
                      {"containerID", "containerd://" + fmt::format("{:016x}{:016x}{:016x}{:016x}", rng_(),
                                                                    rng_(), rng_(), rng_())},
                      {"ready", true},
                      {"started", true},
                      {"restartCount", 0},
                      {"lastState", json::object()},
                      {"state", {{"running", {{"startedAt", ts}}}}}});
      }
    }
    std::string podIp = st.value("podIP", "");
    if (podIp.empty()) {
      if (pod["spec"].value("hostNetwork", false)) {
        podIp = ni->second.ip;
      } else {
        auto base = parseIpv4(ni->second.ip);
        for (uint32_t host = 100; base && host < 250; ++host) {
          std::string cand = formatIpv4((*base & 0xffffff00u) | host);
          if (podIpsUsed_[node].insert(cand).second) {
            podIp = cand;
            break;
          }
        }
      }
    }
    if (pullFailed) {
      bool first = !pullFailedAt_.count(uid);
      if (first) pullFailedAt_[uid] = t;
      st["containerStatuses"] = cs;
      st["hostIP"] = ni->second.ip;
      st["hostIPs"] = {{{"ip", ni->second.ip}}};
      st["podIP"] = podIp;
      st["podIPs"] = {{{"ip", podIp}}};
      if (!st.contains("startTime")) st["startTime"] = ts;
      json conds = {condition("PodReadyToStartContainers", "True", ts), condition("Initialized", "True", ts),
                    condition("Ready", "False", ts, "ContainersNotReady",
                              "containers with unready status: [" +
                                  pod["spec"]["containers"][0].value("name", "") + "]"),
                    condition("ContainersReady", "False", ts, "ContainersNotReady",
                              "containers with unready status: [" +
                                  pod["spec"]["containers"][0].value("name", "") + "]"),
                    condition("PodScheduled", "True", ts)};
      for (auto& c : conds)
        for (const auto& oc : st.value("conditions", json::array()))
          if (oc.value("type", "") == c["type"] && oc.value("status", "") == c["status"])
            c["lastTransitionTime"] = oc["lastTransitionTime"];
      st["conditions"] = conds;
      json before =
          *store_.get("pods", pod["metadata"].value("namespace", ""), pod["metadata"].value("name", ""));
      if (before["status"] != st) {
        const json& stored = store_.put("pods", pod);
        if (first)
          recordEvent(stored, "Warning", "Failed",
                      "Failed to pull image: " + cs[0]["state"]["waiting"].value("message", ""), "kubelet",
                      node);
      }
      continue;
    }
    st["phase"] = "Running";
    st["hostIP"] = ni->second.ip;
    st["hostIPs"] = {{{"ip", ni->second.ip}}};
    st["podIP"] = podIp;
    st["podIPs"] = {{{"ip", podIp}}};
    st["startTime"] = ts;
    st["containerStatuses"] = cs;
    st["conditions"] = {condition("PodReadyToStartContainers", "True", ts),
                        condition("Initialized", "True", ts), condition("Ready", "True", ts),
                        condition("ContainersReady", "True", ts), condition("PodScheduled", "True", ts)};
    const json& stored = store_.put("pods", pod);
    json inv = stored;
    for (const auto& c : pod["spec"]["containers"]) {
      recordEvent(inv, "Normal", "Pulled",
                  "Container image \"" + c.value("image", "") + "\" already present on machine", "kubelet",
                  node);
      recordEvent(inv, "Normal", "Created", "Created container " + c.value("name", ""), "kubelet", node);
      recordEvent(inv, "Normal", "Started", "Started container " + c.value("name", ""), "kubelet", node);
    }
  }
}

Status ApiServer::setNodeState(const std::string& name, bool up) {
  std::lock_guard<std::mutex> l(mu_);
  if (!nodes_.count(name)) return notFound("nodes", "", name);
  if (up) {
    nodeDownSince_.erase(name);
  } else if (!nodeDownSince_.count(name)) {
    nodeDownSince_[name] = now();
  }
  runNodeLifecycle();
  runEndpoints();
  cv_.notify_all();
  return okStatus();
}

void ApiServer::runNodeLifecycle() {
  int64_t t = now();
  for (const auto& [name, spec] : nodes_) {
    const json* np = store_.get("nodes", "", name);
    if (!np) continue;
    json n = *np;
    bool down = nodeDownSince_.count(name) && t - nodeDownSince_[name] >= cfg_.nodeGraceMs;
    std::string want = down ? "Unknown" : "True";
    bool changed = false;
    for (auto& c : n["status"]["conditions"]) {
      if (c.value("type", "") != "Ready" && !down && c.value("status", "") != "Unknown") continue;
      std::string target = c.value("type", "") == "Ready" ? want : (down ? "Unknown" : "False");
      if (c.value("status", "") == target) continue;
      c["status"] = target;
      c["lastTransitionTime"] = rfc3339(t);
      if (down) {
        c["reason"] = "NodeStatusUnknown";
        c["message"] = "Kubelet stopped posting node status.";
      } else if (c["type"] == "Ready") {
        c["reason"] = "KubeletReady";
        c["message"] = "kubelet is posting ready status";
      }
      changed = true;
    }
    if (!changed) continue;
    store_.put("nodes", n);
    // Pods on a lost node become not Ready; back up, the kubelet reports them Ready again.
    std::vector<json> pods;
    for (const json* p : store_.list("pods", ""))
      if ((*p)["spec"].value("nodeName", "") == name && (*p)["status"].value("phase", "") == "Running")
        pods.push_back(*p);
    for (auto& p : pods) {
      for (auto& c : p["status"]["conditions"])
        if (c.value("type", "") == "Ready" || c.value("type", "") == "ContainersReady") {
          c["status"] = down ? "False" : "True";
          c["lastTransitionTime"] = rfc3339(t);
        }
      for (auto& cs : p["status"]["containerStatuses"]) cs["ready"] = !down;
      store_.put("pods", p);
    }
  }
}

void ApiServer::runEndpoints() {
  std::map<std::string, std::string> zones;
  for (const json* n : store_.list("nodes", ""))
    zones[(*n)["metadata"].value("name", "")] =
        (*n)["metadata"].value("labels", json::object()).value("topology.kubernetes.io/zone", "");
  std::vector<json> services;
  for (const json* s : store_.list("services", "")) services.push_back(*s);
  for (const auto& svc : services) {
    std::string ns = svc["metadata"].value("namespace", ""), name = svc["metadata"].value("name", "");
    const json spec = svc.value("spec", json::object());
    bool isApi = ns == "default" && name == "kubernetes";
    json sel = spec.value("selector", json::object());
    if (!isApi && (sel.empty() || spec.value("type", "") == "ExternalName")) continue;
    json endpoints = json::array(), ports = json::array(), ready = json::array(), notReady = json::array();
    if (isApi) {
      endpoints.push_back({{"addresses", {apiIp_}},
                           {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}}});
      ports.push_back({{"name", "https"}, {"port", apiPort_}, {"protocol", "TCP"}});
      ready.push_back({{"ip", apiIp_}});
    } else {
      LabelSelector ls = selectorFromJson(sel);
      std::vector<const json*> pods;
      for (const json* p : store_.list("pods", ns))
        if (ls.matches((*p)["metadata"].value("labels", json::object())) &&
            (*p)["status"].value("podIP", "") != "" && (*p)["status"].value("phase", "") != "Succeeded" &&
            (*p)["status"].value("phase", "") != "Failed")
          pods.push_back(p);
      for (const auto& sp : spec.value("ports", json::array())) {
        json tp = sp.value("targetPort", json(sp.value("port", 0)));
        int port = tp.is_number() ? tp.get<int>() : 0;
        if (tp.is_string()) {
          for (const json* p : pods)
            for (const auto& c : (*p)["spec"]["containers"])
              for (const auto& cp : c.value("ports", json::array()))
                if (port == 0 && cp.value("name", "") == tp.get<std::string>())
                  port = cp.value("containerPort", 0);
          if (port == 0) continue;
        }
        ports.push_back(
            {{"name", sp.value("name", "")}, {"port", port}, {"protocol", sp.value("protocol", "TCP")}});
      }
      for (const json* p : pods) {
        bool term = (*p)["metadata"].contains("deletionTimestamp");
        bool rdy = podReady(*p);
        std::string node = (*p)["spec"].value("nodeName", "");
        json target = {{"kind", "Pod"},
                       {"namespace", ns},
                       {"name", (*p)["metadata"]["name"]},
                       {"uid", (*p)["metadata"]["uid"]}};
        json e = {{"addresses", {(*p)["status"]["podIP"]}},
                  {"conditions", {{"ready", rdy && !term}, {"serving", rdy}, {"terminating", term}}},
                  {"targetRef", target}};
        if (!node.empty()) {
          e["nodeName"] = node;
          if (!zones[node].empty()) e["zone"] = zones[node];
        }
        endpoints.push_back(e);
        json a = {{"ip", (*p)["status"]["podIP"]}, {"targetRef", target}};
        if (!node.empty()) a["nodeName"] = node;
        (rdy && !term ? ready : notReady).push_back(a);
      }
    }
    // EndpointSlice (one per Service).
    json labels = svc["metadata"].value("labels", json::object());
    labels["kubernetes.io/service-name"] = name;
    labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io";
    if (isApi) labels.erase("endpointslice.kubernetes.io/managed-by");
    const json* existing = nullptr;
    for (const json* s : store_.list("endpointslices", ns)) {
      const json l = (*s)["metadata"].value("labels", json::object());
      if (l.value("kubernetes.io/service-name", "") == name &&
          (isApi ||
           l.value("endpointslice.kubernetes.io/managed-by", "") == "endpointslice-controller.k8s.io"))
        existing = s;
    }
    json slice;
    if (existing) {
      slice = *existing;
    } else {
      slice = {{"apiVersion", "discovery.k8s.io/v1"},
               {"kind", "EndpointSlice"},
               {"metadata", {{"namespace", ns}}}};
      if (isApi)
        slice["metadata"]["name"] = "kubernetes";
      else
        slice["metadata"]["generateName"] = name + "-";
    }
    slice["metadata"]["labels"] = labels;
    if (!isApi)
      slice["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                               {"kind", "Service"},
                                               {"name", name},
                                               {"uid", svc["metadata"]["uid"]},
                                               {"controller", true},
                                               {"blockOwnerDeletion", true}}};
    slice["addressType"] = "IPv4";
    slice["endpoints"] = endpoints;
    slice["ports"] = ports;
    if (existing) {
      store_.put("endpointslices", slice);
    } else {
      (void)createObject(res("endpointslices"), slice);
    }
    // Endpoints v1 mirror.
    json epPorts = json::array();
    for (const auto& p : ports) {
      json x = {{"port", p["port"]}, {"protocol", p["protocol"]}};
      if (p.value("name", "") != "") x["name"] = p["name"];
      epPorts.push_back(x);
    }
    json subsets = json::array();
    if (!ready.empty() || !notReady.empty()) {
      json s = {{"ports", epPorts}};
      if (!ready.empty()) s["addresses"] = ready;
      if (!notReady.empty()) s["notReadyAddresses"] = notReady;
      subsets.push_back(s);
    }
    const json* ep = store_.get("endpoints", ns, name);
    json epo = ep ? *ep
                  : json{{"apiVersion", "v1"},
                         {"kind", "Endpoints"},
                         {"metadata", {{"name", name}, {"namespace", ns}}}};
    epo["metadata"]["labels"] = svc["metadata"].value("labels", json::object());
    if (epo["metadata"]["labels"].empty()) epo["metadata"].erase("labels");
    if (subsets.empty()) {
      epo.erase("subsets");
    } else {
      epo["subsets"] = subsets;
    }
    if (ep) {
      store_.put("endpoints", epo);
    } else {
      (void)createObject(res("endpoints"), epo);
    }
  }
  // Endpoints whose Service is gone (slices go by ownerReference GC).
  std::vector<std::pair<std::string, std::string>> stale;
  for (const json* e : store_.list("endpoints", ""))
    if (!store_.get("services", (*e)["metadata"].value("namespace", ""), (*e)["metadata"].value("name", "")))
      stale.emplace_back((*e)["metadata"].value("namespace", ""), (*e)["metadata"].value("name", ""));
  for (const auto& [ns, n] : stale) store_.erase("endpoints", ns, n);
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
