#include "cloud/takeover/identity.h"

namespace floatlb::cloud::takeover {

Status fillIdentityFromImds(aws::ImdsClient& imds, TakeoverGoal& goal) {
  if (goal.instanceId.empty()) {
    FLB_ASSIGN_OR_RETURN(goal.instanceId, imds.instanceId());
  }
  if (goal.availabilityZone.empty()) {
    FLB_ASSIGN_OR_RETURN(goal.availabilityZone, imds.availabilityZone());
  }
  if (goal.vpcId.empty() || goal.securityGroupIds.empty()) {
    FLB_ASSIGN_OR_RETURN(std::string mac, imds.mac());
    FLB_ASSIGN_OR_RETURN(aws::ImdsInterface primary, imds.interfaceInfo(mac));
    if (goal.vpcId.empty()) goal.vpcId = primary.vpcId;
    if (goal.securityGroupIds.empty()) goal.securityGroupIds = primary.securityGroupIds;
  }
  return okStatus();
}

Status fillRoutedIdentity(aws::ImdsClient& imds, RoutedGoal& goal) {
  TakeoverGoal base;
  base.instanceId = goal.instanceId;
  base.availabilityZone = goal.availabilityZone;
  base.vpcId = goal.vpcId;
  base.securityGroupIds = goal.securityGroupIds;
  FLB_TRY(fillIdentityFromImds(imds, base));
  goal.instanceId = base.instanceId;
  goal.availabilityZone = base.availabilityZone;
  goal.vpcId = base.vpcId;
  goal.securityGroupIds = base.securityGroupIds;
  if (goal.eniId.empty()) {
    FLB_ASSIGN_OR_RETURN(std::string mac, imds.mac());
    FLB_ASSIGN_OR_RETURN(aws::ImdsInterface primary, imds.interfaceInfo(mac));
    goal.eniId = primary.interfaceId;
  }
  return okStatus();
}

}  // namespace floatlb::cloud::takeover
