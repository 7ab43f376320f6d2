// Integration test: the real Ec2Client (libcurl, SigV4) against moto_server on 127.0.0.1. Builds a
// two-AZ VPC with two instances, then runs the product's takeover (TakeoverExecutor) on node A and
// fails over to node B.
// moto is lenient, so this checks protocol and response shapes, not AWS semantics. Exits 77 (SKIP)
// when moto_server is not installed. Never talks to real AWS.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include "cloud/aws/ec2_client.h"
#include "cloud/takeover/exec.h"
#include "common/strings.h"

namespace floatlb::cloud::aws {
namespace {

using namespace std::chrono_literals;

// moto_server: $FLOATLB_MOTO_SERVER, else PATH, else where pyenv installs it (the suite's CI image
// has moto in pyenv's Python, whose shims are not on ctest's PATH): the shims directory and each
// version's bin/ under $PYENV_ROOT, ~/.pyenv and /root/.pyenv. Empty when none is executable.
std::string findMotoServer() {
  if (const char* e = std::getenv("FLOATLB_MOTO_SERVER"); e != nullptr && *e != '\0') return e;
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs = splitList(path != nullptr ? path : "", ':');
  std::vector<std::string> roots;
  if (const char* r = std::getenv("PYENV_ROOT"); r != nullptr && *r != '\0') roots.emplace_back(r);
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    roots.push_back(std::string(h) + "/.pyenv");
  roots.emplace_back("/root/.pyenv");
  for (const auto& root : roots) {
    dirs.push_back(root + "/shims");
    std::error_code ec;
    std::vector<std::string> versions;
    for (const auto& v : std::filesystem::directory_iterator(root + "/versions", ec)) {
      versions.push_back(v.path().string() + "/bin");
    }
    std::sort(versions.rbegin(), versions.rend());
    dirs.insert(dirs.end(), versions.begin(), versions.end());
  }
  for (const auto& d : dirs) {
    std::string cand = d + "/moto_server";
    if (::access(cand.c_str(), X_OK) == 0) return cand;
  }
  return "";
}

int freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// moto_server as a child in its own process group; killed (by that group id) in the destructor.
class MotoServer {
 public:
  MotoServer(const std::string& exe, int port) : port_(port) {
    log_ = (std::filesystem::temp_directory_path() / ("flb-moto-" + std::to_string(port) + ".log")).string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      FILE* f = std::freopen(log_.c_str(), "w", stdout);
      (void)f;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      std::string ports = std::to_string(port);
      ::execl(exe.c_str(), exe.c_str(), "-H", "127.0.0.1", "-p", ports.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    if (pid_ > 0) ::setpgid(pid_, pid_);
  }
  ~MotoServer() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {  // up to 5 s for a clean exit
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(100ms);
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  [[nodiscard]] bool alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  [[nodiscard]] std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const std::string& log() const { return log_; }

 private:
  pid_t pid_ = -1;
  int port_;
  std::string log_;
};

MotoServer* g_moto = nullptr;

// Wraps the real transport and keeps every request body (to check what went on the wire where
// moto ignores a parameter).
class RecordingTransport final : public HttpTransport {
 public:
  explicit RecordingTransport(std::unique_ptr<HttpTransport> inner) : inner_(std::move(inner)) {}
  // The executor issues its observation reads concurrently: the log is guarded.
  Result<HttpResponse> send(const HttpRequest& r) override {
    {
      std::lock_guard l(mu_);
      bodies_.push_back(r.body);
    }
    return inner_->send(r);
  }
  bool sent(const std::string& action, const std::string& fragment) const {
    std::lock_guard l(mu_);
    for (const auto& b : bodies_) {
      if (b.rfind("Action=" + action + "&", 0) == 0 && b.find(fragment) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::unique_ptr<HttpTransport> inner_;

 public:
  // A copy of every body sent so far.
  std::vector<std::string> bodies() const {
    std::lock_guard l(mu_);
    return bodies_;
  }
};

class MotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(g_moto, nullptr);
    Ec2ClientOptions o{g_moto->endpoint(), "ap-northeast-3", {}, true};
    o.retry.maxAttempts = 3;
    o.retry.callTimeout = 20s;
    http_ = std::make_unique<RecordingTransport>(makeCurlTransport());
    client_ = std::make_unique<Ec2Client>(o, Ec2ClientDeps{*http_, creds_, clock_, sleeper_, rnd_});
  }
  Ec2Client& ec2() { return *client_; }

  SteadyClock clock_;
  RealSleeper sleeper_;
  Mt19937Random rnd_;
  StaticCredentialsProvider creds_{
      Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok", 0}};
  std::unique_ptr<RecordingTransport> http_;
  std::unique_ptr<Ec2Client> client_;
};

// Binds the value of an AwsResult or fails the test (no exceptions).
#define MUST(lhs, expr)                                                                       \
  auto FLB_CONCAT(must_, __LINE__) = (expr);                                                  \
  ASSERT_TRUE(FLB_CONCAT(must_, __LINE__).ok()) << FLB_CONCAT(must_, __LINE__).error().str(); \
  lhs = std::move(FLB_CONCAT(must_, __LINE__)).value()

TEST_F(MotoTest, ErrorShapesCarryAwsCodes) {
  auto a = ec2().deleteSubnet("subnet-0000000000000dead");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "InvalidSubnetID.NotFound");
  EXPECT_EQ(a.error().httpStatus, 400);
  EXPECT_EQ(a.error().kind, ErrorCode::kNotFound);
  auto b = ec2().deleteNetworkInterface("eni-0000000000000dead");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, "InvalidNetworkInterfaceID.NotFound");
  EXPECT_EQ(ec2().stats().retries, 0u);  // 4xx are never retried
}

TEST_F(MotoTest, TakeoverThenFailoverToOtherAz) {
  // --- test bed: VPC with IGW, one subnet + instance per AZ, one Elastic IP ---
  MUST(Vpc vpc, ec2().createVpc("10.0.0.0/16", {{"vpc", {{"Name", "flb-moto"}}}}));
  MUST(InternetGateway igw, ec2().createInternetGateway({}));
  ASSERT_TRUE(ec2().attachInternetGateway(igw.internetGatewayId, vpc.vpcId).ok());
  MUST(Subnet sa, ec2().createSubnet({vpc.vpcId, "10.0.1.0/24", "ap-northeast-3a", {}}));
  MUST(Subnet sb, ec2().createSubnet({vpc.vpcId, "10.0.2.0/24", "ap-northeast-3b", {}}));
  RunInstancesRequest run;
  run.imageId = "ami-12c6146b";
  run.subnetId = sa.subnetId;
  run.tagSpecifications = {{"instance", {{"Name", "llbA"}}}};
  std::vector<Instance> a_all;
  MUST(a_all, ec2().runInstances(run));
  ASSERT_FALSE(a_all.empty());
  Instance a = a_all.front();
  run.subnetId = sb.subnetId;
  run.tagSpecifications = {{"instance", {{"Name", "llbB"}}}};
  std::vector<Instance> b_all;
  MUST(b_all, ec2().runInstances(run));
  ASSERT_FALSE(b_all.empty());
  Instance b = b_all.front();
  EXPECT_EQ(a.availabilityZone, "ap-northeast-3a");
  EXPECT_EQ(b.availabilityZone, "ap-northeast-3b");
  MUST(auto described, ec2().describeInstances({}, {a.instanceId}));
  ASSERT_EQ(described.size(), 1u);
  EXPECT_EQ(described[0].subnetId, sa.subnetId);
  MUST(Address eip, ec2().allocateAddress({{"elastic-ip", {{"Name", "lb-vip"}}}}));
  ASSERT_FALSE(eip.publicIp.empty());
  // Security groups of the primary ENI (what IMDS security-group-ids would say).
  MUST(auto primary, ec2().describeNetworkInterfaces({{"attachment.instance-id", {a.instanceId}}}));
  ASSERT_FALSE(primary.empty());

  // The product's takeover (TakeoverExecutor) over the real client; moto answers waiters at once.
  takeover::TakeoverGoal g;
  g.vpcId = vpc.vpcId;
  g.cidrBlock = Cidr::parse("124.124.124.0/24").value();
  g.securityGroupIds = primary[0].groupIds;
  g.vips = {{Ip4::parse("124.124.124.250").value(), eip.publicIp}};
  g.tags.instance = "0";
  takeover::ExecOptions xo;
  xo.stepTimeout = 30s;
  xo.pollInitial = 50ms;
  xo.pollMax = 500ms;
  xo.maxCycles = 4;
  takeover::TakeoverExecutor exec(ec2(), clock_, sleeper_, xo);
  // moto binds an EIP to the ENI's primary IP whatever PrivateIpAddress says (the wire is checked
  // below), so the executor's verification never sees (ENI, VIP) and re-associates until maxCycles.
  // Accept exactly that: the run converges, or the only step left is AssociateAddress.
  auto run_on_moto = [&](takeover::TakeoverExecutor& ex, takeover::TakeoverTimeline& tl)
      -> Result<takeover::TakeoverContext> {
    auto r = ex.run(g, tl, [] { return true; });
    if (r.ok()) return r->context;
    // Run what is left but the AssociateAddress moto cannot represent (the deferred steps wait for
    // it otherwise), then nothing else may remain.
    auto left = ex.plan(g, tl);
    if (!left.ok()) return left.error();
    takeover::TakeoverPlan others = *left;
    std::erase_if(others.steps, [](const auto& st) { return st.kind == takeover::StepKind::kAssociateAddress; });
    takeover::TakeoverContext ctx = others.context;
    if (auto st = ex.execute(others, g, ctx, tl, {}); !st.ok()) return st.error();
    auto rest = ex.plan(g, tl);
    if (!rest.ok()) return rest.error();
    for (const auto& st : rest->steps) {
      if (st.kind != takeover::StepKind::kAssociateAddress) {
        return makeError(ErrorCode::kInternal, r.error().message + "; left: " + takeover::describeStep(st));
      }
    }
    return rest->context;
  };
  const Filters eni_tag = {{"tag:loxiType", {g.tags.eni()}}};
  auto mutations_sent = [&] {
    size_t n = 0;
    for (const auto& b : http_->bodies()) n += b.rfind("Action=Describe", 0) != 0;
    return n;
  };

  // --- dry run on A: only Describe calls, a plan, nothing created ---
  g.instanceId = a.instanceId;
  g.availabilityZone = "ap-northeast-3a";
  const size_t before_dry = mutations_sent();
  auto dry_tl = exec.startTimeline("dry run");
  auto dry = exec.plan(g, dry_tl);
  ASSERT_TRUE(dry.ok()) << dry.error().message;
  EXPECT_EQ(mutations_sent(), before_dry);
  for (const auto& c : dry_tl.calls) EXPECT_TRUE(takeover::isDescribe(c.action)) << c.action;
  bool plans_subnet = false;
  for (const auto& st : dry->steps) plans_subnet |= st.kind == takeover::StepKind::kCreateSubnet;
  EXPECT_TRUE(plans_subnet);
  MUST(auto none, ec2().describeSubnets({{"tag:loxiType", {g.tags.subnet()}}}));
  EXPECT_TRUE(none.empty());

  // --- node A becomes MASTER ---
  auto tla = exec.startTimeline("MASTER A");
  auto ta = run_on_moto(exec, tla);
  ASSERT_TRUE(ta.ok()) << ta.error().message << "\n" << tla.json();
  MUST(auto enis, ec2().describeNetworkInterfaces(eni_tag));
  ASSERT_EQ(enis.size(), 1u);
  const NetworkInterface& ea = enis[0];
  EXPECT_EQ(ea.networkInterfaceId, ta->eniId);
  EXPECT_EQ(ea.subnetId, ta->subnetId);
  EXPECT_EQ(ea.availabilityZone, "ap-northeast-3a");
  EXPECT_FALSE(ea.sourceDestCheck);
  ASSERT_TRUE(ea.attachment.has_value());
  EXPECT_EQ(ea.attachment->instanceId, a.instanceId);
  EXPECT_EQ(ea.attachment->deviceIndex, 1);
  EXPECT_NE(std::find(ea.privateIpAddresses.begin(), ea.privateIpAddresses.end(), "124.124.124.250"),
            ea.privateIpAddresses.end());
  EXPECT_EQ(ea.groupIds, g.securityGroupIds);
  MUST(auto vpcs, ec2().describeVpcs({{"cidr-block-association.cidr-block", {"124.124.124.0/24"}}}));
  ASSERT_EQ(vpcs.size(), 1u);
  EXPECT_EQ(vpcs[0].vpcId, vpc.vpcId);
  MUST(auto rts, ec2().describeRouteTables({{"tag:loxiType", {g.tags.routeTable()}}}));
  ASSERT_EQ(rts.size(), 1u);
  ASSERT_EQ(rts[0].associations.size(), 1u);
  EXPECT_EQ(rts[0].associations[0].subnetId, ta->subnetId);
  bool default_route = false;
  for (const auto& r : rts[0].routes)
    default_route |= r.destinationCidrBlock == "0.0.0.0/0" && r.gatewayId == igw.internetGatewayId;
  EXPECT_TRUE(default_route);
  MUST(auto addr, ec2().describeAddresses({{"public-ip", {eip.publicIp}}}, {}));
  ASSERT_EQ(addr.size(), 1u);
  EXPECT_EQ(addr[0].networkInterfaceId, ta->eniId);
  EXPECT_FALSE(addr[0].associationId.empty());
  // moto binds the EIP to the ENI's primary IP and ignores PrivateIpAddress; check the wire instead.
  EXPECT_TRUE(
      http_->sent("AssociateAddress", "&NetworkInterfaceId=" + ta->eniId +
                                          "&PrivateIpAddress=124.124.124.250&AllowReassociation=true"));

  // --- failover: node B (other AZ) takes over, deleting A's ENI and subnet ---
  g.instanceId = b.instanceId;
  g.availabilityZone = "ap-northeast-3b";
  takeover::TakeoverExecutor exec_b(ec2(), clock_, sleeper_, xo);
  auto tlb = exec_b.startTimeline("MASTER B");
  auto tb = run_on_moto(exec_b, tlb);
  ASSERT_TRUE(tb.ok()) << tb.error().message << "\n" << tlb.json();
  int detaches = 0;
  for (const auto& c : tlb.calls) detaches += c.action == "DetachNetworkInterface" && c.ok;
  EXPECT_EQ(detaches, 1);
  MUST(enis, ec2().describeNetworkInterfaces(eni_tag));
  ASSERT_EQ(enis.size(), 1u);
  EXPECT_EQ(enis[0].networkInterfaceId, tb->eniId);
  EXPECT_NE(tb->eniId, ta->eniId);
  EXPECT_EQ(enis[0].availabilityZone, "ap-northeast-3b");
  ASSERT_TRUE(enis[0].attachment.has_value());
  EXPECT_EQ(enis[0].attachment->instanceId, b.instanceId);
  auto old_eni = ec2().describeNetworkInterfaces({{"network-interface-id", {ta->eniId}}});
  ASSERT_TRUE(old_eni.ok());
  EXPECT_TRUE(old_eni->empty());
  MUST(auto subnets, ec2().describeSubnets({{"tag:loxiType", {g.tags.subnet()}}}));
  ASSERT_EQ(subnets.size(), 1u);
  EXPECT_EQ(subnets[0].subnetId, tb->subnetId);
  EXPECT_EQ(subnets[0].availabilityZone, "ap-northeast-3b");
  MUST(rts, ec2().describeRouteTables({{"tag:loxiType", {g.tags.routeTable()}}}));
  ASSERT_EQ(rts.size(), 1u);
  EXPECT_EQ(rts[0].routeTableId, tb->routeTableId);
  MUST(addr, ec2().describeAddresses({}, {eip.publicIp}));
  ASSERT_EQ(addr.size(), 1u);
  EXPECT_EQ(addr[0].networkInterfaceId, tb->eniId);
  EXPECT_TRUE(
      http_->sent("AssociateAddress", "&NetworkInterfaceId=" + tb->eniId +
                                          "&PrivateIpAddress=124.124.124.250&AllowReassociation=true"));
  EXPECT_TRUE(http_->sent("DetachNetworkInterface", "&Force=true"));
  EXPECT_TRUE(http_->sent("CreateNetworkInterface", "PrivateIpAddresses.1.PrivateIpAddress=124.124.124.250"));
  EXPECT_TRUE(http_->sent("AttachNetworkInterface", "&DeviceIndex=1"));

  // --- per-VIP teardown calls ---
  EXPECT_TRUE(ec2().disassociateAddress(addr[0].associationId).ok());
  EXPECT_TRUE(ec2().unassignPrivateIpAddresses(tb->eniId, {"124.124.124.250"}).ok());
  EXPECT_TRUE(ec2().createTags({tb->eniId}, {{"owner", "llbB"}}).ok());
  MUST(enis, ec2().describeNetworkInterfaces({{"tag:owner", {"llbB"}}}));
  ASSERT_EQ(enis.size(), 1u);
  EXPECT_EQ(
      std::find(enis[0].privateIpAddresses.begin(), enis[0].privateIpAddresses.end(), "124.124.124.250"),
      enis[0].privateIpAddresses.end());
  EXPECT_EQ(ec2().stats().retries, 0u);
}

}  // namespace
}  // namespace floatlb::cloud::aws

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string exe = floatlb::cloud::aws::findMotoServer();
  if (exe.empty()) {
    // As root (the suite's CI) a missing moto_server fails: the suite must not pass by skipping.
    std::printf("%s: moto_server not found in PATH or pyenv (set FLOATLB_MOTO_SERVER)\n",
                geteuid() == 0 ? "FAIL" : "SKIP");
    return geteuid() == 0 ? 1 : 77;
  }
  std::printf("moto_server: %s\n", exe.c_str());
  std::fflush(stdout);  // before the fork: the child's freopen would flush it a second time
  int port = floatlb::cloud::aws::freeLoopbackPort();
  if (port <= 0) {
    std::printf("SKIP: cannot bind a loopback port\n");
    return 77;
  }
  auto moto = std::make_unique<floatlb::cloud::aws::MotoServer>(exe, port);
  // Wait (bounded) until moto answers an EC2 call.
  floatlb::SteadyClock clock;
  floatlb::cloud::aws::RealSleeper sleeper;
  floatlb::cloud::aws::Mt19937Random rnd;
  floatlb::cloud::aws::StaticCredentialsProvider creds{{"AKID", "SECRET", "", 0}};
  auto http = floatlb::cloud::aws::makeCurlTransport();
  floatlb::cloud::aws::Ec2ClientOptions o{moto->endpoint(), "ap-northeast-3", {}, false};
  o.retry.maxAttempts = 1;
  o.retry.callTimeout = std::chrono::seconds(5);
  floatlb::cloud::aws::Ec2Client probe(o, {*http, creds, clock, sleeper, rnd});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  bool up = false;
  while (std::chrono::steady_clock::now() < deadline && moto->alive()) {
    if (probe.describeVpcs({}).ok()) {
      up = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // poll interval, not a wait stand-in
  }
  if (!up) {
    std::printf("moto_server did not come up on %s (log: %s)\n", moto->endpoint().c_str(),
                moto->log().c_str());
    return 1;
  }
  floatlb::cloud::aws::g_moto = moto.get();
  int rc = RUN_ALL_TESTS();
  floatlb::cloud::aws::g_moto = nullptr;
  const std::string log = moto->log();
  moto.reset();
  if (rc == 0) std::filesystem::remove(log);  // keep moto's log only when something failed
  return rc;
}
