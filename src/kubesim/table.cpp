#include "kubesim/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "kubesim/selector.h"

namespace floatlb::kubesim {

using json = nlohmann::json;

std::string humanDuration(int64_t millis) {
  int64_t seconds = millis / 1000;
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return fmt::format("{}s", seconds);
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return s == 0 ? fmt::format("{}m", minutes) : fmt::format("{}m{}s", minutes, s);
  }
  if (minutes < 60 * 3) return fmt::format("{}m", minutes);
  int64_t hours = minutes / 60;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return m == 0 ? fmt::format("{}h", hours) : fmt::format("{}h{}m", hours, m);
  }
  if (hours < 48) return fmt::format("{}h", hours);
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return h == 0 ? fmt::format("{}d", hours / 24) : fmt::format("{}d{}h", hours / 24, h);
  }
  if (hours < 24 * 365 * 2) return fmt::format("{}d", hours / 24);
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    return dy == 0 ? fmt::format("{}y", hours / 24 / 365) : fmt::format("{}y{}d", hours / 24 / 365, dy);
  }
  return fmt::format("{}y", hours / 24 / 365);
}

std::string rfc3339(int64_t wallMillis) {
  time_t t = static_cast<time_t>(wallMillis / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string microTime(int64_t wallMillis) {
  std::string s = rfc3339(wallMillis);
  s.pop_back();
  return s + fmt::format(".{:06d}Z", (wallMillis % 1000) * 1000);
}

std::optional<int64_t> parseTime(const std::string& s) {
  struct tm tm {};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    int64_t frac = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 3) frac = frac * 10 + (*rest - '0');
      ++digits;
      ++rest;
    }
    while (digits < 3) {
      frac *= 10;
      ++digits;
    }
    ms += frac;
  }
  if (*rest == 'Z') return ms;
  if ((*rest == '+' || *rest == '-') && std::strlen(rest) >= 6) {
    int sign = *rest == '+' ? 1 : -1;
    int hh = std::atoi(std::string(rest + 1, 2).c_str()), mm = std::atoi(std::string(rest + 4, 2).c_str());
    return ms - sign * (hh * 3600 + mm * 60) * 1000LL;
  }
  return std::nullopt;
}

