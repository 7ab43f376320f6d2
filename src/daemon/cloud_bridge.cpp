#include "daemon/cloud_bridge.h"

#include <charconv>

#include "cloud/aws/bootstrap.h"
#include "cloud/hook/cloud_hook.h"
#include "cloud/takeover/identity.h"
#include "common/log.h"
#include "common/strings.h"

namespace floatlb::daemon {

namespace {

namespace aws = cloud::aws;
namespace takeover = cloud::takeover;

// The HA epoch in a transition reason ("epoch 3: peer silent for 300 ms"); 0 if none.
uint64_t epochOf(const std::string& reason) {
  const size_t at = reason.find("epoch ");
  uint64_t v = 0;
  if (at != std::string::npos) std::from_chars(reason.data() + at + 6, reason.data() + reason.size(), v);
  return v;
}

class AwsCloudBridge final : public CloudBridge {
 public:
  AwsCloudBridge(ha::CiStateTable& cistate, lb::RuleManager& rules, const Clock& clock)
      : cistate_(cistate), rules_(rules), clock_(clock) {}

  ~AwsCloudBridge() override {
    if (hook_) hook_->stop();
  }

  Status init(const Options& o) {
    std::optional<Cidr> block;
    if (!o.cloud_cidr_block.empty()) {
      auto c = Cidr::parse(o.cloud_cidr_block);
      if (!c) return c.error().wrap("--cloudcidrblock");
      block = *c;
    }
    FLB_ASSIGN_OR_RETURN(stack_, aws::makeAwsStack(aws::processEnv(), {}, clock_));
    takeover::TakeoverGoal goal;
    FLB_TRY(takeover::fillIdentityFromImds(*stack_->imds, goal));
    goal.cidrBlock = block;
    goal.tags.instance = o.cloud_instance;
    cloud::CloudHookConfig hc;
    hc.goal = goal;
    const bool routed = o.cloud_mode == "routed";
    if (routed) {
      if (!block) return makeError(ErrorCode::kInvalidArgument, "--cloudmode=routed needs --cloudcidrblock");
      // Nothing moves onto this instance: the VIPs stay local, the routes come to my primary ENI.
      takeover::RoutedGoal rg;
      rg.cidrBlock = *block;
      rg.tags.instance = o.cloud_instance;
      FLB_TRY(takeover::fillRoutedIdentity(*stack_->imds, rg));
      if (o.cluster != "none") {
        for (const auto& peer : splitList(o.cluster)) rg.peerIps.push_back(peer.substr(0, peer.find(':')));
      }
      hc.routed = rg;
    } else if (block) {
      os_ = cloud::makeNetlinkConfigurator();
    }
    const bool multi_az = block.has_value();
    hook_ = std::make_unique<cloud::CloudHook>(
        hc, *stack_->ec2, clock_, stack_->sleeper, os_.get(), [this, multi_az] { return vips(multi_az); },
        [this](const std::string& why, bool peer_holds) {
          if (step_down_) step_down_(why, peer_holds);
        });
    step_down_ = [this](const std::string& why, bool) {
      FLB_ERROR("cloud", "stepping down: {}", why);
      (void)cistate_.set(lb::kDefaultHaInstance, ha::CiState::kBackup, Ip4());
    };
    FLB_INFO("cloud", "aws: instance {} in {} ({}), {} mode{}, endpoint {}", goal.instanceId,
             goal.availabilityZone, goal.vpcId,
             routed     ? "routed multi-AZ"
             : multi_az ? "multi-AZ"
                        : "single-AZ",
             multi_az ? " for " + block->str() : "", stack_->config.endpoint);
    return okStatus();
  }

  Status start() override {
    if (auto st = hook_->prepare(); !st.ok()) {
      // Not fatal: the takeover observes everything again if the cache is cold.
      FLB_WARN("cloud", "prepare (describe VPC, IGW, route tables) failed: {}", st.error().message);
    }
    cistate_.addObserver([this](const ha::CiInstance& ci, ha::CiState) {
      if (ci.name != lb::kDefaultHaInstance) return;
      if (ci.state == ha::CiState::kMaster) {
        hook_->onMaster(ci.reason.empty() ? "MASTER" : "MASTER (" + ci.reason + ")", epochOf(ci.reason));
      } else {
        hook_->onBackup();
      }
    });
    if (cistate_.state(lb::kDefaultHaInstance) == ha::CiState::kMaster) hook_->onMaster("MASTER at start");
    return okStatus();
  }

  void setStepDown(std::function<void(const std::string&, bool)> fn) override { step_down_ = std::move(fn); }
  void setLinkReady(std::function<Status(const std::string&)> fn) override {
    hook_->setLinkReady(std::move(fn));
  }

  void stop(bool last_node) override {
    if (!hook_) return;
    if (last_node) {
      if (auto st = hook_->shutdownLastNode(); !st.ok()) {
        FLB_WARN("cloud", "last-node cleanup: {}", st.error().message);
      }
    } else {
      hook_->onBackup();
    }
    hook_->stop();
  }

  std::string timelineJson() const override { return hook_ ? hook_->timelineJson() : "{}"; }
  void appendMetrics(MetricsWriter& w) const override {
    if (hook_) hook_->appendMetrics(w);
  }

 private:
  std::vector<takeover::VipEip> vips(bool multi_az) {
    std::vector<takeover::VipEip> out;
    for (const auto& r : rules_.list()) {
      if (r.spec.haInstance() != lb::kDefaultHaInstance) continue;
      if (r.spec.private_ip) {
        out.push_back({*r.spec.private_ip, r.spec.key.external_ip.str()});
      } else if (!multi_az) {
        out.push_back({r.spec.key.external_ip, ""});  // single-AZ: the rule's VIP is a secondary IP
      }
    }
    return out;
  }

  ha::CiStateTable& cistate_;
  lb::RuleManager& rules_;
  const Clock& clock_;
  std::unique_ptr<aws::AwsStack> stack_;
  std::unique_ptr<cloud::InterfaceConfigurator> os_;
  std::function<void(const std::string&, bool)> step_down_;
  std::unique_ptr<cloud::CloudHook> hook_;
};

}  // namespace

Result<std::unique_ptr<CloudBridge>> makeCloudBridge(const Options& options, ha::CiStateTable& cistate,
                                                     lb::RuleManager& rules, const Clock& clock) {
  if (options.cloud == "on-prem" || options.cloud.empty()) return std::unique_ptr<CloudBridge>();
  if (options.cloud != "aws") {
    return makeError(ErrorCode::kInvalidArgument,
                     "--cloud: '" + options.cloud + "' is not supported (aws, on-prem)");
  }
  auto bridge = std::make_unique<AwsCloudBridge>(cistate, rules, clock);
  if (auto st = bridge->init(options); !st.ok()) return st.error().wrap("--cloud=aws");
  return std::unique_ptr<CloudBridge>(std::move(bridge));
}

}  // namespace floatlb::daemon
