// The netns realisation (kubesim up --vpcsim-state-dir): one kubelet + kube-proxy for every node of
// the vpcsim world. Per pod: a VPC IP on the node's ENI (EKS VPC CNI model, through vpcsim's EC2 API),
// a network namespace wired to the node namespace, containers as processes through the image map,
// status through the API (PUT …/status, as a kubelet does). Per node: the nftables table `kubesim`
// (kubeproxy.h) and the health-check NodePorts. The decisions are pure (podstatus.h, kubeproxy.h);
// EC2, processes, commands and listeners are behind the small interfaces below.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "kubesim/apiserver.h"
#include "kubesim/kubeproxy.h"
#include "kubesim/podstatus.h"
#include "sim/realiser.h"

namespace floatlb::kubesim {

// Secondary private IPs on an ENI (AssignPrivateIpAddresses / UnassignPrivateIpAddresses).
class PodIpAllocator {
 public:
  virtual ~PodIpAllocator() = default;
  virtual Result<std::string> assign(const std::string& eni) = 0;
  virtual Status release(const std::string& eni, const std::string& ip) = 0;
};

// Container processes inside a network namespace.
class ProcessRuntime {
 public:
  virtual ~ProcessRuntime() = default;
  virtual Result<pid_t> start(const std::string& netns, const std::vector<std::string>& argv,
                              const std::vector<std::string>& env, const std::string& logFile) = 0;
  // The exit code once `pid` has ended (reaped), nullopt while it runs.
  virtual std::optional<int> exited(pid_t pid) = 0;
  // SIGTERM to its process group, SIGKILL after `grace`; reaps it.
  virtual void stop(pid_t pid, std::chrono::milliseconds grace) = 0;
};

// The health-check NodePorts of every node (kube-proxy's HTTP responders).
class HealthListeners {
 public:
  virtual ~HealthListeners() = default;
  // Desired set for `node` (listening inside `netns`); listeners not in it are closed.
  virtual void set(const std::string& node, const std::string& netns,
                   const std::vector<HealthCheck>& hcs) = 0;
};

struct KubeletNode {
  NodeSpec spec;
  std::string netns;  // the vpcsim instance namespace
  std::string eni;    // its primary ENI
};

struct KubeletConfig {
  std::string prefix;                  // pod namespaces are <prefix>p-<hash>
  std::string stateDir;                // pods/<ns>_<name>/ (configs, logs, pid files, service-account files)
  std::string operatorBinary;          // build/bin/kube-floatlb
  std::string caFile;                  // for the service-account dir
  std::string tokensFile;              // the TLS listener's token file (per-ServiceAccount tokens appended)
  std::string apiHost = "10.100.0.1";  // KUBERNETES_SERVICE_HOST (kube-proxy DNATs it)
  int apiPort = 443;
  int64_t restartBaseMs = 10000;
  std::chrono::milliseconds stopGrace{2000};
};

class NetnsKubelet {
 public:
  NetnsKubelet(ApiServer& api, const Clock& clock, sim::CommandRunner& cmd, PodIpAllocator& ips,
               ProcessRuntime& procs, HealthListeners& health, KubeletConfig cfg,
               std::vector<KubeletNode> nodes);
  // Node namespaces: forwarding on, loose rp_filter; the Nodes registered with the API server.
  Status setup();
  // One reconcile pass: pods (sandboxes, containers, status, deletions) then kube-proxy.
  void sync();
  // Stops every pod it runs (processes, namespaces, IPs) and removes the kube-proxy tables.
  void shutdown();

 private:
  struct Container {
    ContainerObs obs;
    ImageKind kind = ImageKind::kUnknown;
    std::vector<std::string> argv, env;
    pid_t pid = -1;
    int64_t restartAt = 0;
  };
  struct Pod {
    std::string uid, ns, name, node, netns, veth, ip, eni, dir, restartPolicy;
    int64_t startTime = 0;
    bool sandbox = false;
    std::vector<Container> containers;
  };

  Response call(const std::string& method, const std::string& path, const json& body = nullptr);
  const KubeletNode* node(const std::string& name) const;
  Status createSandbox(Pod& p, const json& pod);
  void prepareContainers(Pod& p, const json& pod);
  void runContainers(Pod& p);
  void teardown(Pod& p);
  void writeStatus(const Pod& p, const json& pod);
  void event(const json& pod, const std::string& type, const std::string& reason, const std::string& msg);
  std::string serviceAccountDir(const Pod& p, const json& pod);
  void syncProxy();

  ApiServer& api_;
  const Clock& clock_;
  sim::CommandRunner& cmd_;
  PodIpAllocator& ips_;
  ProcessRuntime& procs_;
  HealthListeners& health_;
  KubeletConfig cfg_;
  std::vector<KubeletNode> nodes_;
  std::map<std::string, Pod> pods_;              // by uid
  std::map<std::string, std::string> applied_;   // node -> nft ruleset applied
  std::map<std::string, std::string> saTokens_;  // ns/sa -> token
};

// The Nodes of a vpcsim world from its env file (KEY=VALUE map): every instance whose name starts
// with "node" (VPCSIM_INSTANCE_NODE1, VPCSIM_NS_NODE1, VPCSIM_IP_NODE1, VPCSIM_ENI_NODE1), named
// ip-a-b-c-d.<region>.compute.internal as on EKS; the zone is left for the caller (DescribeInstances).
std::vector<KubeletNode> vpcsimNodes(const std::map<std::string, std::string>& env);
std::map<std::string, std::string> parseEnvFile(const std::string& text);

// Real implementations (kubelet_runtime.cpp).
std::unique_ptr<ProcessRuntime> makeProcessRuntime();
std::unique_ptr<HealthListeners> makeHealthListeners();
// PodIpAllocator over vpcsim's EC2 endpoint, which also answers the nodes' availability zones.
class VpcsimEc2 : public PodIpAllocator {
 public:
  virtual Result<std::string> zoneOf(const std::string& instanceId) = 0;
};
// vpcsim's EC2 endpoint with static keys (the vpcsim env file's VPCSIM_ACCESS_KEY/SECRET_KEY).
Result<std::unique_ptr<VpcsimEc2>> makeVpcsimEc2(const std::string& endpoint, const std::string& region,
                                                 const std::string& accessKey, const std::string& secretKey,
                                                 const Clock& clock);

// `kubesim down` after a crash: kills the container processes named by pid files under
// `stateDir`/pods (checking /proc/<pid>/cmdline against the recorded one) and deletes the pod
// namespaces `<prefix>p-*`. Returns the IPs still recorded as assigned (eni, ip) for release.
std::vector<std::pair<std::string, std::string>> cleanupPods(const std::string& stateDir,
                                                             const std::string& prefix,
                                                             sim::CommandRunner& cmd);

}  // namespace floatlb::kubesim