namespace {

json col(const std::string& name, const std::string& type, const std::string& desc, int priority = 0,
         const std::string& format = "") {
  return {{"name", name}, {"type", type}, {"format", format}, {"description", desc}, {"priority", priority}};
}

const char* kNameDesc =
    "Name must be unique within a namespace. Is required when creating resources, although some resources "
    "may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily "
    "intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const char* kAgeDesc =
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
    "value. It "
    "is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
    "More "
    "info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

json nameCol() { return col("Name", "string", kNameDesc, 0, "name"); }
json ageCol() { return col("Age", "string", kAgeDesc); }

std::string str(const json& o, const json::json_pointer& p, const std::string& dflt = "") {
  return o.contains(p) && o[p].is_string() ? o[p].get<std::string>() : dflt;
}

std::string age(const json& o, int64_t now) {
  auto t = parseTime(str(o, "/metadata/creationTimestamp"_json_pointer));
  return t ? humanDuration(now - *t) : "<unknown>";
}

std::string since(const std::string& ts, int64_t now) {
  auto t = parseTime(ts);
  return t ? humanDuration(now - *t) : "<unknown>";
}

std::string formatLabels(const json& m) {
  if (!m.is_object() || m.empty()) return "<none>";
  std::string out;
  for (auto it = m.begin(); it != m.end(); ++it) {  // nlohmann objects iterate in key order
    if (!out.empty()) out += ",";
    out += it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
  }
  return out;
}

std::string joinMore(const std::vector<std::string>& all, size_t max, const std::string& empty) {
  if (all.empty()) return empty;
  std::string out;
  for (size_t i = 0; i < all.size() && i < max; ++i) out += (i ? "," : "") + all[i];
  if (all.size() > max) out += fmt::format(" + {} more...", all.size() - max);
  return out;
}

json serviceCells(const json& o, int64_t now) {
  const json spec = o.value("spec", json::object());
  std::string type = spec.value("type", "ClusterIP");
  std::string clusterIP = "<none>";
  if (spec.contains("clusterIPs") && spec["clusterIPs"].is_array() && !spec["clusterIPs"].empty())
    clusterIP = spec["clusterIPs"][0].get<std::string>();
  else if (spec.contains("clusterIP") && spec["clusterIP"].is_string() &&
           !spec["clusterIP"].get<std::string>().empty())
    clusterIP = spec["clusterIP"].get<std::string>();
  std::vector<std::string> ext;
  for (const auto& e : spec.value("externalIPs", json::array())) ext.push_back(e.get<std::string>());
  std::string external;
  auto joinv = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  if (type == "ClusterIP" || type == "NodePort") {
    external = ext.empty() ? "<none>" : joinv(ext);
  } else if (type == "LoadBalancer") {
    std::set<std::string> lb;
    if (o.contains("/status/loadBalancer/ingress"_json_pointer))
      for (const auto& ing : o["/status/loadBalancer/ingress"_json_pointer]) {
        if (ing.value("ip", "") != "")
          lb.insert(ing["ip"].get<std::string>());
        else if (ing.value("hostname", "") != "")
          lb.insert(ing["hostname"].get<std::string>());
      }
    std::vector<std::string> all(lb.begin(), lb.end());
    all.insert(all.end(), ext.begin(), ext.end());
    external = all.empty() ? "<pending>" : joinv(all);
  } else if (type == "ExternalName") {
    external = spec.value("externalName", "");
  } else {
    external = "<unknown>";
  }
  std::vector<std::string> ports;
  for (const auto& p : spec.value("ports", json::array())) {
    int port = p.value("port", 0), np = p.value("nodePort", 0);
    std::string proto = p.value("protocol", "TCP");
    ports.push_back(np ? fmt::format("{}:{}/{}", port, np, proto) : fmt::format("{}/{}", port, proto));
  }
  return json::array({o["metadata"].value("name", ""), type, clusterIP, external,
                      ports.empty() ? "<none>" : joinv(ports), age(o, now),
                      formatLabels(spec.value("selector", json::object()))});
}

bool hasReadyCondition(const json& conds) {
  for (const auto& c : conds)
    if (c.value("type", "") == "Ready" && c.value("status", "") == "True") return true;
  return false;
}

json podCells(const json& o, int64_t now) {
  const json spec = o.value("spec", json::object());
  const json status = o.value("status", json::object());
  int total = static_cast<int>(spec.value("containers", json::array()).size());
  int ready = 0;
  int64_t restarts = 0;
  std::string lastRestart;
  std::string reason = status.value("phase", "");
  if (status.value("reason", "") != "") reason = status["reason"].get<std::string>();
  bool hasRunning = false;
  json cs = status.value("containerStatuses", json::array());
  for (auto it = cs.rbegin(); it != cs.rend(); ++it) {
    const json& c = *it;
    restarts += c.value("restartCount", 0);
    if (c.contains("/lastState/terminated/finishedAt"_json_pointer))
      lastRestart = c["/lastState/terminated/finishedAt"_json_pointer].get<std::string>();
    const json state = c.value("state", json::object());
    if (state.contains("waiting") && state["waiting"].value("reason", "") != "") {
      reason = state["waiting"]["reason"].get<std::string>();
    } else if (state.contains("terminated") && state["terminated"].value("reason", "") != "") {
      reason = state["terminated"]["reason"].get<std::string>();
    } else if (state.contains("terminated")) {
      int sig = state["terminated"].value("signal", 0);
      reason = sig ? fmt::format("Signal:{}", sig)
                   : fmt::format("ExitCode:{}", state["terminated"].value("exitCode", 0));
    } else if (c.value("ready", false) && state.contains("running")) {
      hasRunning = true;
      ++ready;
    }
  }
  if (reason == "Completed" && hasRunning)
    reason = hasReadyCondition(status.value("conditions", json::array())) ? "Running" : "NotReady";
  if (o["metadata"].contains("deletionTimestamp"))
    reason = status.value("reason", "") == "NodeLost" ? "Unknown" : "Terminating";
  std::string restartsStr = std::to_string(restarts);
  if (restarts != 0 && !lastRestart.empty())
    restartsStr = fmt::format("{} ({} ago)", restarts, since(lastRestart, now));
  std::string ip = "<none>";
  if (status.contains("podIPs") && !status["podIPs"].empty()) ip = status["podIPs"][0].value("ip", "<none>");
  std::string gates = "<none>";
  if (spec.contains("readinessGates") && !spec["readinessGates"].empty()) {
    size_t trueGates = 0;
    for (const auto& g : spec["readinessGates"])
      for (const auto& c : status.value("conditions", json::array()))
        if (c.value("type", "") == g.value("conditionType", "") && c.value("status", "") == "True")
          ++trueGates;
    gates = fmt::format("{}/{}", trueGates, spec["readinessGates"].size());
  }
  return json::array(
      {o["metadata"].value("name", ""), fmt::format("{}/{}", ready, total), reason, restartsStr, age(o, now),
       ip, spec.value("nodeName", "") == "" ? "<none>" : spec["nodeName"].get<std::string>(),
       status.value("nominatedNodeName", "") == "" ? "<none>"
                                                   : status["nominatedNodeName"].get<std::string>(),
       gates});
}

json nodeCells(const json& o, int64_t now) {
  const json status = o.value("status", json::object());
  std::string st = "Unknown";
  for (const auto& c : status.value("conditions", json::array()))
    if (c.value("type", "") == "Ready")
      st = c.value("status", "") == "True"    ? "Ready"
           : c.value("status", "") == "False" ? "NotReady"
                                              : "Unknown";
  if (o.value("spec", json::object()).value("unschedulable", false)) st += ",SchedulingDisabled";
  std::set<std::string> roles;
  const json labels = o["metadata"].value("labels", json::object());
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    const std::string pre = "node-role.kubernetes.io/";
    if (it.key().rfind(pre, 0) == 0 && it.key().size() > pre.size())
      roles.insert(it.key().substr(pre.size()));
    if (it.key() == "kubernetes.io/role" && it.value().is_string())
      roles.insert(it.value().get<std::string>());
  }
  std::string r;
  for (const auto& x : roles) r += (r.empty() ? "" : ",") + x;
  auto addr = [&](const std::string& type) {
    for (const auto& a : status.value("addresses", json::array()))
      if (a.value("type", "") == type) return a.value("address", "<none>");
    return std::string("<none>");
  };
  auto info = [&](const char* k) {
    std::string v = status.value("nodeInfo", json::object()).value(k, "");
    return v.empty() ? std::string("<unknown>") : v;
  };
  return json::array({o["metadata"].value("name", ""), st, r.empty() ? "<none>" : r, age(o, now),
                      status.value("nodeInfo", json::object()).value("kubeletVersion", ""),
                      addr("InternalIP"), addr("ExternalIP"), info("osImage"), info("kernelVersion"),
                      info("containerRuntimeVersion")});
}

