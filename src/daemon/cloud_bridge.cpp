#include "daemon/cloud_bridge.h"

#include "cloud/aws/config.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/ec2_client.h"
#include "cloud/aws/http.h"
#include "cloud/aws/imds.h"
#include "cloud/hook/cloud_hook.h"
#include "common/log.h"

namespace floatlb::daemon {

namespace {

namespace aws = cloud::aws;

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
    auto env = aws::processEnv();
    aws::AwsConfig cfg = aws::loadAwsConfig(env);
    http_ = aws::makeCurlTransport();
    aws::ImdsConfig ic;
    if (!cfg.imdsEndpoint.empty()) ic.endpoint = cfg.imdsEndpoint;
    imds_ = std::make_unique<aws::ImdsClient>(*http_, clock_, ic);
    aws::TakeoverGoal goal;
    FLB_ASSIGN_OR_RETURN(goal.instanceId, imds_->instanceId());
    FLB_ASSIGN_OR_RETURN(goal.availabilityZone, imds_->availabilityZone());
    FLB_ASSIGN_OR_RETURN(std::string mac, imds_->mac());
    FLB_ASSIGN_OR_RETURN(aws::ImdsInterface primary, imds_->interfaceInfo(mac));
    goal.vpcId = primary.vpcId;
    goal.securityGroupIds = primary.securityGroupIds;
    goal.cidrBlock = block;
    goal.tags.instance = o.cloud_instance;
    if (cfg.region.empty()) {
      auto region = imds_->region();
      FLB_TRY(aws::finalizeRegion(cfg, region.ok() ? *region : ""));
    } else {
      FLB_TRY(aws::finalizeRegion(cfg, ""));
    }
    creds_ = aws::makeDefaultCredentialsProvider(env, *imds_, clock_);
    ec2_ = std::make_unique<aws::Ec2Client>(
        aws::Ec2ClientOptions{cfg.endpoint, cfg.region, cfg.retry, cfg.rateLimit},
        aws::Ec2ClientDeps{*http_, *creds_, clock_, sleeper_, random_});
    if (block) os_ = cloud::makeNetlinkConfigurator();
    cloud::CloudHookConfig hc;
    hc.goal = goal;
    const bool multi_az = block.has_value();
    hook_ = std::make_unique<cloud::CloudHook>(
        hc, *ec2_, clock_, sleeper_, os_.get(), [this, multi_az] { return vips(multi_az); },
        [this](const std::string& why) {
          if (step_down_) step_down_(why);
        });
    step_down_ = [this](const std::string& why) {
      FLB_ERROR("cloud", "stepping down: {}", why);
      (void)cistate_.set(lb::kDefaultHaInstance, ha::CiState::kBackup, Ip4());
    };
    FLB_INFO("cloud", "aws: instance {} in {} ({}), {} mode{}, endpoint {}", goal.instanceId,
             goal.availabilityZone, goal.vpcId, multi_az ? "multi-AZ" : "single-AZ",
             multi_az ? " for " + block->str() : "", cfg.endpoint);
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
        hook_->onMaster(ci.reason.empty() ? "MASTER" : "MASTER (" + ci.reason + ")");
      } else {
        hook_->onBackup();
      }
    });
    if (cistate_.state(lb::kDefaultHaInstance) == ha::CiState::kMaster) hook_->onMaster("MASTER at start");
    return okStatus();
  }

  void setStepDown(std::function<void(const std::string&)> fn) override { step_down_ = std::move(fn); }
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
  std::string metricsText() const override { return hook_ ? hook_->metricsText() : ""; }

 private:
  std::vector<aws::VipEip> vips(bool multi_az) {
    std::vector<aws::VipEip> out;
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
  aws::RealSleeper sleeper_;
  aws::Mt19937Random random_;
  std::unique_ptr<aws::HttpTransport> http_;
  std::unique_ptr<aws::ImdsClient> imds_;
  std::unique_ptr<aws::CredentialsProvider> creds_;
  std::unique_ptr<aws::Ec2Client> ec2_;
  std::unique_ptr<cloud::InterfaceConfigurator> os_;
  std::function<void(const std::string&)> step_down_;
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
