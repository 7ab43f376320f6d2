// The routed mode's pure core (routed.h) on hand-built observations: prepare is idempotent and
// resumes from any partial state, never writes an S route; the failover is one write per table and
// no read; the verify rule steps down when the peer holds the routes unless the epoch tags say the
// peer is the stale writer.
#include "cloud/takeover/routed.h"

#include <gtest/gtest.h>

namespace floatlb::cloud::takeover {
namespace {

using namespace floatlb::cloud::aws;  // NOLINT(google-build-using-namespace): EC2 value types

constexpr const char* kS = "192.168.248.0/24";
constexpr const char* kMe = "i-me";
constexpr const char* kMyEni = "eni-me";
constexpr const char* kPeerEni = "eni-peer";

RoutedGoal goal() {
  RoutedGoal g;
  g.instanceId = kMe;
  g.eniId = kMyEni;
  g.availabilityZone = "az-a";
  g.vpcId = "vpc-1";
  g.cidrBlock = Cidr::parse(kS).value();
  g.peerIps = {"192.168.228.108"};
  g.vips = {{Ip4::parse("192.168.248.254").value(), "198.18.100.1"}};
  g.securityGroupIds = {"sg-1"};
  g.epoch = 7;
  return g;
}

Subnet subnet(std::string id, std::string cidr, std::string az, Tags tags = {}) {
  return Subnet{std::move(id), "vpc-1", std::move(cidr), std::move(az), "available", std::move(tags)};
}

NetworkInterface eni(std::string id, std::string ip, std::string az, bool src_dst = true, Tags tags = {}) {
  NetworkInterface e;
  e.networkInterfaceId = std::move(id);
  e.privateIpAddress = ip;
  e.privateIpAddresses = {ip};
  e.availabilityZone = std::move(az);
  e.sourceDestCheck = src_dst;
  e.tags = std::move(tags);
  return e;
}

// The seed VPC before prepare: subnets in az-a (me), az-b (peer), az-c (none); the main table.
RoutedObservation fresh() {
  RoutedObservation o;
  o.internetGatewayId = "igw-1";
  o.subnets = {subnet("subnet-a", "192.168.218.0/24", "az-a"), subnet("subnet-b", "192.168.228.0/24", "az-b"),
               subnet("subnet-c", "192.168.238.0/24", "az-c")};
  RouteTable main;
  main.routeTableId = "rtb-main";
  main.associations = {{"rtbassoc-main", "", true}};
  main.routes = {{"192.168.0.0/16", "local", "", "active"}, {"0.0.0.0/0", "igw-1", "", "active"}};
  o.routeTables = {main};
  o.enis = {eni(kMyEni, "192.168.218.60", "az-a"), eni(kPeerEni, "192.168.228.108", "az-b")};
  o.addresses = {Address{"198.18.100.1", "eipalloc-1", "", "vpc", "", "", "", {}}};
  return o;
}

// Applies one prepare step to the observation as EC2 would (ids are deterministic).
void apply(const RoutedGoal& g, const RoutedStep& s, RoutedObservation& o) {
  const Tags ts = {{g.tags.key, g.tags.subnet()}};
  switch (s.kind) {
    case RoutedStepKind::kCreateSubnet:
      o.subnets.push_back(subnet("subnet-s", kS, s.id, ts));
      break;
    case RoutedStepKind::kCreateVipEni: {
      auto e = eni("eni-vip", "192.168.248.10", "az-c", true, {{g.tags.key, g.tags.eni()}});
      for (const auto& ip : s.ips) e.privateIpAddresses.push_back(ip);
      o.enis.push_back(e);
      break;
    }
    case RoutedStepKind::kAssignVips:
      for (auto& e : o.enis) {
        if (e.networkInterfaceId == s.id)
          e.privateIpAddresses.insert(e.privateIpAddresses.end(), s.ips.begin(), s.ips.end());
      }
      break;
    case RoutedStepKind::kAssociateAddress:
      for (auto& a : o.addresses) {
        if (a.allocationId == s.id) {
          a.networkInterfaceId = "eni-vip";
          a.privateIpAddress = s.ips.front();
          a.associationId = "eipassoc-1";
        }
      }
      break;
    case RoutedStepKind::kCreateGatewayTable: {
      RouteTable t;
      t.routeTableId = "rtb-gw";
      t.tags = {{g.tags.key, g.tags.gatewayTable()}};
      t.routes = {{"192.168.0.0/16", "local", "", "active"}};
      o.routeTables.push_back(t);
      break;
    }
    case RoutedStepKind::kAssociateGateway:
      for (auto& t : o.routeTables) {
        if (t.routeTableId == s.id) t.associations.push_back({"rtbassoc-gw", "", false, s.gatewayId});
      }
      break;
    case RoutedStepKind::kDisableSourceDestCheck:
      for (auto& e : o.enis) {
        if (e.networkInterfaceId == s.id) e.sourceDestCheck = false;
      }
      break;
  }
}

// Runs prepare plans until converged, applying every step; returns the number of cycles.
int converge(const RoutedGoal& g, RoutedObservation& o, size_t crash_after = SIZE_MAX) {
  size_t applied = 0;
  for (int cycle = 1; cycle <= 10; ++cycle) {
    auto p = planRoutedPrepare(g, o);
    EXPECT_TRUE(p.ok()) << p.error().message;
    if (!p.ok()) return -1;
    if (p->converged()) return cycle;
    for (const auto& s : p->steps) {
      if (applied++ == crash_after) return 0;  // "crash": the rest of this plan never runs
      apply(g, s, o);
    }
  }
  return -1;
}

TEST(RoutedPrepare, FreshVpcGetsSubnetInTheAzWithoutAnLbEniEipAndGatewayTable) {
  const RoutedGoal g = goal();
  RoutedObservation o = fresh();
  auto p = planRoutedPrepare(g, o);
  ASSERT_TRUE(p.ok()) << p.error().message;
  std::vector<std::string> names;
  for (const auto& s : p->steps) names.push_back(routedStepName(s.kind));
  EXPECT_EQ(names, (std::vector<std::string>{"CreateSubnet", "CreateNetworkInterface", "CreateRouteTable",
                                             "ModifyNetworkInterfaceAttribute"}));
  EXPECT_EQ(p->steps[0].id, "az-c") << "az-a (me) and az-b (the peer) host LBs";
  EXPECT_EQ(p->steps[1].ips, std::vector<std::string>{"192.168.248.254"});
  EXPECT_EQ(converge(g, o), 3) << "ENI-dependent and table-dependent steps follow in the next cycles";
  // Converged: the ids are known and the failover writes every table.
  auto done = planRoutedPrepare(g, o);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->context.subnetId, "subnet-s");
  EXPECT_EQ(done->context.vipEniId, "eni-vip");
  EXPECT_EQ(done->context.gatewayTableId, "rtb-gw");
  EXPECT_EQ(done->context.routeTableIds, std::vector<std::string>{"rtb-main"});
  const auto writes = failoverWrites(g, done->context);
  EXPECT_EQ(writes, (std::vector<RouteWrite>{{"rtb-gw", false}, {"rtb-main", false}}))
      << "no S route yet: CreateRoute in both tables";
}

TEST(RoutedPrepare, IsIdempotentAndResumesAfterACrashAtEveryStep) {
  const RoutedGoal g = goal();
  size_t total = 0;
  {
    RoutedObservation o = fresh();
    for (int c = 0; c < 10; ++c) {
      auto p = planRoutedPrepare(g, o);
      ASSERT_TRUE(p.ok());
      if (p->converged()) break;
      total += p->steps.size();
      for (const auto& s : p->steps) apply(g, s, o);
    }
  }
  ASSERT_GE(total, 6u);
  for (size_t crash = 0; crash < total; ++crash) {
    SCOPED_TRACE("crash after " + std::to_string(crash) + " step(s)");
    RoutedObservation o = fresh();
    EXPECT_EQ(converge(g, o, crash), 0);
    EXPECT_GT(converge(g, o), 0);
    // Nothing was created twice.
    int subnets = 0, enis = 0, tables = 0;
    for (const auto& s : o.subnets) subnets += s.cidrBlock == kS;
    for (const auto& e : o.enis) enis += findTag(e.tags, g.tags.key).value_or("") == g.tags.eni();
    for (const auto& t : o.routeTables)
      tables += findTag(t.tags, g.tags.key).value_or("") == g.tags.gatewayTable();
    EXPECT_EQ(subnets, 1);
    EXPECT_EQ(enis, 1);
    EXPECT_EQ(tables, 1);
    EXPECT_EQ(o.addresses[0].networkInterfaceId, "eni-vip");
  }
}

TEST(RoutedPrepare, RefusesWhatCanNeverWork) {
  RoutedGoal g = goal();
  RoutedObservation o = fresh();
  o.subnets.push_back(subnet("subnet-x", "192.168.248.0/25", "az-c"));
  auto overlap = planRoutedPrepare(g, o);
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.error().message.find("overlaps subnet subnet-x"), std::string::npos);

