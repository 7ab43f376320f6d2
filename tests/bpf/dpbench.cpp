// flb-dpbench: per-packet cost of the tc datapath through BPF_PROG_TEST_RUN (root).
//
//   ct_hit_ns    repeat mode (kernel loop over one skb). The skb is rewritten in place on every
//                run, so two conntrack entries are installed that translate the tuple back and
//                forth: every repetition is a real CT hit with a full NAT rewrite. No ingress
//                ifindex: the first lookup fails and its "to the kernel" decision is then served
//                from the entry's fib cache (the redirect itself is not measured; TTL-- would
//                end the loop after 63 repetitions).
//   new_flow_ns  repeat is impossible (a new tuple is needed per run): one BPF_PROG_TEST_RUN per
//                packet with a fresh source port, kernel-measured duration averaged; conntrack is
//                flushed between batches. Includes fib_lookup + redirect through a veth.
//   The same single-run method is applied to a CT hit and to a non-service packet for comparison.
// Every measurement is checked, so a broken datapath cannot produce a fast number: each run's tc
// verdict (every single run, and the repeat runs) and the datapath's global counters over it
// (every repetition a CT hit / pass / new flow as intended, the forwarded ones by fib redirect,
// no drops). Any mismatch exits 1 with what was expected and what happened.
// Runs in a private network namespace (created here), so no real interface is touched.
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bpf/packet.h"
#include "dataplane/libbpf_datapath.h"

using floatlb::dataplane::LibbpfDatapath;
using floatlb::dataplane::ProgRunInput;
using floatlb::testing::buildPacket;
using floatlb::testing::ip;
using floatlb::testing::PacketSpec;

namespace {

constexpr uint32_t kVip = 0xc0a8f80a, kClient = 0xc6120005, kEp = 0xc0a8da0b;

int die(const char* what) {
  std::fprintf(stderr, "flb-dpbench: %s\n", what);
  return 1;
}

PacketSpec clientPacket(uint16_t sport, uint8_t flags) {
  PacketSpec s;
  s.saddr = kClient, s.daddr = kVip, s.sport = sport, s.dport = 80, s.tcp_flags = flags, s.payload = 64;
  return s;
}

flb_ct_key tupleKey(uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp) {
  flb_ct_key k{};
  k.saddr = htonl(sa), k.daddr = htonl(da), k.sport = htons(sp), k.dport = htons(dp), k.proto = IPPROTO_TCP;
  return k;
}

// Average kernel-measured ns of single runs; -1 if a run fails or returns another verdict than
// `verdict` (the first mismatch is reported).
double singleRuns(LibbpfDatapath& dp, const std::vector<std::string>& pkts, uint32_t ifindex,
                  uint32_t verdict, const char* what) {
  uint64_t total = 0;
  for (const auto& p : pkts) {
    ProgRunInput in;
    in.packet = p;
    in.ingress_ifindex = ifindex;
    auto r = dp.testRun(in);
    if (!r.ok()) return -1;
    if (r->verdict != verdict) {
      std::fprintf(stderr, "flb-dpbench: %s: verdict %u, expected %u\n", what, r->verdict, verdict);
      return -1;
    }
    total += r->duration_ns;
  }
  return static_cast<double>(total) / static_cast<double>(pkts.size());
}

// The global counters moved by exactly `want` over a measurement (the rest of the table: zero drops).
struct StatDelta {
  int stat;
  uint64_t want;
};
constexpr int kDropStats[] = {FLB_STAT_NO_ENDPOINT, FLB_STAT_CT_FULL, FLB_STAT_SNAT_PORT_BUSY};

class StatCheck {
 public:
  explicit StatCheck(LibbpfDatapath& dp) : dp_(dp), before_(dp.globalStats()) {}
  // true when every listed counter moved by exactly its amount and no drop counter moved
  bool expect(const char* what, std::initializer_list<StatDelta> deltas) {
    auto after = dp_.globalStats();
    if (!before_.ok() || !after.ok()) return fail(what, "cannot read the global stats");
    for (const auto& d : deltas) {
      const uint64_t got = (*after)[d.stat] - (*before_)[d.stat];
      if (got != d.want) {
        std::fprintf(stderr, "flb-dpbench: %s: stat %d moved by %llu, expected %llu\n", what, d.stat,
                     static_cast<unsigned long long>(got), static_cast<unsigned long long>(d.want));
        return false;
      }
    }
    for (int st : kDropStats) {
      if ((*after)[st] != (*before_)[st]) return fail(what, "packets were dropped");
    }
    return true;
  }

