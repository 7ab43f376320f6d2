// ApiServer admission per kind: Service allocation/validation, Pod and Deployment defaulting.
#include <fmt/format.h>

#include <algorithm>
#include <regex>

#include "kubesim/apiserver.h"
#include "kubesim/apiserver_support.h"
#include "kubesim/patch.h"
#include "kubesim/status.h"
#include "kubesim/table.h"

namespace floatlb::kubesim {

using namespace apiserver_support;  // NOLINT(google-build-using-namespace): the split's shared helpers

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
  auto rangeFull = [&]() -> Status {
    rollback();
    return apiError(500, "InternalError",
                    "Internal error occurred: failed to allocate a nodePort: range is full");
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
        if (!got) return rangeFull();
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
      if (!got) return rangeFull();
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

}  // namespace floatlb::kubesim
