// libFuzzer target for the Kubernetes client's watch-stream decoder and the operator's object
// parsers (Service, Node, EndpointSlice, the drift check's rule list). The first byte picks where
// the stream is split, so chunk boundaries inside events are exercised too.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "k8s/watch_decoder.h"
#include "operator/endpoints.h"
#include "operator/objects.h"
#include "operator/rule.h"
#include "operator/service_plan.h"
#include "operator/status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace floatlb;
  if (size == 0) return 0;
  size_t split = data[0] % (size);
  std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
  k8s::WatchDecoder dec(1 << 16);
  std::vector<k8s::WatchEvent> evs;
  if (dec.feed(all.substr(0, split), evs).ok()) (void)dec.feed(all.substr(std::min(split, all.size())), evs);
  kube::Options opts;
  opts.pools = {*kube::parsePool("defaultPool=10.0.0.1/30")};
  kube::Ipam ipam(opts.pools, false);
  std::map<std::string, kube::NodeView> nodes;
  std::vector<kube::SliceView> slices;
  for (const auto& e : evs) {
    auto n = kube::parseNode(e.object);
    nodes[n.name] = n;
    slices.push_back(kube::parseSlice(e.object));
  }
  std::vector<const kube::SliceView*> sp;
  for (const auto& s : slices) sp.push_back(&s);
  for (const auto& e : evs) {
    kube::ServiceView s = kube::parseService(e.object);
    (void)kube::addressFromStatus(s.ingress, "llb");
    if (kube::handled(s, opts) || !s.ports.empty()) {
      auto plan = kube::planService(s, opts, ipam, nodes, sp);
      for (const auto& r : plan.rules) (void)kube::encodeRule(r);
    }
  }
  (void)kube::parseRuleList(std::string(all));
  return 0;
}
