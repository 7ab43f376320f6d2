#include "support/iam_policy_check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

namespace floatlb::cloud::testing {

namespace {

std::mutex g_mu;
std::map<std::string, std::set<std::string>>& recorded() {
  static std::map<std::string, std::set<std::string>> m;
  return m;
}

// "ec2:X" actions the policy allows (Effect Allow; Action as a string or a list).
std::set<std::string> allowedActions(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return {};
  }
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("Statement")) {
    error = path + " is not an IAM policy document";
    return {};
  }
  std::set<std::string> out;
  for (const auto& st : doc["Statement"]) {
    if (st.value("Effect", "") != "Allow" || !st.contains("Action")) continue;
    const auto& a = st["Action"];
    if (a.is_string()) out.insert(a.get<std::string>());
    for (const auto& x : a) {
      if (x.is_string()) out.insert(x.get<std::string>());
    }
  }
  return out;
}

class IamPolicyCheck final : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard l(g_mu);
    for (const auto& [policy, actions] : recorded()) {
      std::string error;
      const auto allowed = allowedActions(std::string(FLOATLB_SOURCE_DIR) + "/" + policy, error);
      if (!error.empty()) {
        ADD_FAILURE() << error;
        continue;
      }
      for (const auto& a : allowed) {
        EXPECT_EQ(a.find('*'), std::string::npos)
            << policy << ": wildcard action " << a << " (least privilege)";
      }
      std::string missing;
      for (const auto& a : actions) {
        if (!allowed.count("ec2:" + a)) missing += " ec2:" + a;
      }
      EXPECT_TRUE(missing.empty()) << policy << " does not allow what the tests called:" << missing;
      std::printf("IAM check: %zu EC2 action(s) called, all in %s\n", actions.size(), policy.c_str());
    }
  }
};

[[maybe_unused]] const ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new IamPolicyCheck);  // NOLINT(cppcoreguidelines-owning-memory)

}  // namespace

void recordEc2Action(const std::string& policy, const std::string& action) {
  if (action.empty()) return;
  std::lock_guard l(g_mu);
  recorded()[policy].insert(action);
}

}  // namespace floatlb::cloud::testing