  o = fresh();
  RouteTable foreign;
  foreign.routeTableId = "rtb-theirs";
  foreign.associations = {{"rtbassoc-x", "", false, "igw-1"}};
  o.routeTables.push_back(foreign);
  auto taken = planRoutedPrepare(g, o);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().message.find("rtb-theirs"), std::string::npos) << taken.error().message;

  o = fresh();
  o.subnets.pop_back();  // only az-a and az-b: both host an LB
  auto no_az = planRoutedPrepare(g, o);
  ASSERT_FALSE(no_az.ok());
  EXPECT_NE(no_az.error().message.find("hosts an LB"), std::string::npos);
  g.vipAz = "az-b";  // named explicitly: accepted
  EXPECT_TRUE(planRoutedPrepare(g, o).ok());

  o = fresh();
  o.internetGatewayId.clear();
  EXPECT_FALSE(planRoutedPrepare(goal(), o).ok());
}

// A prepared context with the S routes in both tables pointing at `target` (`state`).
RoutedContext prepared(const std::string& target, const std::string& state = "active") {
  RoutedContext c;
  c.subnetId = "subnet-s";
  c.vipEniId = "eni-vip";
  c.gatewayTableId = "rtb-gw";
  c.routeTableIds = {"rtb-main"};
  c.routes = {{"rtb-gw", true, target, state == "blackhole"},
              {"rtb-main", true, target, state == "blackhole"}};
  return c;
}

