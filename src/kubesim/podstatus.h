// The kubelet's pod state machine, pure: what the runtime observed (sandbox, container processes,
// pulls, exits) → the Pod's status as a real kubelet writes it (phase, conditions with stable
// lastTransitionTime, containerStatuses with state/lastState/restartCount), and the restart rule.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace floatlb::kubesim {

using json = nlohmann::json;

enum class ImageKind { kUnknown, kNginx, kOperator };
// The image map of the netns kubelet: nginx:* (and docker.io/library/nginx…) → Debian's nginx;
// the operator images (ghcr.io/loxilb-io/kube-loxilb:*, kube-floatlb:*) → build/bin/kube-floatlb.
ImageKind imageKind(const std::string& image);

struct ContainerObs {
  std::string name, image, containerId;
  bool pullFailed = false;
  int64_t pullFailedAt = 0;
  bool running = false;
  int64_t startedAt = 0;  // of the current (or last) run
  int restartCount = 0;
  bool terminated = false;  // exited and will not restart (restartPolicy)
  int exitCode = 0;
  int64_t finishedAt = 0;
  bool backingOff = false;  // exited, restart pending (CrashLoopBackOff)
  json lastState = json::object();
};

struct PodObs {
  std::string hostIp, podIp;
  bool sandboxReady = false;
  int64_t startTime = 0;
  std::vector<ContainerObs> containers;
};

// `old` is the current status (for lastTransitionTime); time in wall milliseconds.
json podStatus(const json& old, const PodObs& obs, int64_t now);

// Restart after an exit with `code`? restartPolicy Always | OnFailure | Never.
bool shouldRestart(const std::string& restartPolicy, int code);
// Back-off before restart number `restarts`+1: base·2^restarts, capped at 300 s (kubelet: 10 s base).
int64_t restartDelayMs(int restarts, int64_t baseMs);

}  // namespace floatlb::kubesim
