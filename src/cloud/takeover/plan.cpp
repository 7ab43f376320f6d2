#include "cloud/takeover/plan.h"

#include <algorithm>
#include <map>
#include <set>

namespace floatlb::cloud::takeover {

namespace {

// Attachment states in which the ENI still belongs to an instance.
bool attachedOrAttaching(const NetworkInterface& e) {
  return e.attachment && (e.attachment->status == "attached" || e.attachment->status == "attaching");
}
bool detaching(const NetworkInterface& e) { return e.attachment && e.attachment->status == "detaching"; }
bool attachedTo(const NetworkInterface& e, const std::string& instance) {
  return attachedOrAttaching(e) && e.attachment->instanceId == instance;
}

// Does `outer` (text) contain the whole of `inner`?
bool cidrCovers(const std::string& outer_text, const Cidr& inner) {
  auto outer = Cidr::parse(outer_text, true);
  if (!outer) return false;
  return outer->prefixLen() <= inner.prefixLen() && outer->contains(inner.network());
}

TakeoverStep step(StepKind k, std::string id, std::string why, bool critical = true) {
  TakeoverStep s{k, std::move(id), {}, {}, {}, {}, {}, {}, critical, std::move(why)};
  return s;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Route tables: keep the lowest tagged id (both nodes pick the same one), drop extras, make sure it
// has 0.0.0.0/0 -> IGW and is associated with exactly `subnet_id` (empty: associate later).
void planRouteTable(const TakeoverGoal& goal, const TakeoverObservation& obs, const std::string& subnet_id,
                    bool subnet_is_new, TakeoverPlan& plan) {
  std::vector<const RouteTable*> tagged;
  for (const auto& rt : obs.routeTables) {
    if (hasTag(rt.tags, goal.tags.key, goal.tags.routeTable()) && rt.vpcId == goal.vpcId) {
      tagged.push_back(&rt);
    }
  }
  std::sort(tagged.begin(), tagged.end(),
            [](const RouteTable* a, const RouteTable* b) { return a->routeTableId < b->routeTableId; });
  for (size_t i = 1; i < tagged.size(); ++i) {
    for (const auto& a : tagged[i]->associations) {
      if (a.main) continue;
      auto s = step(StepKind::kDisassociateRouteTable, a.associationId, "extra tagged route table", false);
      plan.steps.push_back(s);
    }
    plan.steps.push_back(
        step(StepKind::kDeleteRouteTable, tagged[i]->routeTableId, "extra tagged route table", false));
  }
  bool associated = false;
  if (tagged.empty()) {
    plan.steps.push_back(step(StepKind::kCreateRouteTable, "", "no tagged route table yet", false));
  } else {
    const RouteTable& keep = *tagged.front();
    plan.context.routeTableId = keep.routeTableId;
    for (const auto& a : keep.associations) {
      if (a.main) continue;
      if (!subnet_is_new && a.subnetId == subnet_id) {
        associated = true;
        continue;
      }
      plan.steps.push_back(step(StepKind::kDisassociateRouteTable, a.associationId,
                                "route table still associated with " + a.subnetId, false));
    }
  }
  bool has_default = false;
  if (!tagged.empty()) {
    for (const auto& r : tagged.front()->routes) {
      if (r.destinationCidrBlock == "0.0.0.0/0" && !r.gatewayId.empty()) has_default = true;
    }
  }
  if (!has_default && !obs.internetGatewayId.empty()) {
    auto s =
        step(StepKind::kCreateRoute, plan.context.routeTableId, "0.0.0.0/0 via the internet gateway", false);
    s.cidr = "0.0.0.0/0";
    s.gatewayId = obs.internetGatewayId;
    plan.steps.push_back(s);
  }
  if (!associated) {
    plan.steps.push_back(
        step(StepKind::kAssociateRouteTable, plan.context.routeTableId, "route table -> VIP subnet", false));
  }
}

Result<TakeoverPlan> planMultiAz(const TakeoverGoal& goal, const TakeoverObservation& obs) {
  const Cidr& cidr = *goal.cidrBlock;
  for (const auto& v : goal.vips) {
    if (!cidr.contains(v.vip)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "VIP " + v.vip.str() + " is outside --cloudcidrblock " + cidr.str());
    }
  }
  TakeoverPlan plan;

  // --- subnet: keep a tagged subnet with the block in my AZ; every other tagged subnet goes ---
  const Subnet* keep_subnet = nullptr;
  std::vector<const Subnet*> stale_subnets;
  for (const auto& s : obs.subnets) {
    if (!hasTag(s.tags, goal.tags.key, goal.tags.subnet())) continue;
    const bool mine = s.availabilityZone == goal.availabilityZone && s.vpcId == goal.vpcId &&
                      s.cidrBlock == cidr.str() && s.state != "deleting";
    if (mine && (keep_subnet == nullptr || s.subnetId < keep_subnet->subnetId)) {
      if (keep_subnet) stale_subnets.push_back(keep_subnet);
      keep_subnet = &s;
    } else {
      stale_subnets.push_back(&s);
    }
  }
  for (const auto& s : obs.subnets) {
    // An untagged subnet holding the block is not ours to delete: the goal is unreachable.
    if (!hasTag(s.tags, goal.tags.key, goal.tags.subnet()) && s.vpcId == goal.vpcId) {
      auto c = Cidr::parse(s.cidrBlock, true);
      if (c && c->overlaps(cidr)) {
        return makeError(ErrorCode::kConflict, "subnet " + s.subnetId + " (" + s.cidrBlock + ", not tagged " +
                                                   goal.tags.subnet() + ") overlaps " + cidr.str() +
                                                   "; delete or tag it");
      }
    }
  }

  // --- ENI: keep one tagged ENI inside the kept subnet (mine first, then free, then anyone's) ---
  const NetworkInterface* keep_eni = nullptr;
  auto rank = [&](const NetworkInterface& e) {
    if (attachedTo(e, goal.instanceId)) return 0;
    if (!e.attachment) return 1;
    return 2;
  };
  std::vector<const NetworkInterface*> stale_enis;
  for (const auto& e : obs.enis) {
    if (!hasTag(e.tags, goal.tags.key, goal.tags.eni())) continue;
    const bool in_keep = keep_subnet && e.subnetId == keep_subnet->subnetId;
    if (in_keep && (keep_eni == nullptr || rank(e) < rank(*keep_eni) ||
                    (rank(e) == rank(*keep_eni) && e.networkInterfaceId < keep_eni->networkInterfaceId))) {
      if (keep_eni) stale_enis.push_back(keep_eni);
      keep_eni = &e;
    } else {
      stale_enis.push_back(&e);
    }
  }
  const bool keep_needs_move =
      keep_eni && attachedOrAttaching(*keep_eni) && !attachedTo(*keep_eni, goal.instanceId);

  // Detaches first (they run in parallel on the AWS side), then the waits, then the deletes.
  for (const auto* e : stale_enis) {
    if (attachedOrAttaching(*e)) {
      auto s = step(StepKind::kDetachEni, e->networkInterfaceId,
                    "tagged ENI of " + e->attachment->instanceId + " in " + e->availabilityZone);
      s.attachmentId = e->attachment->attachmentId;
      plan.steps.push_back(s);
    }
  }
  if (keep_needs_move) {
    auto s = step(StepKind::kDetachEni, keep_eni->networkInterfaceId,
                  "ENI in my AZ still attached to " + keep_eni->attachment->instanceId);
    s.attachmentId = keep_eni->attachment->attachmentId;
    plan.steps.push_back(s);
  }
  for (const auto* e : stale_enis) {
    if (e->attachment)
      plan.steps.push_back(step(StepKind::kWaitEniDetached, e->networkInterfaceId, "detach"));
  }
  if (keep_eni && (keep_needs_move || detaching(*keep_eni))) {
    plan.steps.push_back(step(StepKind::kWaitEniDetached, keep_eni->networkInterfaceId, "detach"));
  }
  for (const auto* e : stale_enis) {
    plan.steps.push_back(step(StepKind::kDeleteEni, e->networkInterfaceId,
                              "tagged ENI outside my subnet (" + e->subnetId + ")"));
  }
  for (const auto* s : stale_subnets) {
    plan.steps.push_back(
        step(StepKind::kDeleteSubnet, s->subnetId, "tagged subnet in " + s->availabilityZone));
  }

  // --- VPC CIDR: the block must lie inside one of my VPC's CIDRs (associated once, then kept) ---
  const Vpc* own = nullptr;
  for (const auto& v : obs.vpcs) {
    if (v.vpcId == goal.vpcId) own = &v;
  }
  if (own == nullptr) return makeError(ErrorCode::kNotFound, "own VPC " + goal.vpcId + " not visible");
  bool covered = cidrCovers(own->cidrBlock, cidr);
  bool associating = false;
  for (const auto& a : own->cidrBlockAssociations) {
    if (a.state == "associated" && cidrCovers(a.cidrBlock, cidr)) covered = true;
    if (a.state == "associating" && cidrCovers(a.cidrBlock, cidr)) associating = true;
  }
  if (!covered) {
    if (!associating) {
      for (const auto& v : obs.vpcs) {
        if (v.vpcId == goal.vpcId) continue;
        for (const auto& a : v.cidrBlockAssociations) {
          if (a.cidrBlock == cidr.str() && a.state == "associated") {
            plan.steps.push_back(
                step(StepKind::kDisassociateVpcCidr, a.associationId, "block associated with " + v.vpcId));
          }
        }
      }
      auto s = step(StepKind::kAssociateVpcCidr, goal.vpcId, "block outside my VPC's CIDRs");
      s.vpcId = goal.vpcId;
      s.cidr = cidr.str();
      plan.steps.push_back(s);
    }
    auto w = step(StepKind::kWaitVpcCidr, goal.vpcId, "CIDR association");
    w.vpcId = goal.vpcId;
    w.cidr = cidr.str();
    plan.steps.push_back(w);
  }

  if (keep_subnet) {
    plan.context.subnetId = keep_subnet->subnetId;
  } else {
    auto s = step(StepKind::kCreateSubnet, "", "VIP subnet in " + goal.availabilityZone);
    s.vpcId = goal.vpcId;
    s.cidr = cidr.str();
    plan.steps.push_back(s);
  }

  // --- ENI in my subnet, attached to me ---
  std::vector<std::string> have_ips;
  bool eni_new = keep_eni == nullptr;
  if (eni_new) {
    // The VIPs ride on the create call (secondary IPs): no AssignPrivateIpAddresses on the path.
    auto s = step(StepKind::kCreateEni, "", "ENI in the VIP subnet, with the VIPs");
    for (const auto& v : goal.vips) {
      if (!contains(s.ips, v.vip.str())) s.ips.push_back(v.vip.str());
    }
    have_ips = s.ips;
    plan.steps.push_back(s);
  } else {
    plan.context.eniId = keep_eni->networkInterfaceId;
    plan.context.eniMac = keep_eni->macAddress;
    plan.context.eniPrimaryIp = keep_eni->privateIpAddress;
    have_ips = keep_eni->privateIpAddresses;
  }
  const bool attached_to_me = keep_eni && attachedTo(*keep_eni, goal.instanceId);
  if (!attached_to_me) {
    plan.steps.push_back(step(StepKind::kAttachEni, plan.context.eniId, "attach to me"));
  }

  // --- VIPs and EIPs ---
  std::vector<std::string> missing;
  for (const auto& v : goal.vips) {
    if (!contains(have_ips, v.vip.str()) && !contains(missing, v.vip.str())) missing.push_back(v.vip.str());
  }
  if (!missing.empty()) {
    auto s = step(StepKind::kAssignPrivateIps, plan.context.eniId, "VIPs onto my ENI");
    s.ips = missing;
    plan.steps.push_back(s);
  }
  for (const auto& v : goal.vips) {
    if (v.eip.empty()) continue;
    const Address* a = nullptr;
    for (const auto& x : obs.addresses) {
      if (x.publicIp == v.eip) a = &x;
    }
    if (a == nullptr)
      return makeError(ErrorCode::kNotFound, "Elastic IP " + v.eip + " not found in this account");
    if (!eni_new && a->networkInterfaceId == keep_eni->networkInterfaceId &&
        a->privateIpAddress == v.vip.str()) {
      continue;
    }
    auto s = step(StepKind::kAssociateAddress, plan.context.eniId, "EIP " + v.eip + " -> " + v.vip.str());
    s.allocationId = a->allocationId;
    s.ips = {v.vip.str()};
    plan.steps.push_back(s);
  }

  // The attachment completes on the AWS side while the EIP call runs (it works on an ENI that is
  // still attaching). Traffic needs the interface in the OS, which the daemon waits for locally
  // (the link appearing IS the attachment), so the Describe waiter is off the critical path.
  if (!attached_to_me || keep_eni->attachment->status != "attached") {
    plan.steps.push_back(step(StepKind::kWaitEniAttached, plan.context.eniId, "attachment", false));
  }

  // --- off the critical path: forwarding attribute and the route table ---
  if (eni_new || keep_eni->sourceDestCheck) {
    plan.steps.push_back(step(StepKind::kDisableSourceDestCheck, plan.context.eniId, "forwarding", false));
  }
  planRouteTable(goal, obs, plan.context.subnetId, keep_subnet == nullptr, plan);
  return plan;
}

Result<TakeoverPlan> planSingleAz(const TakeoverGoal& goal, const TakeoverObservation& obs) {
  TakeoverPlan plan;
  std::map<std::string, const Subnet*> subnets;
  for (const auto& s : obs.subnets) subnets[s.subnetId] = &s;
  std::vector<const NetworkInterface*> mine;
  for (const auto& e : obs.enis) {
    if (attachedTo(e, goal.instanceId)) mine.push_back(&e);
  }
  std::sort(mine.begin(), mine.end(), [](const NetworkInterface* a, const NetworkInterface* b) {
    return a->attachment->deviceIndex < b->attachment->deviceIndex;
  });
  std::map<std::string, std::vector<std::string>> assign;  // eni -> VIPs to assign (ordered by ENI id)
  std::vector<std::pair<const VipEip*, const NetworkInterface*>> placed;
  for (const auto& v : goal.vips) {
    const NetworkInterface* target = nullptr;
    for (const auto* e : mine) {
      auto it = subnets.find(e->subnetId);
      if (it == subnets.end()) continue;
      auto c = Cidr::parse(it->second->cidrBlock, true);
      if (c && c->contains(v.vip)) {
        target = e;
        break;
      }
    }
    if (target == nullptr) {
      return makeError(ErrorCode::kInvalidArgument,
                       "VIP " + v.vip.str() + " is not inside the subnet of any ENI of " + goal.instanceId);
    }
    if (plan.context.eniId.empty()) {
      plan.context.eniId = target->networkInterfaceId;
      plan.context.eniMac = target->macAddress;
      plan.context.eniPrimaryIp = target->privateIpAddress;
      plan.context.subnetId = target->subnetId;
    }
    placed.emplace_back(&v, target);
    if (!contains(target->privateIpAddresses, v.vip.str()) &&
        !contains(assign[target->networkInterfaceId], v.vip.str())) {
      assign[target->networkInterfaceId].push_back(v.vip.str());
    }
  }
  for (const auto& [eni, ips] : assign) {
    auto s = step(StepKind::kAssignPrivateIps, eni, "move secondary private IPs (AllowReassignment)");
    s.ips = ips;
    plan.steps.push_back(s);
  }
  for (const auto& [v, e] : placed) {
    if (v->eip.empty()) continue;
    const Address* a = nullptr;
    for (const auto& x : obs.addresses) {
      if (x.publicIp == v->eip) a = &x;
    }
    if (a == nullptr)
      return makeError(ErrorCode::kNotFound, "Elastic IP " + v->eip + " not found in this account");
    if (a->networkInterfaceId == e->networkInterfaceId && a->privateIpAddress == v->vip.str()) continue;
    // An EIP bound to the VIP follows it when the IP is reassigned: no call now; the next
    // observation shows whether it did, and only then would AssociateAddress be planned.
    const bool moving = contains(assign[e->networkInterfaceId], v->vip.str());
    if (moving && a->privateIpAddress == v->vip.str() && !a->associationId.empty()) continue;
    auto s =
        step(StepKind::kAssociateAddress, e->networkInterfaceId, "EIP " + v->eip + " -> " + v->vip.str());
    s.allocationId = a->allocationId;
    s.ips = {v->vip.str()};
    plan.steps.push_back(s);
  }
  return plan;
}

}  // namespace

const char* stepKindName(StepKind k) {
  switch (k) {
    case StepKind::kDetachEni:
      return "DetachNetworkInterface";
    case StepKind::kWaitEniDetached:
      return "WaitEniDetached";
    case StepKind::kDeleteEni:
      return "DeleteNetworkInterface";
    case StepKind::kDeleteSubnet:
      return "DeleteSubnet";
    case StepKind::kDisassociateRouteTable:
      return "DisassociateRouteTable";
    case StepKind::kDeleteRouteTable:
      return "DeleteRouteTable";
    case StepKind::kDisassociateVpcCidr:
      return "DisassociateVpcCidrBlock";
    case StepKind::kAssociateVpcCidr:
      return "AssociateVpcCidrBlock";
    case StepKind::kWaitVpcCidr:
      return "WaitVpcCidrAssociated";
    case StepKind::kCreateSubnet:
      return "CreateSubnet";
    case StepKind::kCreateEni:
      return "CreateNetworkInterface";
    case StepKind::kAttachEni:
      return "AttachNetworkInterface";
    case StepKind::kWaitEniAttached:
      return "WaitEniAttached";
    case StepKind::kAssignPrivateIps:
      return "AssignPrivateIpAddresses";
    case StepKind::kAssociateAddress:
      return "AssociateAddress";
    case StepKind::kDisableSourceDestCheck:
      return "ModifyNetworkInterfaceAttribute";
    case StepKind::kCreateRouteTable:
      return "CreateRouteTable";
    case StepKind::kCreateRoute:
      return "CreateRoute";
    case StepKind::kAssociateRouteTable:
      return "AssociateRouteTable";
  }
  return "?";
}

size_t TakeoverPlan::criticalSteps() const {
  return static_cast<size_t>(
      std::count_if(steps.begin(), steps.end(), [](const TakeoverStep& s) { return s.critical; }));
}

std::string describeStep(const TakeoverStep& s) {
  std::string out = stepKindName(s.kind);
  if (!s.id.empty()) out += " " + s.id;
  if (!s.ips.empty()) {
    out += " [";
    for (size_t i = 0; i < s.ips.size(); ++i) out += (i ? "," : "") + s.ips[i];
    out += "]";
  }
  if (!s.why.empty()) out += " (" + s.why + ")";
  if (!s.critical) out += " [deferred]";
  return out;
}

Result<TakeoverPlan> planTakeover(const TakeoverGoal& goal, const TakeoverObservation& obs) {
  if (goal.instanceId.empty())
    return makeError(ErrorCode::kInvalidArgument, "takeover goal without instance id");
  auto r = goal.cidrBlock ? planMultiAz(goal, obs) : planSingleAz(goal, obs);
  if (!r.ok()) return r;
  // Critical steps first; the relative order inside each class is kept.
  std::stable_partition(r->steps.begin(), r->steps.end(), [](const TakeoverStep& s) { return s.critical; });
  return r;
}

Result<TakeoverPlan> planCleanup(const TakeoverGoal& goal, const TakeoverObservation& obs) {
  TakeoverPlan plan;
  if (!goal.cidrBlock) return plan;
  std::vector<const NetworkInterface*> enis;
  for (const auto& e : obs.enis) {
    if (hasTag(e.tags, goal.tags.key, goal.tags.eni())) enis.push_back(&e);
  }
  for (const auto* e : enis) {
    if (attachedOrAttaching(*e)) {
      auto s = step(StepKind::kDetachEni, e->networkInterfaceId, "last node shutdown");
      s.attachmentId = e->attachment->attachmentId;
      plan.steps.push_back(s);
    }
  }
  for (const auto* e : enis) {
    if (e->attachment)
      plan.steps.push_back(step(StepKind::kWaitEniDetached, e->networkInterfaceId, "detach"));
  }
  for (const auto* e : enis)
    plan.steps.push_back(step(StepKind::kDeleteEni, e->networkInterfaceId, "cleanup"));
  for (const auto& s : obs.subnets) {
    if (hasTag(s.tags, goal.tags.key, goal.tags.subnet())) {
      plan.steps.push_back(step(StepKind::kDeleteSubnet, s.subnetId, "cleanup"));
    }
  }
  return plan;
}

}  // namespace floatlb::cloud::takeover
