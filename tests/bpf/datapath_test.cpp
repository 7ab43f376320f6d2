// The real tc program through BPF_PROG_TEST_RUN on crafted packets. Each test gets a freshly
// loaded program with empty maps (fixture.h), so cases do not depend on each other's order.
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "bpf/fixture.h"
#include "floatlb/select.h"

namespace floatlb::testing {
namespace {

struct ModeCase {
  const char* name;
  uint8_t mode;
  uint32_t snat;  // host order, 0 = keep client
  uint8_t proto;
  bool udp_no_csum;
};

class ModeTest : public DatapathTest, public ::testing::WithParamInterface<ModeCase> {};

TEST_P(ModeTest, ForwardAndReverseAreTranslatedWithValidChecksums) {
  const ModeCase& c = GetParam();
  addService(makeSvc(c.mode, FLB_SEL_HASH, 2, c.snat), svcKey(c.proto));
  PacketSpec in = toVip(kCport, 0x02, c.proto);
  in.udp_no_csum = c.udp_no_csum;

  auto fwd = run(in);
  EXPECT_EQ(fwd.verdict, static_cast<uint32_t>(TC_ACT_OK));  // no route in the test netns: kernel
  Parsed f = parsePacket(fwd.packet);
  ASSERT_TRUE(f.ok);
  const uint32_t expect_src = c.snat ? c.snat : kClient;
  EXPECT_EQ(f.saddr, expect_src);
  const int ep = epIndexOf(f.daddr);
  ASSERT_GE(ep, 0) << std::hex << f.daddr;
  EXPECT_EQ(f.dport, kEport);
  EXPECT_EQ(f.sport, kCport);
  EXPECT_EQ(f.ttl, 64);  // not forwarded by us: the kernel decrements
  EXPECT_TRUE(f.ip_csum_ok);
  EXPECT_TRUE(f.l4_csum_ok);
  if (c.udp_no_csum) {
    EXPECT_EQ(f.l4_csum_field, 0);
  }

  PacketSpec reply;
  reply.proto = c.proto;
  reply.saddr = kEp[ep];
  reply.daddr = expect_src;
  reply.sport = kEport;
  reply.dport = kCport;
  reply.tcp_flags = 0x12;
  reply.udp_no_csum = c.udp_no_csum;
  auto rev = run(reply);
  EXPECT_EQ(rev.verdict, static_cast<uint32_t>(TC_ACT_OK));
  Parsed r = parsePacket(rev.packet);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.saddr, kVip);
  EXPECT_EQ(r.sport, kVport);
  EXPECT_EQ(r.daddr, kClient);
  EXPECT_EQ(r.dport, kCport);
  EXPECT_TRUE(r.ip_csum_ok);
  EXPECT_TRUE(r.l4_csum_ok);

  EXPECT_EQ(stat(FLB_STAT_NEW_FLOW), 1u);
  EXPECT_EQ(stat(FLB_STAT_CT_HIT), 1u);
  EXPECT_EQ(stat(FLB_STAT_FIB_KERNEL), 2u);
  EXPECT_EQ(ct().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ModeTest,
    ::testing::Values(ModeCase{"dnat_tcp", FLB_MODE_DNAT, 0, IPPROTO_TCP, false},
                      ModeCase{"onearm_tcp", FLB_MODE_ONEARM, kLbIf, IPPROTO_TCP, false},
                      ModeCase{"fullnat_tcp", FLB_MODE_FULLNAT, kVip, IPPROTO_TCP, false},
                      ModeCase{"dnat_udp", FLB_MODE_DNAT, 0, IPPROTO_UDP, false},
                      ModeCase{"fullnat_udp", FLB_MODE_FULLNAT, kVip, IPPROTO_UDP, false},
                      ModeCase{"onearm_udp_nocsum", FLB_MODE_ONEARM, kLbIf, IPPROTO_UDP, true}),
    [](const auto& info) { return std::string(info.param.name); });

using Datapath = DatapathTest;

TEST_F(Datapath, CtHitReusesEntryAndCounts) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 3));
  const uint32_t first = parsePacket(run(toVip(kCport, 0x02)).packet).daddr;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(parsePacket(run(toVip(kCport, 0x10)).packet).daddr, first);
  EXPECT_EQ(stat(FLB_STAT_NEW_FLOW), 1u);
  EXPECT_EQ(stat(FLB_STAT_CT_HIT), 3u);
  flb_ct_key k{};
  k.saddr = htonl(kClient), k.daddr = htonl(kVip), k.sport = htons(kCport), k.dport = htons(kVport);
  k.proto = IPPROTO_TCP;
  auto v = dp_->maps().ct.lookup(k);
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->packets, 4u);
  EXPECT_EQ((*v)->dir, FLB_CT_DIR_FWD);
  auto counters = dp_->endpointCounters(7, FLB_MAX_ENDPOINTS);
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ((*counters)[static_cast<size_t>(epIndexOf(first))].packets, 4u);
  EXPECT_GT((*counters)[static_cast<size_t>(epIndexOf(first))].bytes, 4u * 60);
}

