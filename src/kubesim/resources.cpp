#include "kubesim/resources.h"

#include <map>
#include <set>

namespace floatlb::kubesim {

using json = nlohmann::json;

const std::vector<ResourceInfo>& allResources() {
  static const std::vector<ResourceInfo> r = {
      {"namespaces", "namespace", "Namespace", "", "v1", false, true, {"ns"}},
      {"nodes", "node", "Node", "", "v1", false, true, {"no"}},
      {"services", "service", "Service", "", "v1", true, true, {"svc"}},
      {"pods", "pod", "Pod", "", "v1", true, true, {"po"}},
      {"endpoints", "endpoints", "Endpoints", "", "v1", true, false, {"ep"}},
      {"events", "event", "Event", "", "v1", true, false, {"ev"}},
      {"configmaps", "configmap", "ConfigMap", "", "v1", true, false, {"cm"}},
      {"secrets", "secret", "Secret", "", "v1", true, false, {}},
      {"serviceaccounts", "serviceaccount", "ServiceAccount", "", "v1", true, false, {"sa"}},
      {"endpointslices", "endpointslice", "EndpointSlice", "discovery.k8s.io", "v1", true, false, {}},
      {"leases", "lease", "Lease", "coordination.k8s.io", "v1", true, false, {}},
      {"deployments", "deployment", "Deployment", "apps", "v1", true, true, {"deploy"}},
      {"roles", "role", "Role", "rbac.authorization.k8s.io", "v1", true, false, {}},
      {"rolebindings", "rolebinding", "RoleBinding", "rbac.authorization.k8s.io", "v1", true, false, {}},
      {"clusterroles", "clusterrole", "ClusterRole", "rbac.authorization.k8s.io", "v1", false, false, {}},
      {"clusterrolebindings",
       "clusterrolebinding",
       "ClusterRoleBinding",
       "rbac.authorization.k8s.io",
       "v1",
       false,
       false,
       {}},
  };
  return r;
}

const ResourceInfo* findResource(const std::string& group, const std::string& version,
                                 const std::string& plural) {
  for (const auto& r : allResources())
    if (r.group == group && r.version == version && r.plural == plural) return &r;
  return nullptr;
}

const ResourceInfo* findResourceByKind(const std::string& kind) {
  for (const auto& r : allResources())
    if (r.kind == kind) return &r;
  return nullptr;
}

namespace {

const json kVerbs = json::array({"create", "delete", "get", "list", "patch", "update", "watch"});

std::vector<std::string> groupsInOrder() {
  std::vector<std::string> out;
  for (const auto& r : allResources())
    if (!r.group.empty() && std::find(out.begin(), out.end(), r.group) == out.end()) out.push_back(r.group);
  return out;
}

json categories(const ResourceInfo& r) {
  static const std::set<std::string> all = {"pods", "services", "deployments"};
  return all.count(r.plural) ? json::array({"all"}) : json::array();
}

}  // namespace

json legacyApiVersions(const std::string& serverAddress) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", serverAddress}}}}};
}