json sliceCells(const json& o, int64_t now) {
  std::vector<std::string> ports, addrs;
  for (const auto& p : o.value("ports", json::array()))
    ports.push_back(p.contains("port") ? std::to_string(p["port"].get<int>()) : p.value("name", "*"));
  for (const auto& e : o.value("endpoints", json::array()))
    for (const auto& a : e.value("addresses", json::array())) addrs.push_back(a.get<std::string>());
  return json::array({o["metadata"].value("name", ""), o.value("addressType", ""),
                      joinMore(ports, 3, "<unset>"), joinMore(addrs, 3, "<unset>"), age(o, now)});
}

json endpointsCells(const json& o, int64_t now) {
  std::vector<std::string> all;
  for (const auto& s : o.value("subsets", json::array())) {
    for (const auto& p : s.value("ports", json::array()))
      for (const auto& a : s.value("addresses", json::array()))
        all.push_back(fmt::format("{}:{}", a.value("ip", ""), p.value("port", 0)));
    if (s.value("ports", json::array()).empty())
      for (const auto& a : s.value("addresses", json::array())) all.push_back(a.value("ip", ""));
  }
  return json::array({o["metadata"].value("name", ""), joinMore(all, 3, "<none>"), age(o, now)});
}

std::string lowerKind(std::string k) {
  for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return k;
}