TEST_F(Datapath, NoServicePassesUntouched) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 2));
  PacketSpec other = toVip();
  other.dport = 443;  // same VIP, other port
  const std::string pkt = buildPacket(other);
  auto out = runRaw(pkt);
  EXPECT_EQ(out.verdict, static_cast<uint32_t>(TC_ACT_OK));
  EXPECT_EQ(out.packet, pkt);
  std::string arp(60, '\0');
  arp[12] = 0x08, arp[13] = 0x06;
  out = runRaw(arp);
  EXPECT_EQ(out.verdict, static_cast<uint32_t>(TC_ACT_OK));
  EXPECT_EQ(out.packet, arp);
  EXPECT_EQ(stat(FLB_STAT_PASS), 2u);
  EXPECT_TRUE(ct().empty());
}

TEST_F(Datapath, BlockIsMatchedAgainstMark) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 2), svcKey(IPPROTO_TCP, 5));
  const std::string pkt = buildPacket(toVip());
  EXPECT_EQ(runRaw(pkt, 0).packet, pkt);
  EXPECT_NE(runRaw(pkt, 5).packet, pkt);
}

TEST_F(Datapath, RoundRobinSpreadsEvenly) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 3));
  int hits[3] = {};
  for (uint16_t i = 0; i < 12; ++i) {
    int ep = epIndexOf(parsePacket(run(toVip(static_cast<uint16_t>(kCport + i))).packet).daddr);
    ASSERT_GE(ep, 0);
    ++hits[ep];
  }
  EXPECT_EQ(hits[0], 4);
  EXPECT_EQ(hits[1], 4);
  EXPECT_EQ(hits[2], 4);
}

TEST_F(Datapath, HashIsStablePerTupleAndSpreads) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_HASH, 3));
  std::vector<uint32_t> first;
  std::set<uint32_t> used;
  for (uint16_t i = 0; i < 30; ++i)
    first.push_back(parsePacket(run(toVip(static_cast<uint16_t>(kCport + 2 * i))).packet).daddr);
  ASSERT_TRUE(dp_->flushRule(7).ok());
  EXPECT_TRUE(ct().empty());
  for (uint16_t i = 0; i < 30; ++i) {
    uint32_t again = parsePacket(run(toVip(static_cast<uint16_t>(kCport + 2 * i))).packet).daddr;
    EXPECT_EQ(again, first[i]) << i;
    used.insert(again);
  }
  EXPECT_EQ(used.size(), 3u);  // even ports only, still all endpoints
  EXPECT_EQ(stat(FLB_STAT_NEW_FLOW), 60u);
}

TEST_F(Datapath, PersistKeepsClientOnOneEndpoint) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_PERSIST, 3));
  std::set<uint32_t> for_client, overall;
  for (uint16_t i = 0; i < 20; ++i)
    for_client.insert(parsePacket(run(toVip(static_cast<uint16_t>(kCport + i))).packet).daddr);
  EXPECT_EQ(for_client.size(), 1u);
  for (uint32_t c = 0; c < 30; ++c)
    overall.insert(parsePacket(run(toVip(kCport, 0x02, IPPROTO_TCP, kClient + 1 + c)).packet).daddr);
  EXPECT_GT(overall.size(), 1u);
  flb_persist_key pk{7, htonl(kClient)};
  auto pv = dp_->maps().persist.lookup(pk);
  ASSERT_TRUE(pv.ok() && pv->has_value());
  EXPECT_EQ(kEp[(*pv)->ep_idx], *for_client.begin());
}

TEST_F(Datapath, PersistForgetsInactiveEndpoint) {
  flb_svc svc = makeSvc(FLB_MODE_DNAT, FLB_SEL_PERSIST, 3);
  addService(svc);
  const int ep = epIndexOf(parsePacket(run(toVip(kCport)).packet).daddr);
  ASSERT_GE(ep, 0);
  // the endpoint goes unhealthy: control plane clears its flag and drops it from the slots
  svc.eps[ep].flags = 0;
  int n = 0;
  for (int i = 0; i < 3; ++i)
    if (i != ep) svc.slots[n++] = static_cast<uint8_t>(i);
  svc.n_slots = 2;
  addService(svc);
  EXPECT_NE(epIndexOf(parsePacket(run(toVip(kCport + 1)).packet).daddr), ep);
}

