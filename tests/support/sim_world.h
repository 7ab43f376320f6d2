// Test world for the takeover planner/executor and the cloud hook (tests/unit/cloud/...): vpcsim's pure
// Ec2Model behind an in-process HttpTransport, driven through the real Ec2Client (query encoding, XML
// parsing, retries, token buckets), with a FakeClock that the model's latency and the client's sleeps
// advance.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cloud/aws/credentials.h"
#include "cloud/aws/ec2_client.h"
#include "cloud/takeover/plan.h"
#include "sim/model.h"
#include "sim/topology.h"
#include "support/iam_policy_check.h"

namespace floatlb::cloud::aws::testing {

class ClockSleeper final : public Sleeper {
 public:
  explicit ClockSleeper(FakeClock& clock) : clock_(clock) {}
  void sleepFor(Duration d) override {
    ++sleeps;
    clock_.advance(d);
  }
  int sleeps = 0;

 private:
  FakeClock& clock_;
};

class HalfRandom final : public RandomSource {
 public:
  double uniform01() override { return 0.5; }
};

// HttpTransport -> Ec2Model::handle. `before` runs ahead of every call (fault scripting, an
// interfering peer); the model's per-call latency advances the clock when `apply_latency`.
class ModelTransport final : public HttpTransport {
 public:
  using Hook = std::function<void(const std::string& action, const sim::Params& params)>;
  ModelTransport(sim::Ec2Model& model, FakeClock& clock) : model_(model), clock_(clock) {}
  // One request as the transport saw it (independent of what the code under test reports).
  struct Request {
    std::string action;
    std::thread::id thread;  // the issuing thread
    bool ok = false;         // 2xx
    TimePoint done;          // fake clock when the answer was returned
  };

  Result<HttpResponse> send(const HttpRequest& req) override {
    std::lock_guard l(mu_);
    sim::Params params = sim::Params::parseForm(req.body);
    const std::string action = params.getOr("Action", "");
    cloud::testing::recordEc2Action(policy, action);
    if (before) before(action, params);
    auto r = model_.handle(action, params, "req-" + std::to_string(++n_));
    if (apply_latency) clock_.advance(std::chrono::milliseconds(r.latency_ms));
    ++calls[action];
    log.push_back({action, std::this_thread::get_id(), r.http_status / 100 == 2, clock_.now()});
    if (lose_answer && lose_answer(action)) {
      // The call took effect, but its answer never reached the client (a reset connection).
      return makeError(ErrorCode::kUnavailable, "connection reset by peer (test)");
    }
    return HttpResponse{r.http_status, {{"Content-Type", "text/xml"}}, r.body};
  }
  // Runs `fn` on the model while no call is in flight (tests poking the model from their thread).
  void withModel(const std::function<void(sim::Ec2Model&)>& fn) {
    std::lock_guard l(mu_);
    fn(model_);
  }
  // Copies of the counters, taken while no call is in flight.
  std::vector<Request> requests() {
    std::lock_guard l(mu_);
    return log;
  }
  int totalCalls() {
    std::lock_guard l(mu_);
    int n = 0;
    for (const auto& [a, c] : calls) n += c;
    return n;
  }
  Hook before;
  // Returns true for a call whose effect happens but whose answer is lost.
  std::function<bool(const std::string& action)> lose_answer;
  bool apply_latency = true;
  std::string policy = cloud::testing::kSubnetModePolicy;  // the IAM policy every action must be allowed by
  std::map<std::string, int> calls;
  std::vector<Request> log;

 private:
  std::mutex mu_;
  sim::Ec2Model& model_;
  FakeClock& clock_;
  int n_ = 0;
};

inline constexpr const char* kBlock = "192.168.248.0/24";
inline constexpr const char* kVip = "192.168.248.254";

// The seed topology: lb1 in AZ-a, lb2 in AZ-b, one EIP. `routed`: the routed seed
// (topologies/seed-routed.json): also a subnet in AZ-c hosting no LB, public IPs on lb1/lb2, and
// the routed IAM policy.
class SimWorld {
 public:
  explicit SimWorld(Duration detach = std::chrono::seconds(2), bool latency = true, bool routed = false) {
    sim::ModelConfig cfg;
    cfg.detach_time = detach;
    cfg.cidr_assoc_time = std::chrono::seconds(1);
    model = std::make_unique<sim::Ec2Model>(clock, cfg);
    if (!latency) model->latency().setZero();
    sim::Topology t;
    t.vpc_cidr = "192.168.0.0/16";
    t.subnets = {{"a", "192.168.218.0/24", "ap-northeast-3a"}, {"b", "192.168.228.0/24", "ap-northeast-3b"}};
    t.instances = {{"lb1", "a", "192.168.218.60"}, {"lb2", "b", "192.168.228.108"}};
    if (routed) {
      t.subnets.push_back({"c", "192.168.238.0/24", "ap-northeast-3c"});
      for (auto& i : t.instances) i.public_ip = true;
    }
    t.eips = {"eip"};
    auto loaded = sim::loadTopology(*model, t);
    EXPECT_TRUE(loaded.ok());
    topo = loaded.value();
    transport = std::make_unique<ModelTransport>(*model, clock);
    transport->apply_latency = latency;
    if (routed) transport->policy = cloud::testing::kRoutedModePolicy;
    Ec2ClientOptions o{"http://vpcsim.test", "ap-northeast-3", {}, true};
    client = std::make_unique<Ec2Client>(o, Ec2ClientDeps{*transport, creds, clock, sleeper, rnd});
  }