json eventCells(const json& o, int64_t now) {
  std::string last = o.value("lastTimestamp", "");
  if (last.empty() || o["lastTimestamp"].is_null())
    last =
        o.value("eventTime", json("")).is_string() ? o.value("eventTime", json("")).get<std::string>() : "";
  std::string first = o.value("firstTimestamp", json("")).is_string()
                          ? o.value("firstTimestamp", json("")).get<std::string>()
                          : "";
  const json inv = o.value("involvedObject", json::object());
  const json src = o.value("source", json::object());
  std::string source = src.value("component", "");
  if (src.value("host", "") != "") source += ", " + src["host"].get<std::string>();
  int count = o.value("count", 1);
  std::string lastSeen = last.empty() ? "<unknown>" : since(last, now);
  if (count > 1 && !first.empty())
    lastSeen = fmt::format("{} (x{} over {})", lastSeen, count, since(first, now));
  return json::array({lastSeen, o.value("type", ""), o.value("reason", ""),
                      lowerKind(inv.value("kind", "")) + "/" + inv.value("name", ""), o.value("message", ""),
                      inv.value("fieldPath", ""), source, first.empty() ? "<unknown>" : since(first, now),
                      count, o["metadata"].value("name", "")});
}

json deploymentCells(const json& o, int64_t now) {
  const json st = o.value("status", json::object());
  const json spec = o.value("spec", json::object());
  std::string containers, images;
  if (o.contains("/spec/template/spec/containers"_json_pointer))
    for (const auto& c : o["/spec/template/spec/containers"_json_pointer]) {
      containers += (containers.empty() ? "" : ",") + c.value("name", "");
      images += (images.empty() ? "" : ",") + c.value("image", "");
    }
  std::string sel = "<none>";
  if (spec.contains("selector")) {
    sel = formatLabels(spec["selector"].value("matchLabels", json::object()));
  }
  return json::array({o["metadata"].value("name", ""),
                      fmt::format("{}/{}", st.value("readyReplicas", 0), spec.value("replicas", 1)),
                      st.value("updatedReplicas", 0), st.value("availableReplicas", 0), age(o, now),
                      containers, images, sel});
}

}  // namespace