TEST_F(Datapath, LeastConnectionPicksLeastLoadedAndFlushReleases) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_LC, 3));
  flb_lc_counts lc{};
  lc.active[0] = 5, lc.active[1] = 1, lc.active[2] = 3;
  ASSERT_TRUE(dp_->maps().lc.update(7, lc).ok());
  EXPECT_EQ(parsePacket(run(toVip(kCport)).packet).daddr, kEp[1]);      // 1 -> 2
  EXPECT_EQ(parsePacket(run(toVip(kCport + 1)).packet).daddr, kEp[1]);  // 2 -> 3
  EXPECT_EQ(parsePacket(run(toVip(kCport + 2)).packet).daddr, kEp[1]);  // tie with ep2: first slot
  auto now = dp_->maps().lc.lookup(7);
  ASSERT_TRUE(now.ok() && now->has_value());
  EXPECT_EQ((*now)->active[1], 4u);
  auto removed = dp_->flushRule(7);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 6u);
  now = dp_->maps().lc.lookup(7);
  EXPECT_EQ((*now)->active[1], 1u);  // the three flows this datapath created were released
  EXPECT_EQ((*now)->active[0], 5u);
}

TEST_F(Datapath, NoSlotsDrops) {
  flb_svc svc = makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 2);
  svc.n_slots = 0;
  addService(svc);
  EXPECT_EQ(run(toVip()).verdict, static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(stat(FLB_STAT_NO_ENDPOINT), 1u);
  EXPECT_TRUE(ct().empty());
}

TEST_F(Datapath, FullnatSourcePortCollisionTakesAlternative) {
  addService(makeSvc(FLB_MODE_FULLNAT, FLB_SEL_RR, 1, kVip));
  // Another client already owns the reverse tuple ep:8080 -> VIP:40000.
  auto first = parsePacket(run(toVip(kCport, 0x02, IPPROTO_TCP, kClient)).packet);
  EXPECT_EQ(first.sport, kCport);
  auto second = parsePacket(run(toVip(kCport, 0x02, IPPROTO_TCP, kClient + 1)).packet);
  ASSERT_TRUE(second.ok);
  EXPECT_NE(second.sport, kCport);
  EXPECT_GE(second.sport, FLB_SNAT_PORT_MIN);
  EXPECT_TRUE(second.l4_csum_ok);
  // The reply on the alternative port reaches the second client.
  PacketSpec reply;
  reply.saddr = kEp[0], reply.daddr = kVip, reply.sport = kEport, reply.dport = second.sport;
  reply.tcp_flags = 0x12;
  auto back = parsePacket(run(reply).packet);
  EXPECT_EQ(back.daddr, kClient + 1);
  EXPECT_EQ(back.dport, kCport);
  EXPECT_TRUE(back.l4_csum_ok);
  EXPECT_EQ(ct().size(), 4u);
}

TEST_F(Datapath, SnatPortsExhaustedDrops) {
  addService(makeSvc(FLB_MODE_FULLNAT, FLB_SEL_RR, 1, kVip));
  // Occupy the client's port and every alternative the hash would try for the next client.
  flb_ct_key next{};
  next.saddr = htonl(kClient + 1), next.daddr = htonl(kVip), next.sport = htons(kCport),
  next.dport = htons(kVport);
  next.proto = IPPROTO_TCP;
  for (uint32_t a = 0; a < FLB_SNAT_TRIES; ++a) {
    dataplane::CtEntry e{};
    e.key.saddr = htonl(kEp[0]), e.key.daddr = htonl(kVip), e.key.sport = htons(kEport);
    e.key.dport = htons(a == 0 ? kCport : flb_alt_port(&next, a));
    e.key.proto = IPPROTO_TCP;
    e.value.dir = FLB_CT_DIR_REV;
    ASSERT_TRUE(dp_->insertConntrack(e).ok());
  }
  EXPECT_EQ(run(toVip(kCport, 0x02, IPPROTO_TCP, kClient + 1)).verdict, static_cast<uint32_t>(TC_ACT_SHOT));
  EXPECT_EQ(stat(FLB_STAT_SNAT_PORT_BUSY), 1u);
}

