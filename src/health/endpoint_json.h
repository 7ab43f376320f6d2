// The JSON of GET /netlox/v1/config/endpoint/all built from a scheduler snapshot, in the
// reference's shape: {"Attr":[{"hostName","name","inactiveReTries","probeType","probeDuration",
// "probePort","probeReq","minDelay","avgDelay","maxDelay","currState"}]}.
#pragma once

#include <string>
#include <vector>

#include "health/scheduler.h"

namespace floatlb::health {

std::string endpointsJson(const std::vector<EndpointStatus>& snapshot);

}  // namespace floatlb::health
