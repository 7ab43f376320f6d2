// kube-proxy's decisions, pure: from Services and EndpointSlices to the nftables ruleset of one node
// (NodePort DNAT, externalTrafficPolicy, ClusterIP DNAT) and the health-check NodePort answers.
// The shell (kubelet.cpp) applies the text with `nft -f -` inside the node's namespace.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace floatlb::kubesim {

using json = nlohmann::json;

struct ProxyEndpoint {
  std::string ip;
  int port = 0;
  std::string nodeName;
};

// One forwarding rule: traffic to (ClusterIP or any local address):port → endpoints.
struct ProxyRule {
  std::string ns, name, protocol;        // protocol "tcp" | "udp"
  std::string clusterIp;                 // "" for a NodePort rule
  int port = 0;                          // service port or nodePort
  bool local = false;                    // externalTrafficPolicy: Local (NodePort rules only)
  std::vector<ProxyEndpoint> endpoints;  // already filtered for `local`
};

struct HealthCheck {
  std::string ns, name;
  int port = 0;
  int localEndpoints = 0;
};

// Ready endpoints of Service `svc` for its port `svcPort` (from the slices of the same namespace
// labelled kubernetes.io/service-name), resolving the slice port by the service port's name.
std::vector<ProxyEndpoint> serviceEndpoints(const json& svc, const json& svcPort, const json& slices);
// The rules of node `nodeName`: ClusterIP rules for every Service with a ClusterIP, NodePort rules
// for every port with a nodePort (type NodePort/LoadBalancer); Local ⇒ only this node's endpoints.
std::vector<ProxyRule> proxyRules(const std::string& nodeName, const json& services, const json& slices);
// The nftables script for table `ip kubesim` (replaces the table atomically when applied).
std::string nftRuleset(const std::vector<ProxyRule>& rules);
// Health-check NodePorts (externalTrafficPolicy Local with spec.healthCheckNodePort) on `nodeName`.
std::vector<HealthCheck> healthChecks(const std::string& nodeName, const json& services, const json& slices);
// kube-proxy's answer: 200 with localEndpoints ≥ 1, else 503; the body as kube-proxy writes it.
int healthCode(const HealthCheck& h);
std::string healthBody(const HealthCheck& h);

}  // namespace floatlb::kubesim
