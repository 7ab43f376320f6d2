// Selection-table construction (pure). The datapath selects among `slots[]` (endpoint indexes);
// the control plane decides which endpoints appear there and how often.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/net.h"
#include "common/result.h"
#include "floatlb/abi.h"
#include "lb/rule.h"

namespace floatlb::lb {

// Weighted expansion for `priority` selection: endpoint i gets a share of `total_slots`
// proportional to weights[i] (largest-remainder rounding, at least one slot for any positive
// weight), interleaved in smooth weighted round-robin order so a burst of new flows is spread
// instead of hitting one endpoint `weight` times in a row. Zero weights get no slot unless every
// weight is zero (then all are equal). Returns indexes into `weights`.
std::vector<uint8_t> expandWeightedSlots(const std::vector<uint32_t>& weights, size_t total_slots = FLB_MAX_SLOTS);

// The endpoints of a rule at stable indexes: an endpoint keeps its index for as long as it stays in
// the rule, so conntrack entries (which record the index) stay meaningful when others change.
struct IndexedEndpoint {
  Endpoint ep;
  bool healthy = true;
};
using EndpointTable = std::vector<std::optional<IndexedEndpoint>>;  // size <= FLB_MAX_ENDPOINTS

// Resolves the one-arm SNAT source: the LB's own address on the route towards `dst`.
class SourceAddressResolver {
 public:
  virtual ~SourceAddressResolver() = default;
  virtual Result<Ip4> sourceFor(Ip4 dst) = 0;
};

// Builds the datapath key and value of a rule (pure except for the resolver, which is injected).
flb_svc_key makeSvcKey(const RuleSpec& rule);
Result<flb_svc> makeSvcValue(const RuleSpec& rule, uint32_t rule_id, const EndpointTable& eps,
                             SourceAddressResolver& resolver);

}  // namespace floatlb::lb
