#include "lb/slots.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace floatlb::lb {

std::vector<uint8_t> expandWeightedSlots(const std::vector<uint32_t>& weights, size_t total_slots) {
  std::vector<uint8_t> out;
  if (weights.empty() || total_slots == 0) return out;
  std::vector<uint64_t> w(weights.begin(), weights.end());
  if (std::all_of(w.begin(), w.end(), [](uint64_t x) { return x == 0; })) std::fill(w.begin(), w.end(), 1);
  const uint64_t sum = std::accumulate(w.begin(), w.end(), uint64_t{0});
  const size_t positive = static_cast<size_t>(std::count_if(w.begin(), w.end(), [](uint64_t x) { return x > 0; }));
  total_slots = std::max(total_slots, positive);  // every positive weight gets a slot

  // Largest remainder: floor shares first, then hand out the rest by descending remainder.
  std::vector<size_t> count(w.size(), 0);
  std::vector<std::pair<uint64_t, size_t>> remainders;
  size_t assigned = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    uint64_t scaled = w[i] * total_slots;
    count[i] = static_cast<size_t>(scaled / sum);
    if (w[i] > 0 && count[i] == 0) count[i] = 1;
    assigned += count[i];
    remainders.push_back({scaled % sum, i});
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t k = 0; assigned < total_slots && k < remainders.size(); ++k) {
    if (w[remainders[k].second] == 0) continue;
    ++count[remainders[k].second];
    ++assigned;
  }
  while (assigned > total_slots) {  // minimum-one rule overshot: trim the largest
    auto it = std::max_element(count.begin(), count.end());
    --*it;
    --assigned;
  }

  // Smooth weighted round-robin over the slot counts: deterministic and evenly interleaved.
  std::vector<int64_t> current(w.size(), 0);
  const auto total = static_cast<int64_t>(assigned);
  for (size_t n = 0; n < assigned; ++n) {
    size_t best = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      current[i] += static_cast<int64_t>(count[i]);
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    out.push_back(static_cast<uint8_t>(best));
  }
  return out;
}

flb_svc_key makeSvcKey(const RuleSpec& rule) {
  flb_svc_key k{};
  k.vip = rule.datapathVip().networkOrder();
  k.port = htons(rule.key.port);
  k.proto = static_cast<uint8_t>(rule.key.proto);
  k.block = rule.key.block;
  return k;
}

Result<flb_svc> makeSvcValue(const RuleSpec& rule, uint32_t rule_id, const EndpointTable& eps,
                             SourceAddressResolver& resolver) {
  if (eps.size() > FLB_MAX_ENDPOINTS) {
    return makeError(ErrorCode::kInternal, "endpoint table larger than FLB_MAX_ENDPOINTS");
  }
  flb_svc v{};
  v.rule_id = rule_id;
  v.mode = static_cast<uint8_t>(rule.mode);
  v.sel = static_cast<uint8_t>(rule.sel);
  v.n_eps = static_cast<uint8_t>(eps.size());
  v.ct_timeout_s = rule.effectiveTimeout();
  v.persist_timeout_s = kDefaultPersistTimeoutS;

  std::vector<uint8_t> active_idx;
  std::vector<uint32_t> active_weights;
  for (size_t i = 0; i < eps.size(); ++i) {
    if (!eps[i]) continue;
    const auto& e = *eps[i];
    auto& out = v.eps[i];
    out.ip = e.ep.ip.networkOrder();
    out.port = htons(e.ep.target_port);
    out.weight = e.ep.weight;
    switch (rule.mode) {
      case LbMode::kDefault: out.snat_ip = 0; break;
      case LbMode::kFullNat: out.snat_ip = rule.datapathVip().networkOrder(); break;
      case LbMode::kOneArm: {
        auto src = resolver.sourceFor(e.ep.ip);
        if (!src) return src.error().wrap("one-arm source address for endpoint " + e.ep.ip.str());
        out.snat_ip = src->networkOrder();
        break;
      }
    }
    if (e.healthy) {
      out.flags = FLB_EP_F_ACTIVE;
      active_idx.push_back(static_cast<uint8_t>(i));
      active_weights.push_back(e.ep.weight);
    }
  }

  std::vector<uint8_t> slots;
  if (rule.sel == LbSel::kPriority) {
    for (uint8_t k : expandWeightedSlots(active_weights)) slots.push_back(active_idx[k]);
  } else {
    slots = active_idx;
  }
  v.n_slots = static_cast<uint8_t>(slots.size());
  std::copy(slots.begin(), slots.end(), v.slots);
  return v;
}

}  // namespace floatlb::lb
