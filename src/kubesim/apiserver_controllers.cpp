// ApiServer mini controllers: events, Deployments, GC, scheduler, record kubelet, node lifecycle, endpoints.
#include <fmt/format.h>

#include <algorithm>

#include "kubesim/apiserver.h"
#include "kubesim/apiserver_support.h"
#include "kubesim/patch.h"
#include "kubesim/podstatus.h"
#include "kubesim/status.h"
#include "kubesim/table.h"

namespace floatlb::kubesim {

using namespace apiserver_support;  // NOLINT(google-build-using-namespace): the split's shared helpers

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
    if (st.value("phase", "Pending") != "Pending") continue;
    std::string uid = pod["metadata"].value("uid", "");
    // The record kubelet observes every known image running at once, the others failing to pull;
    // the status itself comes from the kubelet's state machine (podstatus.h), as with --vpcsim.
    PodObs obs;
    obs.hostIp = ni->second.ip;
    obs.sandboxReady = true;
    obs.startTime = t;
    bool first = !pullFailedAt_.count(uid);
    bool pullFailed = false;
    for (const auto& c : pod["spec"]["containers"]) {
      ContainerObs co;
      co.name = c.value("name", "");
      co.image = c.value("image", "");
      if (!imageKnown(cfg_.images, co.image)) {
        pullFailed = true;
        co.pullFailed = true;
        co.pullFailedAt = first ? t : pullFailedAt_[uid];
      } else {
        co.running = true;
        co.startedAt = t;
        co.containerId =
            "containerd://" + fmt::format("{:016x}{:016x}{:016x}{:016x}", rng_(), rng_(), rng_(), rng_());
      }
      obs.containers.push_back(co);
    }
    obs.podIp = st.value("podIP", "");
    if (obs.podIp.empty()) {
      if (pod["spec"].value("hostNetwork", false)) {
        obs.podIp = ni->second.ip;
      } else {
        auto base = parseIpv4(ni->second.ip);
        for (uint32_t host = 100; base && host < 250; ++host) {
          std::string cand = formatIpv4((*base & 0xffffff00u) | host);
          if (podIpsUsed_[node].insert(cand).second) {
            obs.podIp = cand;
            break;
          }
        }
      }
    }
    if (pullFailed && first) pullFailedAt_[uid] = t;
    json next = podStatus(st, obs, t);
    if (next == st) continue;
    st = next;
    const json& stored = store_.put("pods", pod);
    json inv = stored;
    if (pullFailed) {
      if (first)
        recordEvent(
            inv, "Warning", "Failed",
            "Failed to pull image: " + next["containerStatuses"][0]["state"]["waiting"].value("message", ""),
            "kubelet", node);
      continue;
    }
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

}  // namespace floatlb::kubesim