json legacyApiGroupList() {
  json groups = json::array();
  for (const auto& g : groupsInOrder()) {
    json gv = {{"groupVersion", g + "/v1"}, {"version", "v1"}};
    groups.push_back({{"name", g}, {"versions", {gv}}, {"preferredVersion", gv}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json apiResourceList(const std::string& group, const std::string& version) {
  json res = json::array();
  for (const auto& r : allResources()) {
    if (r.group != group || r.version != version) continue;
    json e = {{"name", r.plural},
              {"singularName", r.singular},
              {"namespaced", r.namespaced},
              {"kind", r.kind},
              {"verbs", kVerbs}};
    if (!r.shortNames.empty()) e["shortNames"] = r.shortNames;
    if (!categories(r).empty()) e["categories"] = categories(r);
    res.push_back(e);
    if (r.hasStatus)
      res.push_back({{"name", r.plural + "/status"},
                     {"singularName", ""},
                     {"namespaced", r.namespaced},
                     {"kind", r.kind},
                     {"verbs", {"get", "patch", "update"}}});
  }
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", res}};
}

json aggregatedDiscovery(bool core) {
  json items = json::array();
  std::vector<std::string> groups = core ? std::vector<std::string>{""} : groupsInOrder();
  for (const auto& g : groups) {
    json resources = json::array();
    for (const auto& r : allResources()) {
      if (r.group != g) continue;
      json rk = {{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
      json e = {{"resource", r.plural},
                {"responseKind", rk},
                {"scope", r.namespaced ? "Namespaced" : "Cluster"},
                {"singularResource", r.singular},
                {"verbs", kVerbs}};
      if (!r.shortNames.empty()) e["shortNames"] = r.shortNames;
      if (!categories(r).empty()) e["categories"] = categories(r);
      if (r.hasStatus)
        e["subresources"] = {
            {{"subresource", "status"}, {"responseKind", rk}, {"verbs", {"get", "patch", "update"}}}};
      resources.push_back(e);
    }
    items.push_back(
        {{"metadata", {{"name", g}, {"creationTimestamp", nullptr}}},
         {"versions", {{{"version", "v1"}, {"resources", resources}, {"freshness", "Current"}}}}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", json::object()},
          {"items", items}};
}

std::string openapiV2Protobuf(const std::string& version) {
  auto field = [](int num, const std::string& payload) {
    std::string out(1, static_cast<char>((num << 3) | 2));
    size_t n = payload.size();
    do {  // varint length
      unsigned char b = n & 0x7f;
      n >>= 7;
      out.push_back(static_cast<char>(n ? (b | 0x80) : b));
    } while (n);
    return out + payload;
  };
  std::string info = field(1, "Kubernetes") + field(2, version);
  return field(1, "2.0") + field(2, info) + field(8, "");
}

namespace {

// A tiny schema: a map of field -> child schema; "*" = free-form (any keys); "" = leaf.
struct Schema {
  std::map<std::string, const Schema*> fields;
  bool any = false;
  const Schema* items = nullptr;  // for lists of objects
};

const Schema kAny{{}, true, nullptr};
const Schema kLeaf{{}, true, nullptr};

const Schema& metadataSchema() {
  static const Schema s{{{"name", &kLeaf},
                         {"generateName", &kLeaf},
                         {"namespace", &kLeaf},
                         {"selfLink", &kLeaf},
                         {"uid", &kLeaf},
                         {"resourceVersion", &kLeaf},
                         {"generation", &kLeaf},
                         {"creationTimestamp", &kLeaf},
                         {"deletionTimestamp", &kLeaf},
                         {"deletionGracePeriodSeconds", &kLeaf},
                         {"labels", &kAny},
                         {"annotations", &kAny},
                         {"ownerReferences", &kAny},
                         {"finalizers", &kAny},
                         {"managedFields", &kAny}}};
  return s;
}

const Schema& serviceSchema() {
  static const Schema port{{{"name", &kLeaf},
                            {"protocol", &kLeaf},
                            {"appProtocol", &kLeaf},
                            {"port", &kLeaf},
                            {"targetPort", &kLeaf},
                            {"nodePort", &kLeaf}}};
  static const Schema ports{{}, false, &port};
  static const Schema spec{{{"ports", &ports},
                            {"selector", &kAny},
                            {"clusterIP", &kLeaf},
                            {"clusterIPs", &kAny},
                            {"type", &kLeaf},
                            {"externalIPs", &kAny},
                            {"sessionAffinity", &kLeaf},
                            {"loadBalancerIP", &kLeaf},
                            {"loadBalancerSourceRanges", &kAny},
                            {"externalName", &kLeaf},
                            {"externalTrafficPolicy", &kLeaf},
                            {"healthCheckNodePort", &kLeaf},
                            {"publishNotReadyAddresses", &kLeaf},
                            {"sessionAffinityConfig", &kAny},
                            {"ipFamilies", &kAny},
                            {"ipFamilyPolicy", &kLeaf},
                            {"allocateLoadBalancerNodePorts", &kLeaf},
                            {"loadBalancerClass", &kLeaf},
                            {"internalTrafficPolicy", &kLeaf},
                            {"trafficDistribution", &kLeaf}}};
  static const Schema s{{{"spec", &spec}, {"status", &kAny}}};
  return s;
}

const Schema& podSpecSchema() {
  static const Schema cport{{{"name", &kLeaf},
                             {"hostPort", &kLeaf},
                             {"containerPort", &kLeaf},
                             {"protocol", &kLeaf},
                             {"hostIP", &kLeaf}}};
  static const Schema cports{{}, false, &cport};
  static const Schema container{{{"name", &kLeaf},
                                 {"image", &kLeaf},
                                 {"command", &kAny},
                                 {"args", &kAny},
                                 {"workingDir", &kLeaf},
                                 {"ports", &cports},
                                 {"envFrom", &kAny},
                                 {"env", &kAny},
                                 {"resources", &kAny},
                                 {"resizePolicy", &kAny},
                                 {"restartPolicy", &kLeaf},
                                 {"volumeMounts", &kAny},
                                 {"volumeDevices", &kAny},
                                 {"livenessProbe", &kAny},
                                 {"readinessProbe", &kAny},
                                 {"startupProbe", &kAny},
                                 {"lifecycle", &kAny},
                                 {"terminationMessagePath", &kLeaf},
                                 {"terminationMessagePolicy", &kLeaf},
                                 {"imagePullPolicy", &kLeaf},
                                 {"securityContext", &kAny},
                                 {"stdin", &kLeaf},
                                 {"stdinOnce", &kLeaf},
                                 {"tty", &kLeaf}}};
  static const Schema containers{{}, false, &container};
  static const Schema s{{{"volumes", &kAny},
                         {"initContainers", &containers},
                         {"containers", &containers},
                         {"ephemeralContainers", &kAny},
                         {"restartPolicy", &kLeaf},
                         {"terminationGracePeriodSeconds", &kLeaf},
                         {"activeDeadlineSeconds", &kLeaf},
                         {"dnsPolicy", &kLeaf},
                         {"nodeSelector", &kAny},
                         {"serviceAccountName", &kLeaf},
                         {"serviceAccount", &kLeaf},
                         {"automountServiceAccountToken", &kLeaf},
                         {"nodeName", &kLeaf},
                         {"hostNetwork", &kLeaf},
                         {"hostPID", &kLeaf},
                         {"hostIPC", &kLeaf},
                         {"shareProcessNamespace", &kLeaf},
                         {"securityContext", &kAny},
                         {"imagePullSecrets", &kAny},
                         {"hostname", &kLeaf},
                         {"subdomain", &kLeaf},
                         {"affinity", &kAny},
                         {"schedulerName", &kLeaf},
                         {"tolerations", &kAny},
                         {"hostAliases", &kAny},
                         {"priorityClassName", &kLeaf},
                         {"priority", &kLeaf},
                         {"dnsConfig", &kAny},
                         {"readinessGates", &kAny},
                         {"runtimeClassName", &kLeaf},
                         {"enableServiceLinks", &kLeaf},
                         {"preemptionPolicy", &kLeaf},
                         {"overhead", &kAny},
                         {"topologySpreadConstraints", &kAny},
                         {"setHostnameAsFQDN", &kLeaf},
                         {"os", &kAny},
                         {"hostUsers", &kLeaf},
                         {"schedulingGates", &kAny},
                         {"resourceClaims", &kAny}}};
  return s;
}

const Schema* schemaFor(const std::string& kind) {
  static const Schema pod{{{"spec", &podSpecSchema()}, {"status", &kAny}}};
  static const Schema tmpl{{{"metadata", &metadataSchema()}, {"spec", &podSpecSchema()}}};
  static const Schema dspec{{{"replicas", &kLeaf},
                             {"selector", &kAny},
                             {"template", &tmpl},
                             {"strategy", &kAny},
                             {"minReadySeconds", &kLeaf},
                             {"revisionHistoryLimit", &kLeaf},
                             {"paused", &kLeaf},
                             {"progressDeadlineSeconds", &kLeaf}}};
  static const Schema deploy{{{"spec", &dspec}, {"status", &kAny}}};
  static const Schema ns{{{"spec", &kAny}, {"status", &kAny}}};
  static const Schema cm{{{"data", &kAny}, {"binaryData", &kAny}, {"immutable", &kLeaf}}};
  static const Schema secret{
      {{"data", &kAny}, {"stringData", &kAny}, {"type", &kLeaf}, {"immutable", &kLeaf}}};
  static const Schema lspec{{{"holderIdentity", &kLeaf},
                             {"leaseDurationSeconds", &kLeaf},
                             {"acquireTime", &kLeaf},
                             {"renewTime", &kLeaf},
                             {"leaseTransitions", &kLeaf},
                             {"strategy", &kLeaf},
                             {"preferredHolder", &kLeaf}}};
  static const Schema lease{{{"spec", &lspec}}};
  static const Schema slice{{{"addressType", &kLeaf}, {"endpoints", &kAny}, {"ports", &kAny}}};
  static const Schema node{{{"spec", &kAny}, {"status", &kAny}}};
  static const Schema ep{{{"subsets", &kAny}}};
  static const Schema sa{
      {{"secrets", &kAny}, {"imagePullSecrets", &kAny}, {"automountServiceAccountToken", &kLeaf}}};
  static const Schema role{{{"rules", &kAny}}};
  static const Schema crole{{{"rules", &kAny}, {"aggregationRule", &kAny}}};
  static const Schema binding{{{"subjects", &kAny}, {"roleRef", &kAny}}};
  static const std::map<std::string, const Schema*> m = {{"Service", &serviceSchema()},
                                                         {"Pod", &pod},
                                                         {"Deployment", &deploy},
                                                         {"Namespace", &ns},
                                                         {"ConfigMap", &cm},
                                                         {"Secret", &secret},
                                                         {"Lease", &lease},
                                                         {"EndpointSlice", &slice},
                                                         {"Node", &node},
                                                         {"Endpoints", &ep},
                                                         {"ServiceAccount", &sa},
                                                         {"Role", &role},
                                                         {"ClusterRole", &crole},
                                                         {"RoleBinding", &binding},
                                                         {"ClusterRoleBinding", &binding}};
  auto it = m.find(kind);
  return it == m.end() ? nullptr : it->second;
}

void walk(const json& v, const Schema& s, const std::string& path, std::vector<std::string>& out) {
  if (s.any) return;
  if (s.items) {
    if (!v.is_array()) return;
    for (size_t i = 0; i < v.size(); ++i) walk(v[i], *s.items, path + "[" + std::to_string(i) + "]", out);
    return;
  }
  if (!v.is_object()) return;
  for (auto it = v.begin(); it != v.end(); ++it) {
    auto f = s.fields.find(it.key());
    std::string p = path.empty() ? it.key() : path + "." + it.key();
    if (f == s.fields.end()) {
      out.push_back(p);
    } else {
      walk(it.value(), *f->second, p, out);
    }
  }
}

}  // namespace

std::vector<std::string> unknownFields(const ResourceInfo& r, const json& obj) {
  std::vector<std::string> out;
  if (!obj.is_object()) return out;
  const Schema* s = schemaFor(r.kind);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (k == "apiVersion" || k == "kind") continue;
    if (k == "metadata") {
      walk(it.value(), metadataSchema(), "metadata", out);
      continue;
    }
    if (!s) continue;
    auto f = s->fields.find(k);
    if (f == s->fields.end()) {
      out.push_back(k);
    } else {
      walk(it.value(), *f->second, k, out);
    }
  }
  return out;
}

void eraseFieldPath(json& obj, const std::string& path) {
  json* cur = &obj;
  size_t start = 0;
  while (cur && start < path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::vector<size_t> idx;
    while (!part.empty() && part.back() == ']') {
      size_t lb = part.rfind('[');
      if (lb == std::string::npos) return;
      idx.insert(idx.begin(), std::stoul(part.substr(lb + 1, part.size() - lb - 2)));
      part.resize(lb);
    }
    if (dot == std::string::npos && idx.empty()) {
      if (cur->is_object()) cur->erase(part);
      return;
    }
    if (!cur->is_object() || !cur->contains(part)) return;
    cur = &(*cur)[part];
    for (size_t i : idx) {
      if (!cur->is_array() || i >= cur->size()) return;
      cur = &(*cur)[i];
    }
    if (dot == std::string::npos) return;
    start = dot + 1;
  }
}

}  // namespace floatlb::kubesim
