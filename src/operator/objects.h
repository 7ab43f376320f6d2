// Typed views of the Kubernetes objects the operator reads (Service, Node, EndpointSlice).
// Parsing is total: every field is optional and a value of the wrong type is treated as absent, so
// no user input can crash the operator (kube-loxilb panicked on a nil loadBalancerClass).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/net.h"
#include "k8s/json.h"

namespace floatlb::kube {

struct ServicePort {
  std::string name;
  std::string protocol = "TCP";  // as in the spec (upper case)
  uint16_t port = 0;
  uint16_t node_port = 0;
  std::string target_port;  // number or name, as text
};

struct IngressEntry {
  std::string ip;
  std::string hostname;
  std::string ip_mode;
  bool operator==(const IngressEntry&) const = default;
};

struct ServiceView {
  std::string ns, name, uid, resource_version, creation_timestamp;
  std::string type;
  std::optional<std::string> load_balancer_class;
  std::string load_balancer_ip;  // spec.loadBalancerIP (deprecated field)
  bool etp_local = false;
  bool allocate_node_ports = true;
  bool deleting = false;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;
  std::vector<std::string> source_ranges;
  std::vector<ServicePort> ports;
  std::vector<IngressEntry> ingress;

  [[nodiscard]] std::string key() const { return ns + "/" + name; }
  [[nodiscard]] const std::string* annotation(const std::string& k) const;
  [[nodiscard]] bool hasFinalizer(const std::string& f) const;
};

struct NodeView {
  std::string name;
  bool ready = false;
  std::optional<Ip4> internal_ip;
  std::map<std::string, std::string> labels;
};

struct SliceEndpoint {
  std::vector<Ip4> addresses;
  bool ready = true;  // nil ready = ready
  bool serving = true;
  bool terminating = false;
  std::string node_name;
};

struct SlicePort {
  std::string name;
  std::string protocol = "TCP";
  uint16_t port = 0;
};

struct SliceView {
  std::string ns, name, service_name;
  bool ipv4 = true;
  std::vector<SliceEndpoint> endpoints;
  std::vector<SlicePort> ports;
  [[nodiscard]] std::string serviceKey() const { return ns + "/" + service_name; }
};

ServiceView parseService(const k8s::Json& obj);
NodeView parseNode(const k8s::Json& obj);
SliceView parseSlice(const k8s::Json& obj);

}  // namespace floatlb::kube
