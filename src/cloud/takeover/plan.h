// The takeover planner (pure): from what EC2 says right now (TakeoverObservation) and what this node
// wants (TakeoverGoal), the next idempotent steps towards "the VIP network is mine":
//   multi-AZ (cidrBlock set): subnet(cidr) in MY AZ, one tagged ENI in it attached to me at the
//   configured device index with source/dest check off, every VIP assigned to that ENI, every EIP
//   associated to (ENI, VIP), the tagged ENI/subnet of the old master gone, one tagged route table
//   (0.0.0.0/0 -> IGW) associated with the subnet.
//   single-AZ (no cidrBlock): every VIP assigned to my ENI whose subnet contains it, EIPs to (ENI, VIP).
// The executor (exec.h) runs a plan, then observes and plans again until the plan is empty,
// so a crash or an interfering peer halfway only means the next plan starts from the real state.
// Steps that create a resource leave its id in the executor's context; later steps of the same plan
// read it from there (`Ref` fields name which context slot to use when the id is not known yet).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cloud/aws/ec2_types.h"
#include "common/net.h"
#include "common/result.h"

namespace floatlb::cloud::takeover {

// The EC2 value types the planner reads (src/cloud/aws is the client layer below this one).
using aws::Address;
using aws::findTag;
using aws::InternetGateway;
using aws::NetworkInterface;
using aws::NetworkInterfaceAttachment;
using aws::Route;
using aws::RouteTable;
using aws::RouteTableAssociation;
using aws::Subnet;
using aws::Tag;
using aws::Tags;
using aws::TagSpecification;
using aws::Vpc;
using aws::VpcCidrBlockAssociation;

// Does tag `key` have exactly `value`? (ownership tags of the planners)
inline bool hasTag(const Tags& tags, const std::string& key, const std::string& value) {
  auto v = findTag(tags, key);
  return v && *v == value;
}

struct VipEip {
  Ip4 vip;          // private VIP (inside cidrBlock in multi-AZ mode)
  std::string eip;  // Elastic IP (public, dotted quad); empty: private VIP only
  auto operator<=>(const VipEip&) const = default;
};

// Ownership tags, reference-compatible by default: loxiType=loxilb-eni<inst> etc.
struct TakeoverTags {
  std::string key = "loxiType";
  std::string prefix = "loxilb-";
  std::string instance;  // --cloudinstance ("" for the default instance)
  [[nodiscard]] std::string eni() const { return prefix + "eni" + instance; }
  [[nodiscard]] std::string subnet() const { return prefix + "subnet" + instance; }
  [[nodiscard]] std::string routeTable() const { return prefix + "routetable" + instance; }
};

struct TakeoverGoal {
  std::string instanceId;  // me (IMDS instance-id)
  std::string availabilityZone;
  std::string vpcId;
  std::vector<std::string> securityGroupIds;  // of my primary ENI (IMDS)
  std::optional<Cidr> cidrBlock;              // --cloudcidrblock; nullopt = single-AZ mode
  std::vector<VipEip> vips;
  TakeoverTags tags;
  int deviceIndex = 1;
  std::string eniDescription = "floatlb-eni";
};

// What the Describe* calls returned. Multi-AZ: enis/subnets/routeTables are the tagged ones.
// Single-AZ: enis are the ENIs attached to me and subnets their subnets.
struct TakeoverObservation {
  std::vector<NetworkInterface> enis;
  std::vector<Subnet> subnets;
  std::vector<RouteTable> routeTables;
  std::vector<Vpc> vpcs;           // my VPC plus every VPC that has cidrBlock associated
  std::string internetGatewayId;   // attached to my VPC; "" if none
  std::vector<Address> addresses;  // the goal's EIPs
};

enum class StepKind {
  kDetachEni,               // eniId (attachmentId): DetachNetworkInterface Force=true
  kWaitEniDetached,         // eniId: poll until `available` (or gone)
  kDeleteEni,               // eniId
  kDeleteSubnet,            // subnetId
  kDisassociateRouteTable,  // associationId
  kDeleteRouteTable,        // routeTableId
  kDisassociateVpcCidr,     // associationId (VPC of another peer)
  kAssociateVpcCidr,        // vpcId, cidr
  kWaitVpcCidr,             // vpcId, cidr: poll until `associated`
  kCreateSubnet,            // -> ctx.subnet
  kCreateEni,               // ctx.subnet -> ctx.eni
  kAttachEni,               // ctx.eni -> attachment
  kWaitEniAttached,         // ctx.eni
  kAssignPrivateIps,        // ctx.eni, ips
  kAssociateAddress,        // allocationId, ctx.eni, ip
  kDisableSourceDestCheck,  // ctx.eni
  kCreateRouteTable,        // -> ctx.routeTable
  kCreateRoute,             // ctx.routeTable, 0.0.0.0/0 -> gatewayId
  kAssociateRouteTable,     // ctx.routeTable, ctx.subnet
};
const char* stepKindName(StepKind k);

struct TakeoverStep {
  StepKind kind;
  std::string id;  // the resource acted on, when known at planning time
  std::string attachmentId;
  std::string allocationId;
  std::string vpcId;
  std::string cidr;
  std::string gatewayId;
  std::vector<std::string> ips;
  // Critical: on the path to "traffic for the EIP reaches me". Non-critical steps come after
  // every critical one and can be deferred (executed once traffic is restored).
  bool critical = true;
  std::string why;  // one line for logs and the timeline
};

// Ids of resources the plan keeps or expects; the executor fills the missing ones as steps run.
struct TakeoverContext {
  std::string subnetId;
  std::string eniId;
  std::string routeTableId;
  std::string eniMac;        // for the OS to find the interface
  std::string eniPrimaryIp;  // the ENI's own address (configured on the interface)
};

struct TakeoverPlan {
  std::vector<TakeoverStep> steps;
  TakeoverContext context;
  [[nodiscard]] bool converged() const { return steps.empty(); }
  [[nodiscard]] size_t criticalSteps() const;
};

// Plans the next steps. Errors only for a goal that can never be reached (e.g. a VIP outside the
// CIDR block, an untagged subnet occupying the block) — not for transient states.
Result<TakeoverPlan> planTakeover(const TakeoverGoal& goal, const TakeoverObservation& obs);

// "Release" for the last node's shutdown: detach/delete tagged ENIs and subnets (route table kept,
// it is not AZ bound and costs nothing). Multi-AZ mode only; empty in single-AZ mode.
Result<TakeoverPlan> planCleanup(const TakeoverGoal& goal, const TakeoverObservation& obs);

// Human-readable one-line rendering of a step ("DeleteSubnet subnet-1 (old master's subnet in ...)").
std::string describeStep(const TakeoverStep& s);

}  // namespace floatlb::cloud::takeover