std::vector<RouteTable> tables(const std::string& gw_target, const std::string& main_target,
                               Tags gw_tags = {}, const std::string& main_state = "active") {
  RouteTable gw;
  gw.routeTableId = "rtb-gw";
  gw.tags = std::move(gw_tags);
  if (!gw_target.empty()) gw.routes = {{kS, "", gw_target, "active"}};
  RouteTable main;
  main.routeTableId = "rtb-main";
  if (!main_target.empty()) main.routes = {{kS, "", main_target, main_state}};
  return {gw, main};
}

Tags epochTag(uint64_t epoch, const std::string& owner) {
  return {{"floatlb-epoch", std::to_string(epoch)}, {"floatlb-owner", owner}};
}

TEST(RoutedFailover, OneWritePerTableReplaceWhereTheRouteExistsEvenWhereTheCacheSaysMine) {
  const RoutedGoal g = goal();
  EXPECT_EQ(failoverWrites(g, prepared(kPeerEni)),
            (std::vector<RouteWrite>{{"rtb-gw", true}, {"rtb-main", true}}));
  // A cache that says "mine" may be stale (the peer took over while we were BACKUP): written anyway.
  EXPECT_EQ(failoverWrites(g, prepared(kMyEni)),
            (std::vector<RouteWrite>{{"rtb-gw", true}, {"rtb-main", true}}));
  EXPECT_EQ(failoverWrites(g, prepared(kMyEni, "blackhole")).size(), 2u) << "a blackholed route is rewritten";
}

