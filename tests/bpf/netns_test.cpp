// LibbpfDatapath against real interfaces: tc attach on a veth pair, a simulated daemon restart
// that re-adopts the pinned maps, and the fib_lookup + redirect path. bpf_main.cpp already put
// this process in a private network + mount namespace; the tests still remove what they make.
#include <net/if.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bpf/fixture.h"

namespace floatlb::testing {
namespace {

int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

// A veth pair that is deleted when the test ends (pass or fail).
struct Veth {
  Veth(std::string a, std::string b) : a_(std::move(a)) {
    ok = sh("ip link add " + a_ + " type veth peer name " + b) == 0 && sh("ip link set " + a_ + " up") == 0 &&
         sh("ip link set " + b + " up") == 0;
  }
  ~Veth() { sh("ip link del " + a_); }
  bool ok = false;
  std::string a_;
};

// A temporary directory that becomes a bpffs mount (by LibbpfDatapath::open); unmounted after.
struct PinDir {
  PinDir() {
    char tmpl[] = "/tmp/flb-dp-pin-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~PinDir() {
    if (path.empty()) return;
    umount2(path.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(NetnsDatapath, RestartReadoptsPinnedMapsAndKeepsFilters) {
  Veth veth("flbt0", "flbt1");
  ASSERT_TRUE(veth.ok);
  PinDir pin;
  ASSERT_FALSE(pin.path.empty());
  dataplane::LibbpfDatapath::Options o;
  o.pin_dir = pin.path;
  o.interfaces = {"flbt0", "flbt1"};

  dataplane::CtEntry entry{};
  entry.key.saddr = htonl(kClient), entry.key.daddr = htonl(kVip);
  entry.key.sport = htons(kCport), entry.key.dport = htons(kVport), entry.key.proto = IPPROTO_TCP;
  entry.value.state = FLB_CT_ST_EST;
  entry.value.rule_id = 7;
  {
    auto dp = dataplane::LibbpfDatapath::open(o);
    ASSERT_TRUE(dp.ok()) << dp.error().message;
    ASSERT_TRUE((*dp)->upsertService(svcKey(), makeSvc(FLB_MODE_FULLNAT, FLB_SEL_RR, 2, kVip)).ok());
    ASSERT_TRUE((*dp)->insertConntrack(entry).ok());
    auto attached = (*dp)->attachedInterfaces();
    ASSERT_TRUE(attached.ok());
    EXPECT_EQ(sorted(*attached), (std::vector<std::string>{"flbt0", "flbt1"}));
  }  // "daemon exits": fds closed, nothing detached

  // A restarted daemon that does not attach yet still sees the filters and the old state.
  o.attach = false;
  auto dp = dataplane::LibbpfDatapath::open(o);
  ASSERT_TRUE(dp.ok()) << dp.error().message;
  auto attached = (*dp)->attachedInterfaces();
  ASSERT_TRUE(attached.ok());
  EXPECT_EQ(sorted(*attached), (std::vector<std::string>{"flbt0", "flbt1"}));
  auto services = (*dp)->listServices();
  ASSERT_TRUE(services.ok());
  ASSERT_EQ(services->size(), 1u);
  EXPECT_EQ((*services)[0].second.eps[1].ip, htonl(kEp[1]));
  auto ct = (*dp)->dumpConntrack();
  ASSERT_TRUE(ct.ok());
  ASSERT_EQ(ct->size(), 1u);
  EXPECT_EQ((*ct)[0].value.state, FLB_CT_ST_EST);
  EXPECT_TRUE((*ct)[0].value.flags & FLB_CT_F_SYNCED);

  // Attaching the new program replaces the old one in place; then the daemon detaches for good.
  ASSERT_TRUE((*dp)->attachInterface("flbt0").ok());
  EXPECT_EQ(sorted(*(*dp)->attachedInterfaces()), (std::vector<std::string>{"flbt0", "flbt1"}));
  ASSERT_TRUE((*dp)->detachAll().ok());
  EXPECT_TRUE((*dp)->attachedInterfaces()->empty());

  // Maps stamped by another ABI version are refused, not silently adopted.
  ASSERT_TRUE((*dp)->maps().meta.update(0, FLB_ABI_VERSION + 1).ok());
  dp = dataplane::LibbpfDatapath::open(o);
  ASSERT_FALSE(dp.ok());
  EXPECT_EQ(dp.error().code, ErrorCode::kConflict);
}

TEST(NetnsDatapath, OpenAttachesEveryNonLoopbackInterfaceByDefault) {
  Veth veth("flbt4", "flbt5");
  ASSERT_TRUE(veth.ok);
  dataplane::LibbpfDatapath::Options o;
  o.pin_dir = "";
  auto dp = dataplane::LibbpfDatapath::open(o);
  ASSERT_TRUE(dp.ok()) << dp.error().message;
  auto attached = (*dp)->attachedInterfaces();
  ASSERT_TRUE(attached.ok());
  EXPECT_TRUE(std::count(attached->begin(), attached->end(), "flbt4"));
  EXPECT_TRUE(std::count(attached->begin(), attached->end(), "flbt5"));
  EXPECT_FALSE(std::count(attached->begin(), attached->end(), "lo"));
  ASSERT_TRUE((*dp)->detachAll().ok());
  EXPECT_EQ((*dp)->attachInterface("nosuchif0").error().code, ErrorCode::kNotFound);
}

class FibTest : public DatapathTest {};

TEST_F(FibTest, RedirectRewritesMacsAndTtlOrUsesNeigh) {
  Veth veth("flbt2", "flbt3");
  ASSERT_TRUE(veth.ok);
  ASSERT_EQ(sh("ip addr add 192.168.218.2/24 dev flbt2"), 0);
  ASSERT_EQ(sh("ip neigh replace 192.168.218.11 lladdr 02:00:00:00:00:0b dev flbt2"), 0);
  { std::ofstream("/proc/sys/net/ipv4/ip_forward") << "1"; }
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 2));
  dataplane::ProgRunInput in;
  in.packet = buildPacket(toVip());
  in.ingress_ifindex = if_nametoindex("flbt2");
  auto out = dp_->testRun(in);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->verdict, static_cast<uint32_t>(TC_ACT_REDIRECT));
  Parsed p = parsePacket(out->packet);
  EXPECT_EQ(p.daddr, kEp[0]);
  EXPECT_EQ(p.ttl, 63);
  EXPECT_TRUE(p.ip_csum_ok);
  EXPECT_TRUE(p.l4_csum_ok);
  EXPECT_EQ(p.dmac, std::string("\x02\x00\x00\x00\x00\x0b", 6));
  EXPECT_EQ(stat(FLB_STAT_FIB_REDIRECT), 1u);