 private:
  static bool fail(const char* what, const char* why) {
    std::fprintf(stderr, "flb-dpbench: %s: %s\n", what, why);
    return false;
  }
  LibbpfDatapath& dp_;
  floatlb::Result<floatlb::dataplane::GlobalStats> before_;
};

}  // namespace

int main(int argc, char** argv) {
  const uint32_t repeat = argc > 1 ? static_cast<uint32_t>(std::atoi(argv[1])) : 2'000'000;
  const int flows = argc > 2 ? std::atoi(argv[2]) : 20'000;
  if (geteuid() != 0) {
    std::printf("SKIP: flb-dpbench loads eBPF programs and needs root\n");
    return 77;
  }
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0 ||
      mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return die("cannot create private namespaces");
  if (std::system(
          "ip link add flbb0 type veth peer name flbb1 && ip link set flbb0 up && ip link set flbb1 up && "
          "ip addr add 192.168.218.2/24 dev flbb0 && "
          "ip neigh replace 192.168.218.11 lladdr 02:00:00:00:00:0b dev flbb0") != 0)
    return die("veth setup failed");
  { std::ofstream("/proc/sys/net/ipv4/ip_forward") << "1"; }
  const uint32_t ifindex = if_nametoindex("flbb0");

  LibbpfDatapath::Options o;
  o.pin_dir = "";
  o.attach = false;
  auto dpr = LibbpfDatapath::open(o);
  if (!dpr.ok()) return die(dpr.error().message.c_str());
  LibbpfDatapath& dp = **dpr;

  flb_svc_key key{};
  key.vip = htonl(kVip), key.port = htons(80), key.proto = IPPROTO_TCP;
  flb_svc svc{};
  svc.rule_id = 1, svc.sel = FLB_SEL_RR, svc.n_eps = 1, svc.n_slots = 1, svc.ct_timeout_s = 240;
  svc.eps[0].ip = htonl(kEp), svc.eps[0].port = htons(8080), svc.eps[0].flags = FLB_EP_F_ACTIVE;
  if (!dp.upsertService(key, svc).ok()) return die("service upsert failed");

  // --- CT hit, repeat mode: C:40000->VIP:80 <-> C:40000->EP:8080, both real entries.
  {
    floatlb::dataplane::CtEntry a{}, b{};
    a.key = tupleKey(kClient, kVip, 40000, 80);
    a.value.nat = {htonl(kClient), htonl(kEp), htons(40000), htons(8080)};
    a.value.state = FLB_CT_ST_EST;
    a.value.peer = tupleKey(kEp, kClient, 8080, 40000);
    b.key = tupleKey(kClient, kEp, 40000, 8080);
    b.value = a.value;
    b.value.nat = {htonl(kClient), htonl(kVip), htons(40000), htons(80)};
    if (!dp.maps().ct.update(a.key, a.value).ok() || !dp.maps().ct.update(b.key, b.value).ok())
      return die("ct insert failed");
  }
  ProgRunInput hit;
  hit.packet = buildPacket(clientPacket(40000, 0x10));
  hit.repeat = repeat;
  StatCheck hit_stats(dp);
  auto r = dp.testRun(hit);
  if (!r.ok()) return die("test run failed");
  // No ingress ifindex: the fib step hands the packet to the kernel (TC_ACT_OK) every time.
  if (r->verdict != TC_ACT_OK) return die("repeat CT hit: verdict is not TC_ACT_OK");
  if (!hit_stats.expect("repeat CT hit",
                        {{FLB_STAT_RX, repeat}, {FLB_STAT_CT_HIT, repeat}, {FLB_STAT_NEW_FLOW, 0}}))
    return 1;
  const uint32_t ct_hit_ns = r->duration_ns;

  ProgRunInput pass;
  pass.packet = buildPacket([] {
    auto s = clientPacket(40000, 0x10);
    s.dport = 443;
    return s;
  }());
  pass.repeat = repeat;
  StatCheck pass_stats(dp);
  auto rp = dp.testRun(pass);
  if (!rp.ok()) return die("pass run failed");
  if (rp->verdict != TC_ACT_OK) return die("repeat pass: verdict is not TC_ACT_OK");
  if (!pass_stats.expect("repeat pass", {{FLB_STAT_PASS, repeat}, {FLB_STAT_CT_HIT, 0}})) return 1;

  // --- New flows, single runs (fresh source ports; flushed between batches of 20k).
  std::vector<std::string> new_pkts;
  double new_total = 0;
  int batches = 0;
  for (int done = 0; done < flows; ++batches) {
    new_pkts.clear();
    const int n = std::min(flows - done, 20'000);
    for (int i = 0; i < n; ++i) {
      auto s = clientPacket(static_cast<uint16_t>(1024 + i % 60000), 0x02);
      s.saddr = kClient + 1 + static_cast<uint32_t>(i / 60000) + static_cast<uint32_t>(done);
      new_pkts.push_back(buildPacket(s));
    }
    StatCheck new_stats(dp);
    const double avg = singleRuns(dp, new_pkts, ifindex, TC_ACT_REDIRECT, "new flow");
    if (avg < 0) return die("new-flow run failed");
    const auto un = static_cast<uint64_t>(n);
    if (!new_stats.expect("new flows",
                          {{FLB_STAT_NEW_FLOW, un}, {FLB_STAT_FIB_REDIRECT, un}, {FLB_STAT_CT_HIT, 0}}))
      return 1;
    new_total += avg * n;
    done += n;
    if (!dp.flushRule(1).ok()) return die("flush failed");
  }
  const double new_flow_ns = new_total / flows;

  // --- CT hit and pass with the same single-run method (fib + redirect on the hit).
  std::vector<std::string> one_flow;
  {
    auto s = clientPacket(50000, 0x02);
    ProgRunInput syn;
    syn.packet = buildPacket(s);
    syn.ingress_ifindex = ifindex;
    StatCheck syn_stats(dp);
    auto rs = dp.testRun(syn);
    if (!rs.ok() || rs->verdict != TC_ACT_REDIRECT) return die("syn of the single-run flow failed");
    if (!syn_stats.expect("syn", {{FLB_STAT_NEW_FLOW, 1}})) return 1;
    for (int i = 0; i < flows; ++i) one_flow.push_back(buildPacket(clientPacket(50000, 0x10)));
  }
  const auto uflows = static_cast<uint64_t>(flows);
  StatCheck hit1_stats(dp);
  const double hit_single = singleRuns(dp, one_flow, ifindex, TC_ACT_REDIRECT, "single CT hit");
  if (hit_single < 0) return die("single CT-hit run failed");
  if (!hit1_stats.expect("single CT hits", {{FLB_STAT_CT_HIT, uflows}, {FLB_STAT_FIB_REDIRECT, uflows}}))
    return 1;
  std::vector<std::string> passes(static_cast<size_t>(flows), pass.packet);
  StatCheck pass1_stats(dp);
  const double pass_single = singleRuns(dp, passes, ifindex, TC_ACT_OK, "single pass");
  if (pass_single < 0) return die("single pass run failed");
  if (!pass1_stats.expect("single passes", {{FLB_STAT_PASS, uflows}, {FLB_STAT_CT_HIT, 0}})) return 1;

  std::printf("ct_hit_ns=%u new_flow_ns=%.0f\n", ct_hit_ns, new_flow_ns);
  std::printf(
      "# repeat=%u: ct_hit_ns=%u pass_ns=%u | single runs x%d: new_flow_ns=%.0f ct_hit_fib_redirect_ns=%.0f "
      "pass_ns=%.0f (%d batch(es))\n",
      repeat, ct_hit_ns, rp->duration_ns, flows, new_flow_ns, hit_single, pass_single, batches);
  return 0;
}