TEST(RoutedVerify, HeldWhenEveryRouteIsMineAndTagsAreMine) {
  const RoutedGoal g = goal();
  auto v = verifyRoutes(g, prepared(kMyEni), tables(kMyEni, kMyEni, epochTag(7, kMe)));
  EXPECT_EQ(v.kind, RoutedVerdict::Kind::kHeld);
  EXPECT_FALSE(v.retag);
  auto untagged = verifyRoutes(g, prepared(kMyEni), tables(kMyEni, kMyEni));
  EXPECT_EQ(untagged.kind, RoutedVerdict::Kind::kHeld);
  EXPECT_TRUE(untagged.retag) << "the epoch tag is written after a win";
}

TEST(RoutedVerify, ReassertsOnlyWhatIsMissingOrBlackholed) {
  const RoutedGoal g = goal();
  auto v = verifyRoutes(g, prepared(kMyEni), tables(kMyEni, "", epochTag(7, kMe)));
  EXPECT_EQ(v.kind, RoutedVerdict::Kind::kReassert);
  EXPECT_EQ(v.writes, (std::vector<RouteWrite>{{"rtb-main", false}}));
  auto bh = verifyRoutes(g, prepared(kMyEni), tables(kMyEni, kMyEni, epochTag(7, kMe), "blackhole"));
  EXPECT_EQ(bh.kind, RoutedVerdict::Kind::kReassert);
  EXPECT_EQ(bh.writes, (std::vector<RouteWrite>{{"rtb-main", true}}));
}

TEST(RoutedVerify, MasterFindingTheRoutesOnThePeerStepsDownAndNeverWrites) {
  const RoutedGoal g = goal();
  // The peer won later (higher epoch, its tag) — the partitioned old master's case.
  auto newer = verifyRoutes(g, prepared(kMyEni), tables(kPeerEni, kPeerEni, epochTag(8, "i-peer")));
  EXPECT_EQ(newer.kind, RoutedVerdict::Kind::kStepDown);
  EXPECT_TRUE(newer.writes.empty());
  EXPECT_NE(newer.reason.find(kPeerEni), std::string::npos);
  // The peer has written the routes but not its tag yet (my tag is still there): step down too.
  auto untagged = verifyRoutes(g, prepared(kMyEni), tables(kPeerEni, kPeerEni, epochTag(7, kMe)));
  EXPECT_EQ(untagged.kind, RoutedVerdict::Kind::kStepDown);
  // Mixed winners (one table each): the same rule, no write against the peer.
  auto mixed = verifyRoutes(g, prepared(kMyEni), tables(kMyEni, kPeerEni, epochTag(8, "i-peer")));
  EXPECT_EQ(mixed.kind, RoutedVerdict::Kind::kStepDown);
}

TEST(RoutedVerify, EpochsBreakTies) {
  const RoutedGoal g = goal();  // epoch 7, "i-me"
  // The peer's tag carries an older epoch: it is the stale writer; I take both tables back.
  auto stale = verifyRoutes(g, prepared(kMyEni), tables(kPeerEni, kPeerEni, epochTag(6, "i-peer")));
  EXPECT_EQ(stale.kind, RoutedVerdict::Kind::kReassert);
  EXPECT_EQ(stale.writes, (std::vector<RouteWrite>{{"rtb-gw", true}, {"rtb-main", true}}));
  EXPECT_TRUE(stale.retag);
  // Equal epochs: the lower instance id yields ("i-me" < "i-zz", "i-me" > "i-aa").
  EXPECT_EQ(verifyRoutes(g, prepared(kMyEni), tables(kPeerEni, kPeerEni, epochTag(7, "i-zz"))).kind,
            RoutedVerdict::Kind::kStepDown);
  EXPECT_EQ(verifyRoutes(g, prepared(kMyEni), tables(kPeerEni, kPeerEni, epochTag(7, "i-aa"))).kind,
            RoutedVerdict::Kind::kReassert);
  // The two nodes never both re-assert: from the peer's side the same tables say "step down".
  RoutedGoal peer = g;
  peer.instanceId = "i-peer";
  peer.eniId = kPeerEni;
  peer.epoch = 6;
  EXPECT_EQ(verifyRoutes(peer, prepared(kPeerEni), tables(kMyEni, kMyEni, epochTag(7, kMe))).kind,
            RoutedVerdict::Kind::kStepDown);
}

}  // namespace
}  // namespace floatlb::cloud::takeover
