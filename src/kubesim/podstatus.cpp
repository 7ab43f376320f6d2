#include "kubesim/podstatus.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "kubesim/table.h"

namespace floatlb::kubesim {

namespace {

bool startsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

json cond(const json& old, const std::string& type, bool ok, const std::string& ts,
          const std::string& reason = "", const std::string& msg = "") {
  std::string status = ok ? "True" : "False";
  json c = {{"type", type}, {"status", status}, {"lastProbeTime", nullptr}, {"lastTransitionTime", ts}};
  for (const auto& oc : old.value("conditions", json::array())) {
    if (oc.value("type", "") == type && oc.value("status", "") == status) {
      c["lastTransitionTime"] = oc["lastTransitionTime"];
    }
  }
  if (!ok && !reason.empty()) c["reason"] = reason;
  if (!ok && !msg.empty()) c["message"] = msg;
  return c;
}

json containerStatus(const ContainerObs& c, int64_t now) {
  json s = {{"name", c.name},          {"image", c.image},     {"imageID", ""},
            {"ready", c.running},      {"started", c.running}, {"restartCount", c.restartCount},
            {"lastState", c.lastState}};
  if (!c.containerId.empty()) s["containerID"] = c.containerId;
  if (c.pullFailed) {
    bool backoff = now - c.pullFailedAt >= 2000;
    s["state"] = {
        {"waiting",
         {{"reason", backoff ? "ImagePullBackOff" : "ErrImagePull"},
          {"message", backoff ? "Back-off pulling image \"" + c.image + "\""
                              : "failed to pull and unpack image \"" + c.image +
                                    "\": failed to resolve reference \"" + c.image + "\": not found"}}}};
  } else if (c.running) {
    s["imageID"] = "docker.io/library/" + c.image + "@sha256:" +
                   fmt::format("{:016x}{:016x}{:016x}{:016x}", std::hash<std::string>{}(c.image), 1u, 2u, 3u);
    s["state"] = {{"running", {{"startedAt", rfc3339(c.startedAt)}}}};
  } else if (c.terminated || c.backingOff) {
    json t = {{"exitCode", c.exitCode},
              {"reason", c.exitCode == 0 ? "Completed" : "Error"},
              {"startedAt", rfc3339(c.startedAt)},
              {"finishedAt", rfc3339(c.finishedAt)}};
    if (!c.containerId.empty()) t["containerID"] = c.containerId;
    if (c.terminated) {
      s["state"] = {{"terminated", t}};
    } else {
      s["state"] = {
          {"waiting",
           {{"reason", "CrashLoopBackOff"}, {"message", "back-off restarting failed container " + c.name}}}};
    }
  } else {
    s["state"] = {{"waiting", {{"reason", "ContainerCreating"}}}};
  }
  return s;
}

}  // namespace

ImageKind imageKind(const std::string& image) {
  if (image == "nginx" || startsWith(image, "nginx:") || startsWith(image, "docker.io/library/nginx:") ||
      startsWith(image, "nginx@")) {
    return ImageKind::kNginx;
  }
  if (startsWith(image, "ghcr.io/loxilb-io/kube-loxilb:") || startsWith(image, "kube-floatlb:") ||
      startsWith(image, "ghcr.io/floatlb/kube-floatlb:")) {
    return ImageKind::kOperator;
  }
  return ImageKind::kUnknown;
}

json podStatus(const json& old, const PodObs& obs, int64_t now) {
  const std::string ts = rfc3339(now);
  json st = json::object();
  json cs = json::array();
  std::string unready;
  bool anyRunning = false, allTerminated = !obs.containers.empty(), allSucceeded = true;
  for (const auto& c : obs.containers) {
    cs.push_back(containerStatus(c, now));
    anyRunning = anyRunning || c.running;
    allTerminated = allTerminated && c.terminated;
    allSucceeded = allSucceeded && c.terminated && c.exitCode == 0;
    if (!c.running) unready += (unready.empty() ? "" : " ") + c.name;
  }
  bool everStarted = std::any_of(obs.containers.begin(), obs.containers.end(),
                                 [](const ContainerObs& c) { return c.startedAt > 0; });
  std::string phase = allTerminated                 ? (allSucceeded ? "Succeeded" : "Failed")
                      : (anyRunning || everStarted) ? "Running"
                                                    : "Pending";
  bool ready = unready.empty() && anyRunning;
  std::string msg = "containers with unready status: [" + unready + "]";
  st["phase"] = phase;
  st["conditions"] = {cond(old, "PodReadyToStartContainers", obs.sandboxReady, ts),
                      cond(old, "Initialized", true, ts),
                      cond(old, "Ready", ready, ts, "ContainersNotReady", msg),
                      cond(old, "ContainersReady", ready, ts, "ContainersNotReady", msg),
                      cond(old, "PodScheduled", true, ts)};
  if (!obs.hostIp.empty()) {
    st["hostIP"] = obs.hostIp;
    st["hostIPs"] = {{{"ip", obs.hostIp}}};
  }
  if (!obs.podIp.empty()) {
    st["podIP"] = obs.podIp;
    st["podIPs"] = {{{"ip", obs.podIp}}};
  }
  if (obs.startTime > 0) st["startTime"] = old.value("startTime", rfc3339(obs.startTime));
  st["containerStatuses"] = cs;
  st["qosClass"] = old.value("qosClass", "BestEffort");
  return st;
}

bool shouldRestart(const std::string& restartPolicy, int code) {
  if (restartPolicy == "Never") return false;
  if (restartPolicy == "OnFailure") return code != 0;
  return true;
}

int64_t restartDelayMs(int restarts, int64_t baseMs) {
  int64_t d = baseMs;
  for (int i = 0; i < restarts && d < 300000; ++i) d *= 2;
  return std::min<int64_t>(d, 300000);
}

}  // namespace floatlb::kubesim
