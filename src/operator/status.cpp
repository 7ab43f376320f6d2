#include "operator/status.h"

#include "common/strings.h"

namespace floatlb::kube {

std::vector<IngressEntry> ingressFor(Ip4 ip, const Options& o) {
  switch (o.ingress_mode) {
    case IngressMode::kHostname:
      if (!o.zone.empty()) return {{"", o.zone + "-" + ip.str(), ""}};
      return {{ip.str(), "", ""}};
    case IngressMode::kIp:
      return {{ip.str(), "", ""}};
    case IngressMode::kProxy:
      return {{ip.str(), "", "Proxy"}};
  }
  return {};
}

k8s::Json statusPatch(const std::vector<IngressEntry>& ingress) {
  k8s::Json lb = k8s::Json::object();
  if (!ingress.empty()) {
    k8s::Json list = k8s::Json::array();
    for (const auto& e : ingress) {
      k8s::Json j = k8s::Json::object();
      if (!e.ip.empty()) j["ip"] = e.ip;
      if (!e.hostname.empty()) j["hostname"] = e.hostname;
      if (!e.ip_mode.empty()) j["ipMode"] = e.ip_mode;
      list.push_back(j);
    }
    lb["ingress"] = list;
  } else {
    lb["ingress"] = nullptr;  // merge-patch: remove the list
  }
  return k8s::Json{{"status", {{"loadBalancer", lb}}}};
}

std::optional<Ip4> addressFromStatus(const std::vector<IngressEntry>& ingress, const std::string& zone) {
  for (const auto& e : ingress) {
    if (!e.ip.empty()) {
      if (auto ip = Ip4::parse(e.ip)) return *ip;
      continue;
    }
    std::string prefix = zone + "-";
    if (!zone.empty() && startsWith(e.hostname, prefix)) {
      if (auto ip = Ip4::parse(std::string_view(e.hostname).substr(prefix.size()))) return *ip;
    }
  }
  return std::nullopt;
}

}  // namespace floatlb::kube
