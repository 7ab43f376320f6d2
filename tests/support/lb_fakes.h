// Test fakes for the control-plane seams of src/lb: a RuleStore that keeps the durable table, can be
// told to fail or to hold syncs, a fixed one-arm source-address resolver, and a probe-target sink. Used with
// dataplane::InMemoryDatapath (unit tier) or the real LibbpfDatapath (bpf tier).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

#include "common/result.h"
#include "lb/rule_manager.h"
#include "lb/slots.h"

namespace floatlb::testing {

class FakeRuleStore final : public lb::RuleStore {
 public:
  Result<uint64_t> enqueue(std::vector<lb::RuleChange> changes) override {
    std::lock_guard l(mu_);
    for (auto& c : changes) pending_.push_back(std::move(c));
    return ++tickets_;
  }
  // Makes everything queued so far durable (or fails it all); blocks while hold() is on.
  Status waitDurable(uint64_t ticket) override {
    std::unique_lock l(mu_);
    ++attempts;
    ++waiting_;
    cv_.notify_all();
    cv_.wait(l, [this] { return !held_; });
    --waiting_;
    if (ticket <= durable_upto_) return okStatus();  // an earlier wait made it durable
    if (ticket <= failed_upto_) return makeError(ErrorCode::kInternal, "fake store: disk full");
    if (fail) {  // everything queued fails with this sync (as GroupCommit does), but not for good
      pending_.clear();
      failed_upto_ = tickets_;
      return makeError(ErrorCode::kInternal, "fake store: disk full");
    }
    durable_upto_ = tickets_;
    for (const auto& c : pending_) {
      if (c.spec) {
        state_.insert_or_assign(c.rule_id, lb::StoredRule{c.rule_id, *c.spec});
      } else {
        state_.erase(c.rule_id);
      }
    }
    pending_.clear();
    saved.clear();
    for (const auto& [id, r] : state_) saved.push_back(r);
    ++saves;
    cv_.notify_all();
    return okStatus();
  }

  // While held, waitDurable() blocks: a change cannot be acknowledged before release().
  void hold() {
    std::lock_guard l(mu_);
    held_ = true;
  }
  void release() {
    std::lock_guard l(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // Bounded wait until `n` callers are blocked in waitDurable().
  bool waitForWaiters(int n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, timeout, [&] { return waiting_ >= n; });
  }
  std::vector<lb::StoredRule> durable() {
    std::lock_guard l(mu_);
    return saved;
  }

  bool fail = false;
  int attempts = 0;                   // every waitDurable, failed or not
  int saves = 0;                      // successful syncs that made something durable
  std::vector<lb::StoredRule> saved;  // the durable table, by rule id

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<lb::RuleChange> pending_;
  std::map<uint32_t, lb::StoredRule> state_;
  uint64_t tickets_ = 0;
  uint64_t durable_upto_ = 0;
  uint64_t failed_upto_ = 0;
  int waiting_ = 0;
  bool held_ = false;
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
