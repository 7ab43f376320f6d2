// The loxilb multi-AZ "become MASTER" EC2 call sequence (reference/loxilb.md §4.3), run step by step
// against any Ec2Api. Used by `flb-ec2 takeover[-dryrun]` and the moto integration test to exercise
// the client end to end. This is a straight-line demo, not the idempotent takeover planner (which
// will consume Ec2Api the same way).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cloud/aws/ec2_api.h"
#include "common/result.h"

namespace floatlb::cloud::aws {

struct TakeoverVip {
  std::string privateIp;  // VIP inside cidrBlock
  std::string publicIp;   // Elastic IP to move onto it; empty: private IP only
};

struct TakeoverParams {
  std::string instanceId;  // this node
  std::string vpcId;       // this node's VPC
  std::string availabilityZone;
  std::string cidrBlock;  // e.g. "124.124.124.0/24" (becomes a secondary VPC CIDR + the VIP subnet)
  std::vector<std::string> securityGroupIds;
  std::vector<TakeoverVip> vips;
  std::string tagKey = "floatlbType";
  std::string instanceTag = "0";  // suffix of the tag values: floatlb-eni0, floatlb-subnet0, ...
  int deviceIndex = 1;
  int deleteEniAttempts = 20;  // DeleteNetworkInterface retries while the detach completes
};

struct TakeoverStep {
  std::string action;     // EC2 Action
  std::string target;     // resource the step acted on
  bool executed = false;  // false in dry-run for mutations
  std::string result;     // id created, or error text
};

struct TakeoverOutcome {
  std::vector<TakeoverStep> steps;
  std::string subnetId;
  std::string routeTableId;
  std::string eniId;
  std::string eniPrivateIp;
  std::vector<std::string> eipAssociationIds;
};

// `pause` is called between DeleteNetworkInterface retries (real code sleeps ~2 s; tests pass a no-op).
Result<TakeoverOutcome> runTakeoverSequence(Ec2Api& ec2, const TakeoverParams& p, bool dry_run,
                                            const std::function<void()>& pause);

}  // namespace floatlb::cloud::aws
