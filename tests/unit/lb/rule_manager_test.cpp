// RuleManager over InMemoryDatapath and a fake RuleStore: REST merge semantics, stable endpoint
// indexes, all-or-nothing mutations, rollback when persisting fails, the 32-endpoint and
// 2,048-rule limits, priority slots with an unhealthy endpoint, the inactivity timeout.
#include "lb/rule_manager.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "common/log.h"
#include "dataplane/in_memory_datapath.h"
#include "support/lb_fakes.h"

namespace floatlb::lb {
namespace {

using floatlb::testing::FakeRuleStore;
using floatlb::testing::FixedResolver;
using floatlb::testing::RecordingProbeSink;

Ip4 ip(const char* s) { return *Ip4::parse(s); }
Endpoint ep(uint8_t last, uint8_t weight = 1) { return {Ip4::fromOctets(10, 0, 1, last), 8080, weight}; }

std::vector<Endpoint> firstEndpoints(uint8_t n) {  // 10.0.1.1 .. 10.0.1.n
  std::vector<Endpoint> eps;
  for (uint8_t i = 1; i <= n; ++i) eps.push_back(ep(i));
  return eps;
}

RuleSpec rule(uint16_t port, std::vector<Endpoint> eps, RuleOper oper = RuleOper::kCreate) {
  RuleSpec r;
  r.key = {ip("198.18.0.100"), port, L4Proto::kTcp, 0};
  r.endpoints = std::move(eps);
  r.oper = oper;
  r.name = "r" + std::to_string(port);
  return r;
}

class RuleManagerTest : public ::testing::Test {
 protected:
  dataplane::InMemoryDatapath dp_;
  FixedResolver resolver_{ip("192.168.218.1")};
  FakeRuleStore store_;
  RecordingProbeSink probes_;
  RuleManager rm_{dp_, resolver_, &store_, &probes_};