TEST_F(Datapath, TcpStateAndEvents) {
  addService(makeSvc(FLB_MODE_FULLNAT, FLB_SEL_RR, 1, kVip));
  auto state = [&]() {
    std::set<int> states;
    for (const auto& e : ct()) states.insert(e.value.state);
    return states;
  };
  run(toVip(kCport, 0x02));
  EXPECT_EQ(state(), std::set<int>{FLB_CT_ST_SYN_SENT});
  PacketSpec reply;
  reply.saddr = kEp[0], reply.daddr = kVip, reply.sport = kEport, reply.dport = kCport;
  reply.tcp_flags = 0x12;
  run(reply);
  EXPECT_EQ(state(), std::set<int>{FLB_CT_ST_SYN_RECV});
  run(toVip(kCport, 0x10));
  EXPECT_EQ(state(), std::set<int>{FLB_CT_ST_EST});
  run(toVip(kCport, 0x11));  // FIN from the client
  EXPECT_EQ(state(), std::set<int>{FLB_CT_ST_FIN_WAIT});
  reply.tcp_flags = 0x11;
  run(reply);
  EXPECT_EQ(state(), std::set<int>{FLB_CT_ST_TIME_WAIT});

  std::vector<uint32_t> types;
  auto n = dp_->pollEvents(
      [&](const flb_ct_event& ev) {
        types.push_back(ev.type);
        EXPECT_EQ(ev.value.dir, FLB_CT_DIR_FWD);
        EXPECT_EQ(ev.key.sport, htons(kCport));
      },
      100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(types, (std::vector<uint32_t>{FLB_EV_CT_NEW, FLB_EV_CT_EST, FLB_EV_CT_CLOSED}));
}

TEST_F(Datapath, UdpEstablishedOnReply) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 1), svcKey(IPPROTO_UDP));
  run(toVip(kCport, 0, IPPROTO_UDP));
  for (const auto& e : ct()) EXPECT_EQ(e.value.state, FLB_CT_ST_NEW);
  PacketSpec reply;
  reply.proto = IPPROTO_UDP;
  reply.saddr = kEp[0], reply.daddr = kClient, reply.sport = kEport, reply.dport = kCport;
  run(reply);
  for (const auto& e : ct()) EXPECT_EQ(e.value.state, FLB_CT_ST_EST);
}

TEST_F(Datapath, MidstreamPickup) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 1));
  auto out = parsePacket(run(toVip(kCport, 0x10)).packet);
  EXPECT_EQ(out.daddr, kEp[0]);
  EXPECT_EQ(stat(FLB_STAT_MIDSTREAM_PICKUP), 1u);
  for (const auto& e : ct()) EXPECT_EQ(e.value.state, FLB_CT_ST_EST);
}

TEST_F(Datapath, FragmentsArePassedAndCounted) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 1));
  PacketSpec first = toVip();
  first.frag = 0x2000;  // MF
  PacketSpec later = toVip();
  later.frag = 0x0010;  // offset 128 bytes
  for (const auto& spec : {first, later}) {
    const std::string pkt = buildPacket(spec);
    auto out = runRaw(pkt);
    EXPECT_EQ(out.verdict, static_cast<uint32_t>(TC_ACT_OK));
    EXPECT_EQ(out.packet, pkt);
  }
  EXPECT_EQ(stat(FLB_STAT_FRAGMENT), 2u);
  EXPECT_TRUE(ct().empty());
}

TEST_F(Datapath, IpOptionsHonoured) {
  addService(makeSvc(FLB_MODE_FULLNAT, FLB_SEL_RR, 1, kVip));
  PacketSpec s = toVip();
  s.ip_option_words = 2;
  auto out = parsePacket(run(s).packet);
  ASSERT_TRUE(out.ok);
  EXPECT_EQ(out.daddr, kEp[0]);
  EXPECT_EQ(out.dport, kEport);
  EXPECT_TRUE(out.ip_csum_ok);
  EXPECT_TRUE(out.l4_csum_ok);
}