  // Second endpoint (rr) has no neighbour entry yet: bpf_redirect_neigh resolves it.
  in.packet = buildPacket(toVip(kCport + 1));
  out = dp_->testRun(in);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->verdict, static_cast<uint32_t>(TC_ACT_REDIRECT));
  EXPECT_EQ(parsePacket(out->packet).daddr, kEp[1]);
  EXPECT_EQ(stat(FLB_STAT_FIB_NEIGH), 1u);
}

// The forwarding decision is made on a flow's first packet and cached in its conntrack entry:
// later packets reuse it until the control plane bumps the generation or it gets too old.
TEST_F(FibTest, DecisionIsCachedPerFlowUntilInvalidatedOrStale) {
  Veth veth("flbt6", "flbt7");
  ASSERT_TRUE(veth.ok);
  ASSERT_EQ(sh("ip addr add 192.168.218.2/24 dev flbt6"), 0);
  auto setMac = [](const char* mac) {
    return sh(std::string("ip neigh replace 192.168.218.11 lladdr ") + mac + " dev flbt6");
  };
  ASSERT_EQ(setMac("02:00:00:00:00:0b"), 0);
  { std::ofstream("/proc/sys/net/ipv4/ip_forward") << "1"; }
  addService(makeSvc(FLB_MODE_DNAT, FLB_SEL_RR, 1));
  const uint32_t ifindex = if_nametoindex("flbt6");
  auto send = [&](uint8_t tcp_flags) {
    dataplane::ProgRunInput in;
    in.packet = buildPacket(toVip(kCport, tcp_flags));
    in.ingress_ifindex = ifindex;
    auto out = dp_->testRun(in);
    EXPECT_TRUE(out.ok() && out->verdict == static_cast<uint32_t>(TC_ACT_REDIRECT));
    return out.ok() ? parsePacket(out->packet).dmac.substr(5) : std::string();
  };
  flb_ct_key k{};
  k.saddr = htonl(kClient), k.daddr = htonl(kVip), k.sport = htons(kCport), k.dport = htons(kVport);
  k.proto = IPPROTO_TCP;

  EXPECT_EQ(send(0x02), "\x0b");
  auto v = dp_->maps().ct.lookup(k);
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->fib.kind, FLB_FIB_REDIRECT);
  EXPECT_EQ((*v)->fib.oif, ifindex);
  EXPECT_EQ((*v)->fib.iif, ifindex);

  // The neighbour's MAC changes: the flow keeps its cached decision ...
  ASSERT_EQ(setMac("02:00:00:00:00:0c"), 0);
  EXPECT_EQ(send(0x10), "\x0b");
  // ... until the control plane says routes/neighbours changed ...
  ASSERT_TRUE(dp_->invalidateFibCache().ok());
  EXPECT_EQ(send(0x10), "\x0c");
  // ... or the decision is older than FLB_FIB_REVALIDATE_NS.
  ASSERT_EQ(setMac("02:00:00:00:00:0d"), 0);
  EXPECT_EQ(send(0x10), "\x0c");
  v = dp_->maps().ct.lookup(k);
  ASSERT_TRUE(v.ok() && v->has_value());
  flb_ct_value aged = **v;
  aged.fib.checked_ns -= FLB_FIB_REVALIDATE_NS + 1;
  ASSERT_TRUE(dp_->maps().ct.update(k, aged).ok());
  EXPECT_EQ(send(0x10), "\x0d");
  EXPECT_EQ(stat(FLB_STAT_FIB_REDIRECT), 5u);
}

}  // namespace
}  // namespace floatlb::testing