  std::optional<flb_svc> svc(const RuleSpec& r) {
    const flb_svc_key key = makeSvcKey(r);
    auto listed = dp_.listServices();
    if (!listed.ok()) return std::nullopt;
    for (const auto& [k, v] : *listed) {
      if (std::memcmp(&k, &key, sizeof key) == 0) return v;
    }
    return std::nullopt;
  }
  // endpoint index -> last octet of its address, as programmed in the datapath
  std::map<int, int> programmed(const RuleSpec& r) {
    std::map<int, int> out;
    auto v = svc(r);
    if (!v) return out;
    for (int i = 0; i < v->n_eps; ++i) {
      if (v->eps[i].ip != 0) out[i] = static_cast<int>(ntohl(v->eps[i].ip) & 0xff);
    }
    return out;
  }
  size_t services() { return dp_.listServices()->size(); }
};

TEST_F(RuleManagerTest, CreateProgramsAndPersists) {
  RuleSpec r = rule(80, {ep(1), ep(2)});
  r.inactive_timeout_s = 7;
  ASSERT_TRUE(rm_.apply(r).ok());
  auto v = svc(r);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->n_eps, 2);
  EXPECT_EQ(v->n_slots, 2);
  EXPECT_EQ(v->ct_timeout_s, 7u);  // the rule's inactiveTimeOut is what the datapath ages by
  EXPECT_EQ(programmed(r), (std::map<int, int>{{0, 1}, {1, 2}}));
  ASSERT_EQ(store_.saves, 1);
  ASSERT_EQ(store_.saved.size(), 1u);
  EXPECT_EQ(store_.saved[0].spec.endpoints, r.endpoints);
  EXPECT_EQ(store_.saved[0].rule_id, v->rule_id);
  EXPECT_EQ(rm_.size(), 1u);
}

TEST_F(RuleManagerTest, IdenticalRecreateIsAConflictAndChangesNothing) {
  RuleSpec r = rule(80, {ep(1), ep(2)});
  ASSERT_TRUE(rm_.apply(r).ok());
  auto s = rm_.apply(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store_.attempts, 1);
}

TEST_F(RuleManagerTest, MergeKeepsEndpointIndexesStable) {
  ASSERT_TRUE(rm_.apply(rule(80, {ep(1), ep(2)})).ok());
  ASSERT_TRUE(rm_.apply(rule(80, {ep(3)}, RuleOper::kAttach)).ok());
  EXPECT_EQ(programmed(rule(80, {})), (std::map<int, int>{{0, 1}, {1, 2}, {2, 3}}));
  ASSERT_TRUE(rm_.apply(rule(80, {ep(2)}, RuleOper::kDetach)).ok());
  // ep 3 keeps index 2 (its conntrack entries record it); index 1 is a gap
  EXPECT_EQ(programmed(rule(80, {})), (std::map<int, int>{{0, 1}, {2, 3}}));
  EXPECT_EQ(svc(rule(80, {}))->n_slots, 2);
  // a create with a new endpoint list keeps the survivors' indexes and fills the gap
  ASSERT_TRUE(rm_.apply(rule(80, {ep(3), ep(4), ep(1)})).ok());
  EXPECT_EQ(programmed(rule(80, {})), (std::map<int, int>{{0, 1}, {1, 4}, {2, 3}}));
  // attach of a listed endpoint changes only its weight
  ASSERT_TRUE(rm_.apply(rule(80, {ep(4, 5)}, RuleOper::kAttach)).ok());
  EXPECT_EQ(svc(rule(80, {}))->eps[1].weight, 5);
  EXPECT_EQ(store_.saves, 5);
  // detaching the last endpoints removes the rule
  ASSERT_TRUE(rm_.apply(rule(80, {ep(1), ep(3), ep(4)}, RuleOper::kDetach)).ok());
  EXPECT_EQ(rm_.size(), 0u);
  EXPECT_EQ(services(), 0u);
  EXPECT_TRUE(store_.saved.empty());
}

TEST_F(RuleManagerTest, DetachFromUnknownRuleOrUnknownEndpointIsNotFound) {
  EXPECT_EQ(rm_.apply(rule(80, {ep(1)}, RuleOper::kDetach)).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(rm_.apply(rule(80, {ep(1)})).ok());
  EXPECT_EQ(rm_.apply(rule(80, {ep(9)}, RuleOper::kDetach)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(programmed(rule(80, {})), (std::map<int, int>{{0, 1}}));
}

TEST_F(RuleManagerTest, ThirtyTwoEndpointsAreAcceptedAndProgrammed) {
  RuleSpec r = rule(80, firstEndpoints(32));
  ASSERT_TRUE(rm_.apply(r).ok());
  auto v = svc(r);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->n_eps, 32);
  EXPECT_EQ(v->n_slots, 32);
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(ntohl(v->eps[i].ip) & 0xff, static_cast<uint32_t>(i + 1)) << i;
    EXPECT_TRUE(v->eps[i].flags & FLB_EP_F_ACTIVE) << i;
    EXPECT_EQ(v->slots[i], i);
  }
}

TEST_F(RuleManagerTest, AttachBeyondThirtyTwoIsRefusedAllOrNothing) {
  RuleSpec r = rule(80, firstEndpoints(31));
  ASSERT_TRUE(rm_.apply(r).ok());
  auto before = svc(r);
  // two more: the first would fit, the second not; neither may be applied
  auto s = rm_.apply(rule(80, {ep(40), ep(41)}, RuleOper::kAttach));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("too many endpoints"), std::string::npos) << s.error().message;
  auto after = svc(r);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(std::memcmp(&*before, &*after, sizeof(flb_svc)), 0);
  EXPECT_EQ(store_.saves, 1);
  EXPECT_EQ(rm_.list().front().endpoints.size(), 31u);
}

TEST_F(RuleManagerTest, RuleCapIs2048AndThe2049thIsRefused) {
  // No store here: saving 2,048 snapshots of a growing table would only make the test slow.
  RuleManager rm(dp_, resolver_);
  log::setLevel(log::Level::kWarn);  // 2,048 "created rule" lines say nothing
  for (uint32_t i = 0; i < kMaxRules; ++i) {
    ASSERT_TRUE(rm.apply(rule(static_cast<uint16_t>(1000 + i), {ep(1)})).ok()) << "rule " << i;
  }
  log::setLevel(log::Level::kInfo);
  EXPECT_EQ(rm.size(), 2048u);
  EXPECT_EQ(services(), 2048u);
  auto s = rm.apply(rule(9999, {ep(1)}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(s.error().message.find("2048"), std::string::npos) << s.error().message;
  EXPECT_EQ(services(), 2048u);
  EXPECT_FALSE(svc(rule(9999, {})).has_value());
  // updating an existing rule at the cap still works; a delete makes room for a new one
  EXPECT_TRUE(rm.apply(rule(1000, {ep(2)}, RuleOper::kAttach)).ok());
  ASSERT_TRUE(rm.remove(rule(1000, {}).key).ok());
  EXPECT_TRUE(rm.apply(rule(9999, {ep(1)})).ok());
  EXPECT_EQ(services(), 2048u);
}

TEST_F(RuleManagerTest, FailedSaveOfANewRuleLeavesNoTrace) {
  store_.fail = true;
  RuleSpec r = rule(80, {ep(1), ep(2)});
  auto s = rm_.apply(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("disk full"), std::string::npos) << s.error().message;
  EXPECT_EQ(rm_.size(), 0u);
  EXPECT_EQ(services(), 0u);
  EXPECT_EQ(probes_.calls, 0);
  // and the same rule can be created once the store works again
  store_.fail = false;
  EXPECT_TRUE(rm_.apply(r).ok());
  EXPECT_EQ(services(), 1u);
}

TEST_F(RuleManagerTest, FailedSaveOfAnUpdateRestoresThePreviousRule) {
  RuleSpec r = rule(80, {ep(1), ep(2)});
  r.sel = LbSel::kHash;
  ASSERT_TRUE(rm_.apply(r).ok());
  const flb_svc before = *svc(r);
  store_.fail = true;
  RuleSpec changed = rule(80, {ep(3)});
  changed.sel = LbSel::kRr;
  ASSERT_FALSE(rm_.apply(changed).ok());
  const flb_svc after = *svc(r);
  EXPECT_EQ(std::memcmp(&before, &after, sizeof before), 0);  // datapath as before
  auto listed = rm_.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].spec.sel, LbSel::kHash);  // table as before
  EXPECT_EQ(listed[0].spec.endpoints, r.endpoints);
  EXPECT_EQ(store_.saved.size(), 1u);  // the last good save is untouched
  EXPECT_EQ(store_.saved[0].spec.sel, LbSel::kHash);
}

TEST_F(RuleManagerTest, FailedSaveOfAnUpdateWithANewDatapathKeyRestoresTheOldKey) {
  RuleSpec r = rule(80, {ep(1)});
  ASSERT_TRUE(rm_.apply(r).ok());
  store_.fail = true;
  RuleSpec moved = r;
  moved.private_ip = ip("192.168.248.254");  // same rule key, other datapath VIP
  ASSERT_FALSE(rm_.apply(moved).ok());
  EXPECT_TRUE(svc(r).has_value());
  EXPECT_FALSE(svc(moved).has_value());
  EXPECT_EQ(services(), 1u);
}

TEST_F(RuleManagerTest, PrioritySlotsFollowWeightsAndSkipUnhealthyEndpoints) {
  RuleSpec r = rule(80, {ep(1, 1), ep(2, 2), ep(3, 1)});
  r.sel = LbSel::kPriority;
  r.monitor = true;
  ASSERT_TRUE(rm_.apply(r).ok());
  auto count = [&](const flb_svc& v) {
    std::map<int, int> n;
    for (int i = 0; i < v.n_slots; ++i) ++n[v.slots[i]];
    return n;
  };
  auto v = svc(r);
  EXPECT_EQ(v->n_slots, FLB_MAX_SLOTS);
  EXPECT_EQ(count(*v), (std::map<int, int>{{0, 16}, {1, 32}, {2, 16}}));
  // endpoint 0 goes down: its slots go to the others, whose indexes stay 1 and 2
  ASSERT_FALSE(probes_.targets.empty());
  rm_.setProbeResult(ProbeKey{ep(1).ip, r.effectiveProbeType(), r.effectiveProbePort(ep(1))}, false);
  v = svc(r);
  EXPECT_FALSE(v->eps[0].flags & FLB_EP_F_ACTIVE);
  EXPECT_TRUE(v->eps[1].flags & FLB_EP_F_ACTIVE);
  EXPECT_EQ(count(*v), (std::map<int, int>{{1, 43}, {2, 21}}));
}

TEST_F(RuleManagerTest, RemoveFlushesTheRulesConnections) {
  RuleSpec r = rule(80, {ep(1)});
  ASSERT_TRUE(rm_.apply(r).ok());
  const uint32_t id = svc(r)->rule_id;
  dataplane::CtEntry e{};
  e.key.saddr = ip("198.18.1.10").networkOrder();
  e.key.daddr = r.key.external_ip.networkOrder();
  e.key.sport = htons(40000);
  e.key.dport = htons(80);
  e.key.proto = 6;
  e.value.rule_id = id;
  e.value.state = FLB_CT_ST_EST;
  dp_.addConntrack(e);
  ASSERT_TRUE(rm_.remove(r.key).ok());
  EXPECT_TRUE(dp_.dumpConntrack()->empty());
  EXPECT_EQ(services(), 0u);
  EXPECT_TRUE(store_.saved.empty());
  EXPECT_EQ(rm_.remove(r.key).error().code, ErrorCode::kNotFound);
}

TEST_F(RuleManagerTest, AChangeIsAcknowledgedOnlyOnceDurable) {
  store_.hold();
  RuleSpec r = rule(80, {ep(1)});
  std::atomic<bool> returned{false};
  std::thread writer([&] {
    EXPECT_TRUE(rm_.apply(r).ok());
    returned = true;
  });
  ASSERT_TRUE(store_.waitForWaiters(1)) << "apply() never waited for the store";
  // Programmed and listed already, but not acknowledged: the caller is still blocked on the sync.
  EXPECT_TRUE(svc(r).has_value());
  EXPECT_FALSE(returned.load());
  EXPECT_TRUE(store_.durable().empty());
  store_.release();
  writer.join();
  EXPECT_TRUE(returned.load());
  ASSERT_EQ(store_.durable().size(), 1u);
}

TEST_F(RuleManagerTest, AFailedSyncUndoesEveryUnsavedChangeInReverseOrder) {
  RuleSpec r = rule(80, {ep(1)});
  ASSERT_TRUE(rm_.apply(r).ok());
  ASSERT_TRUE(rm_.apply(rule(81, {ep(1)})).ok());
  const flb_svc before = *svc(r);
  store_.hold();
  // Three changes in flight at once: two updates of one rule, a removal of another.
  std::thread a([&] { EXPECT_FALSE(rm_.apply(rule(80, {ep(2)})).ok()); });
  ASSERT_TRUE(store_.waitForWaiters(1));
  std::thread b([&] { EXPECT_FALSE(rm_.apply(rule(80, {ep(3)}, RuleOper::kAttach)).ok()); });
  ASSERT_TRUE(store_.waitForWaiters(2));
  std::thread c([&] { EXPECT_FALSE(rm_.remove(rule(81, {}).key).ok()); });
  ASSERT_TRUE(store_.waitForWaiters(3));
  EXPECT_EQ(rm_.size(), 1u);
  store_.fail = true;
  store_.release();
  a.join();
  b.join();
  c.join();
  // Back to the last durable table, in memory and in the datapath.
  auto listed = rm_.list();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].spec.endpoints, r.endpoints);
  const flb_svc after = *svc(r);
  EXPECT_EQ(std::memcmp(&before, &after, sizeof before), 0);
  EXPECT_TRUE(svc(rule(81, {})).has_value());
  EXPECT_EQ(store_.durable().size(), 2u);
  // and the table keeps working once the store does
  store_.fail = false;
  EXPECT_TRUE(rm_.apply(rule(80, {ep(2)})).ok());
  EXPECT_TRUE(rm_.remove(rule(81, {}).key).ok());
  EXPECT_EQ(store_.durable().size(), 1u);
}

}  // namespace
}  // namespace floatlb::lb
