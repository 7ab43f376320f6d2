// Test fakes for the control-plane seams of src/lb: a RuleStore that records every save and can be
// told to fail, a fixed one-arm source-address resolver, and a probe-target sink. Used with
// dataplane::InMemoryDatapath (unit tier) or the real LibbpfDatapath (bpf tier).
#pragma once

#include <vector>

#include "common/result.h"
#include "lb/rule_manager.h"
#include "lb/slots.h"

namespace floatlb::testing {

class FakeRuleStore final : public lb::RuleStore {
 public:
  Status save(const std::vector<lb::StoredRule>& rules) override {
    ++attempts;
    if (fail) return makeError(ErrorCode::kInternal, "fake store: disk full");
    saved = rules;
    ++saves;
    return okStatus();
  }
  bool fail = false;
  int attempts = 0;                   // every call, failed or not
  int saves = 0;                      // successful ones
  std::vector<lb::StoredRule> saved;  // the last successful save
};

class FixedResolver final : public lb::SourceAddressResolver {
 public:
  explicit FixedResolver(Ip4 src) : src_(src) {}
  Result<Ip4> sourceFor(Ip4 /*dst*/) override { return src_; }

 private:
  Ip4 src_;
};

class RecordingProbeSink final : public lb::ProbeTargetSink {
 public:
  void setProbeTargets(const std::vector<lb::ProbeConfig>& t) override {
    targets = t;
    ++calls;
  }
  std::vector<lb::ProbeConfig> targets;
  int calls = 0;
};

}  // namespace floatlb::testing