  std::string eip() const { return model->address(topo.eips.at("eip"))->public_ip.str(); }
  std::string id(const std::string& name) const { return topo.instances.at(name); }

  takeover::TakeoverGoal goal(const std::string& name, bool multi_az = true) const {
    const sim::Instance* inst = model->instance(id(name));
    takeover::TakeoverGoal g;
    g.instanceId = inst->id;
    g.availabilityZone = inst->az;
    g.vpcId = inst->vpc_id;
    g.securityGroupIds = model->eni(inst->primary_eni)->groups;
    if (multi_az) g.cidrBlock = Cidr::parse(kBlock).value();
    g.vips = {{Ip4::parse(kVip).value(), eip()}};
    return g;
  }

  // Tagged ENIs / subnets as EC2 reports them.
  std::vector<NetworkInterface> taggedEnis() {
    auto r = client->describeNetworkInterfaces({{"tag:loxiType", {"loxilb-eni"}}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : std::vector<NetworkInterface>{};
  }
  std::vector<Subnet> taggedSubnets() {
    auto r = client->describeSubnets({{"tag:loxiType", {"loxilb-subnet"}}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value() : std::vector<Subnet>{};
  }

  // The goal state for `name`, checked against the model; nothing leaked.
  void expectOwnedBy(const std::string& name) {
    const sim::Instance* inst = model->instance(id(name));
    auto enis = taggedEnis();
    ASSERT_EQ(enis.size(), 1u) << "exactly one tagged ENI";
    const auto& e = enis.front();
    ASSERT_TRUE(e.attachment.has_value());
    EXPECT_EQ(e.attachment->instanceId, inst->id);
    EXPECT_EQ(e.attachment->deviceIndex, 1);
    EXPECT_EQ(e.availabilityZone, inst->az);
    EXPECT_FALSE(e.sourceDestCheck);
    EXPECT_NE(std::find(e.privateIpAddresses.begin(), e.privateIpAddresses.end(), kVip),
              e.privateIpAddresses.end());
    auto subnets = taggedSubnets();
    ASSERT_EQ(subnets.size(), 1u) << "exactly one tagged subnet";
    EXPECT_EQ(subnets.front().availabilityZone, inst->az);
    EXPECT_EQ(subnets.front().cidrBlock, kBlock);
    EXPECT_EQ(e.subnetId, subnets.front().subnetId);
    const sim::ElasticIp* a = model->address(topo.eips.at("eip"));
    EXPECT_EQ(a->eni_id, e.networkInterfaceId);
    EXPECT_EQ(a->private_ip.str(), kVip);
    EXPECT_EQ(model->instanceByPrivateIp(Ip4::parse(kVip).value())->id, inst->id);
    auto rts = client->describeRouteTables({{"tag:loxiType", {"loxilb-routetable"}}});
    ASSERT_TRUE(rts.ok());
    ASSERT_EQ(rts->size(), 1u) << "exactly one tagged route table";
    bool assoc = false, deflt = false;
    for (const auto& x : rts->front().associations) assoc |= x.subnetId == e.subnetId;
    for (const auto& r : rts->front().routes) deflt |= r.destinationCidrBlock == "0.0.0.0/0";
    EXPECT_TRUE(assoc) << "route table associated with the VIP subnet";
    EXPECT_TRUE(deflt) << "0.0.0.0/0 route";
  }

  FakeClock clock;
  ClockSleeper sleeper{clock};
  HalfRandom rnd;
  StaticCredentialsProvider creds{Credentials{"AKIDEXAMPLE", "secret", ""}};
  std::unique_ptr<sim::Ec2Model> model;
  sim::LoadedTopology topo;
  std::unique_ptr<ModelTransport> transport;
  std::unique_ptr<Ec2Client> client;
};

}  // namespace floatlb::cloud::aws::testing
