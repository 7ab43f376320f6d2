// This instance's identity for a TakeoverGoal, from IMDSv2: instance id, AZ, VPC and the security
// groups of the primary ENI. Fields already set are kept (flb-ec2's explicit flags win).
#pragma once

#include "cloud/aws/imds.h"
#include "cloud/takeover/plan.h"
#include "cloud/takeover/routed.h"
#include "common/result.h"

namespace floatlb::cloud::takeover {

Status fillIdentityFromImds(aws::ImdsClient& imds, TakeoverGoal& goal);
// The same for the routed mode, plus my primary ENI (the routes' target).
Status fillRoutedIdentity(aws::ImdsClient& imds, RoutedGoal& goal);

}  // namespace floatlb::cloud::takeover