json tableColumns(const std::string& r) {
  if (r == "services")
    return json::array({nameCol(), col("Type", "string", "The type of the service."),
                        col("Cluster-IP", "string", "The cluster ip of the service."),
                        col("External-IP", "string", "The external ip of the service."),
                        col("Port(s)", "string", "The ports of the service."), ageCol(),
                        col("Selector", "string", "The selector of the service.", 1)});
  if (r == "pods")
    return json::array(
        {nameCol(),
         col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
         col("Status", "string", "The aggregate status of the containers in this pod."),
         col("Restarts", "string",
             "The number of times the containers in this pod have been restarted and when the last container "
             "in this pod has restarted."),
         ageCol(), col("IP", "string", "The IP address of the pod.", 1),
         col("Node", "string", "The name of the node where the pod is running.", 1),
         col("Nominated Node", "string", "The name of the node where the pod is nominated to run.", 1),
         col("Readiness Gates", "string", "The readiness gates of this pod.", 1)});
  if (r == "nodes")
    return json::array(
        {nameCol(), col("Status", "string", "The status of the node"),
         col("Roles", "string", "The roles of the node"), ageCol(),
         col("Version", "string", "Kubelet Version reported by the node."),
         col("Internal-IP", "string", "List of addresses reachable to the node.", 1),
         col("External-IP", "string", "List of addresses reachable to the node.", 1),
         col("OS-Image", "string",
             "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
         col("Kernel-Version", "string",
             "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
         col("Container-Runtime", "string",
             "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
             "containerd://1.4.2).",
             1)});
  if (r == "namespaces")
    return json::array({nameCol(), col("Status", "string", "The status of the namespace"), ageCol()});
  if (r == "endpointslices")
    return json::array(
        {nameCol(), col("AddressType", "string", "The type of addresses contained in this EndpointSlice."),
         col("Ports", "string", "List of ports exposed by this EndpointSlice."),
         col("Endpoints", "string", "List of endpoint addresses included in this EndpointSlice."), ageCol()});
  if (r == "endpoints")
    return json::array({nameCol(), col("Endpoints", "string", "Endpoints of the resource."), ageCol()});
  if (r == "leases")
    return json::array({nameCol(), col("Holder", "string", "The holder of the lease."), ageCol()});
  if (r == "events")
    return json::array({col("Last Seen", "string", "Time when last event occurred."),
                        col("Type", "string", "Type of the event."),
                        col("Reason", "string", "Reason of the event."),
                        col("Object", "string", "The object the event is about."),
                        col("Message", "string", "Message of the event."),
                        col("Subobject", "string", "The subobject of the event.", 1),
                        col("Source", "string", "Source of the event.", 1),
                        col("First Seen", "string", "Time when first event occurred.", 1),
                        col("Count", "integer", "Number of times the event occurred.", 1),
                        col("Name", "string", kNameDesc, 1, "name")});
  if (r == "deployments")
    return json::array({nameCol(), col("Ready", "string", "Number of the pod with ready state"),
                        col("Up-to-date", "string",
                            "Total number of non-terminated pods targeted by this deployment that have the "
                            "desired template spec."),
                        col("Available", "string",
                            "Total number of available pods (ready for at least minReadySeconds) targeted by "
                            "this deployment."),
                        ageCol(), col("Containers", "string", "Names of each container in the template.", 1),
                        col("Images", "string", "Images referenced by each container in the template.", 1),
                        col("Selector", "string",
                            "Label selector for pods. Existing ReplicaSets whose pods are selected by this "
                            "will be the ones affected by this deployment.",
                            1)});
  if (r == "configmaps")
    return json::array({nameCol(), col("Data", "string", "Number of data in the configmap"), ageCol()});
  if (r == "secrets")
    return json::array({nameCol(), col("Type", "string", "The type of the secret"),
                        col("Data", "string", "The number of data in the secret"), ageCol()});
  if (r == "serviceaccounts")
    return json::array(
        {nameCol(), col("Secrets", "string", "Number of secrets in the service account"), ageCol()});
  return json::array({nameCol(), ageCol()});
}

json tableCells(const std::string& r, const json& o, int64_t now) {
  if (r == "services") return serviceCells(o, now);
  if (r == "pods") return podCells(o, now);
  if (r == "nodes") return nodeCells(o, now);
  if (r == "endpointslices") return sliceCells(o, now);
  if (r == "endpoints") return endpointsCells(o, now);
  if (r == "events") return eventCells(o, now);
  if (r == "deployments") return deploymentCells(o, now);
  const std::string name = o["metadata"].value("name", "");
  if (r == "namespaces")
    return json::array({name, o.value("status", json::object()).value("phase", "Active"), age(o, now)});
  if (r == "leases")
    return json::array({name, o.value("spec", json::object()).value("holderIdentity", ""), age(o, now)});
  if (r == "configmaps")
    return json::array({name,
                        o.value("data", json::object()).size() + o.value("binaryData", json::object()).size(),
                        age(o, now)});
  if (r == "secrets")
    return json::array(
        {name, o.value("type", "Opaque"), o.value("data", json::object()).size(), age(o, now)});
  if (r == "serviceaccounts")
    return json::array({name, o.value("secrets", json::array()).size(), age(o, now)});
  return json::array({name, age(o, now)});
}

json renderTable(const std::string& r, const std::vector<json>& objs, int64_t now,
                 const std::string& includeObject, const std::string& listRv, bool withColumns) {
  json t = {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", json::object()}};
  if (!listRv.empty()) t["metadata"]["resourceVersion"] = listRv;
  t["columnDefinitions"] = withColumns ? tableColumns(r) : json::array();
  t["rows"] = json::array();
  for (const auto& o : objs) {
    json row = {{"cells", tableCells(r, o, now)}};
    if (includeObject == "Object") {
      row["object"] = o;
    } else if (includeObject != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", o.value("metadata", json::object())}};
    }
    t["rows"].push_back(std::move(row));
  }
  return t;
}

}  // namespace floatlb::kubesim
