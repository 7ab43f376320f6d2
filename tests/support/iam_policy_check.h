// Every EC2 action a test transport carries is recorded here against the IAM policy the product
// documents for that mode (deploy/iam-policy.json, deploy/iam-policy-routed.json). A global test
// environment (iam_policy_check.cpp, linked into the takeover and hook test binaries) fails the run
// at the end if an action that was called is not allowed by its policy — derived from the calls
// the tests made, not from a list.
#pragma once

#include <string>

namespace floatlb::cloud::testing {

inline constexpr const char* kSubnetModePolicy = "deploy/iam-policy.json";
inline constexpr const char* kRoutedModePolicy = "deploy/iam-policy-routed.json";

// Thread-safe. `policy` is a path relative to the source tree.
void recordEc2Action(const std::string& policy, const std::string& action);

}  // namespace floatlb::cloud::testing