TEST_F(Datapath, SyncedEntriesAreMappedToLocalRuleAndEndpoint) {
  addService(makeSvc(FLB_MODE_FULLNAT, FLB_SEL_RR, 3, kVip));
  // An entry from the peer, where the same service had rule 99 and the endpoint index 0.
  dataplane::CtEntry e{};
  e.key.saddr = htonl(kClient), e.key.daddr = htonl(kVip), e.key.sport = htons(kCport),
  e.key.dport = htons(kVport);
  e.key.proto = IPPROTO_TCP;
  e.value.nat = {htonl(kVip), htonl(kEp[2]), htons(kCport), htons(kEport)};
  e.value.dir = FLB_CT_DIR_FWD;
  e.value.state = FLB_CT_ST_EST;
  e.value.rule_id = 99;
  e.value.ep_idx = 0;
  e.value.svc = svcKey();
  e.value.fib.kind = FLB_FIB_REDIRECT;  // the peer's interfaces and MACs: must not be used here
  e.value.fib.oif = 42;
  e.value.fib.checked_ns = 1;
  ASSERT_TRUE(dp_->insertConntrack(e).ok());
  auto v = dp_->maps().ct.lookup(e.key);
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->rule_id, 7u);
  EXPECT_EQ((*v)->ep_idx, 2);
  EXPECT_TRUE((*v)->flags & FLB_CT_F_SYNCED);
  EXPECT_EQ((*v)->fib.kind, FLB_FIB_NONE);
  EXPECT_EQ((*v)->fib.oif, 0u);
  // The packet of that connection now hits the synced entry (no new selection) ...
  auto out = parsePacket(run(toVip(kCport, 0x10)).packet);
  EXPECT_EQ(out.daddr, kEp[2]);
  EXPECT_EQ(stat(FLB_STAT_NEW_FLOW), 0u);
  EXPECT_EQ((*dp_->endpointCounters(7, FLB_MAX_ENDPOINTS))[2].packets, 1u);
  // ... and flushing the local rule removes it.
  EXPECT_EQ(*dp_->flushRule(7), 1u);
}

TEST_F(Datapath, AgingRemovesIdleConnectionsOnly) {
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_LC, 1));
  run(toVip(kCport, 0x02));  // SYN_SENT: 10 s
  SteadyClock clock;
  auto r = dp_->ageConntrack(clock.now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 0u);
  r = dp_->ageConntrack(clock.now() + std::chrono::seconds(11));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 2u);
  EXPECT_EQ((*dp_->maps().lc.lookup(7))->active[0], 0u);
}

// The hit path reads jiffies + an offset measured against bpf_ktime_get_coarse_ns (helpers.h):
// the timestamps must still be CLOCK_MONOTONIC nanoseconds (aging compares them with SteadyClock).
TEST_F(Datapath, TimestampsAreMonotonicNanoseconds) {
  constexpr uint64_t kTick = 10'000'000;  // one tick at HZ >= 100, the coarse clock's resolution
  SteadyClock clock;
  flb_ct_key k{};
  k.saddr = htonl(kClient), k.daddr = htonl(kVip), k.sport = htons(kCport), k.dport = htons(kVport);
  k.proto = IPPROTO_TCP;

  // A CT hit before any new flow: the first packet after load measures the offset itself.
  dataplane::CtEntry e{};
  e.key = k;
  e.value.nat = {htonl(kClient), htonl(kEp[0]), htons(kCport), htons(kEport)};
  e.value.state = FLB_CT_ST_EST;
  ASSERT_TRUE(dp_->maps().ct.update(e.key, e.value).ok());
  uint64_t t0 = toNanos(clock.now());
  EXPECT_EQ(parsePacket(run(toVip(kCport, 0x10)).packet).daddr, kEp[0]);
  uint64_t t1 = toNanos(clock.now());
  auto v = dp_->maps().ct.lookup(k);
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_GE((*v)->last_seen_ns + kTick, t0);
  EXPECT_LE((*v)->last_seen_ns, t1 + kTick);
  ASSERT_TRUE(dp_->maps().ct.erase(k).ok());

  // A new flow (precise read), then a hit 60 ms later (fast read).
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 1));
  t0 = toNanos(clock.now());
  run(toVip(kCport, 0x02));
  t1 = toNanos(clock.now());
  v = dp_->maps().ct.lookup(k);
  ASSERT_TRUE(v.ok() && v->has_value());
  const uint64_t created = (*v)->created_ns;
  EXPECT_GE(created + kTick, t0);
  EXPECT_LE(created, t1 + kTick);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // time itself has to pass
  t0 = toNanos(clock.now());
  run(toVip(kCport, 0x10));
  t1 = toNanos(clock.now());
  v = dp_->maps().ct.lookup(k);
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_GE((*v)->last_seen_ns + kTick, t0);
  EXPECT_LE((*v)->last_seen_ns, t1 + kTick);
  EXPECT_GE((*v)->last_seen_ns, created + 60'000'000 - kTick);
}

}  // namespace
}  // namespace floatlb::testing
