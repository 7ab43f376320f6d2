#include "operator/objects.h"

#include <algorithm>

namespace floatlb::kube {

using k8s::Json;
using k8s::member;
using k8s::path;
using k8s::str;

namespace {

std::map<std::string, std::string> stringMap(const Json* m) {
  std::map<std::string, std::string> out;
  if (m == nullptr || !m->is_object()) return out;
  for (auto it = m->begin(); it != m->end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

std::vector<std::string> stringList(const Json* a) {
  std::vector<std::string> out;
  if (a == nullptr || !a->is_array()) return out;
  for (const auto& v : *a) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

uint16_t port16(const Json* v) {
  auto n = k8s::integer(v);
  if (!n || *n < 0 || *n > 65535) return 0;
  return static_cast<uint16_t>(*n);
}

const Json* array(const Json* v) { return v != nullptr && v->is_array() ? v : nullptr; }

}  // namespace

const std::string* ServiceView::annotation(const std::string& k) const {
  auto it = annotations.find(k);
  return it == annotations.end() ? nullptr : &it->second;
}

bool ServiceView::hasFinalizer(const std::string& f) const {
  return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
}

ServiceView parseService(const Json& obj) {
  ServiceView s;
  const Json* md = member(obj, "metadata");
  const Json empty = Json::object();
  const Json& m = md != nullptr ? *md : empty;
  s.ns = str(member(m, "namespace"), "default");
  s.name = str(member(m, "name"));
  s.uid = str(member(m, "uid"));
  s.resource_version = str(member(m, "resourceVersion"));
  s.creation_timestamp = str(member(m, "creationTimestamp"));
  s.deleting = member(m, "deletionTimestamp") != nullptr && !member(m, "deletionTimestamp")->is_null();
  s.annotations = stringMap(member(m, "annotations"));
  s.finalizers = stringList(member(m, "finalizers"));
  const Json* spec = member(obj, "spec");
  if (spec != nullptr) {
    s.type = str(member(*spec, "type"), "ClusterIP");
    if (const Json* c = member(*spec, "loadBalancerClass"); c != nullptr && c->is_string()) {
      s.load_balancer_class = c->get<std::string>();
    }
    s.load_balancer_ip = str(member(*spec, "loadBalancerIP"));
    s.etp_local = str(member(*spec, "externalTrafficPolicy")) == "Local";
    s.allocate_node_ports = k8s::boolean(member(*spec, "allocateLoadBalancerNodePorts")).value_or(true);
    s.source_ranges = stringList(member(*spec, "loadBalancerSourceRanges"));
    if (const Json* ports = array(member(*spec, "ports"))) {
      for (const auto& p : *ports) {
        ServicePort sp;
        sp.name = str(member(p, "name"));
        sp.protocol = str(member(p, "protocol"), "TCP");
        sp.port = port16(member(p, "port"));
        sp.node_port = port16(member(p, "nodePort"));
        const Json* tp = member(p, "targetPort");
        if (tp != nullptr && tp->is_string()) {
          sp.target_port = tp->get<std::string>();
        } else if (auto n = k8s::integer(tp)) {
          sp.target_port = std::to_string(*n);
        } else {
          sp.target_port = std::to_string(sp.port);
        }
        s.ports.push_back(std::move(sp));
      }
    }
  } else {
    s.type = "ClusterIP";
  }
  if (const Json* ing = array(path(obj, {"status", "loadBalancer", "ingress"}))) {
    for (const auto& e : *ing) {
      s.ingress.push_back({str(member(e, "ip")), str(member(e, "hostname")), str(member(e, "ipMode"))});
    }
  }
  return s;
}

NodeView parseNode(const Json& obj) {
  NodeView n;
  n.name = str(path(obj, {"metadata", "name"}));
  n.labels = stringMap(path(obj, {"metadata", "labels"}));
  if (const Json* conds = array(path(obj, {"status", "conditions"}))) {
    for (const auto& c : *conds) {
      if (str(member(c, "type")) == "Ready") n.ready = str(member(c, "status")) == "True";
    }
  }
  if (const Json* addrs = array(path(obj, {"status", "addresses"}))) {
    for (const auto& a : *addrs) {
      if (str(member(a, "type")) != "InternalIP") continue;
      auto ip = Ip4::parse(str(member(a, "address")));
      if (ip) {
        n.internal_ip = *ip;
        break;  // first IPv4 InternalIP
      }
    }
  }
  return n;
}

SliceView parseSlice(const Json& obj) {
  SliceView s;
  s.ns = str(path(obj, {"metadata", "namespace"}), "default");
  s.name = str(path(obj, {"metadata", "name"}));
  s.service_name = str(path(obj, {"metadata", "labels", "kubernetes.io/service-name"}));
  s.ipv4 = str(member(obj, "addressType"), "IPv4") == "IPv4";
  if (const Json* eps = array(member(obj, "endpoints"))) {
    for (const auto& e : *eps) {
      SliceEndpoint se;
      if (const Json* addrs = array(member(e, "addresses"))) {
        for (const auto& a : *addrs) {
          if (!a.is_string()) continue;
          auto ip = Ip4::parse(a.get<std::string>());
          if (ip) se.addresses.push_back(*ip);
        }
      }
      const Json* cond = member(e, "conditions");
      if (cond != nullptr) {
        se.ready = k8s::boolean(member(*cond, "ready")).value_or(true);
        se.serving = k8s::boolean(member(*cond, "serving")).value_or(se.ready);
        se.terminating = k8s::boolean(member(*cond, "terminating")).value_or(false);
      }
      se.node_name = str(member(e, "nodeName"));
      s.endpoints.push_back(std::move(se));
    }
  }
  if (const Json* ports = array(member(obj, "ports"))) {
    for (const auto& p : *ports) {
      s.ports.push_back(
          {str(member(p, "name")), str(member(p, "protocol"), "TCP"), port16(member(p, "port"))});
    }
  }
  return s;
}

}  // namespace floatlb::kube
