// CloudBridge: --cloud=aws wiring between the HA state table, the rule table and the CloudHook.
// It reads the instance identity from IMDS (instance id, AZ, VPC, security groups of the primary
// ENI), builds the EC2 client, prepares (off the critical path) at start, and turns transitions of
// the default HA instance into CloudHook::onMaster()/onBackup(). VIP/EIP pairs come from the rules:
// private_ip (VIP) + external_ip (EIP); a rule without private_ip in single-AZ mode is a VIP alone.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/views.h"
#include "common/clock.h"
#include "common/result.h"
#include "daemon/options.h"
#include "ha/ci_state.h"
#include "lb/rule_manager.h"

namespace floatlb::daemon {

class CloudBridge : public api::CloudView {
 public:
  virtual ~CloudBridge() = default;
  // Registers the state observer and starts the worker. Call once, after the rules are restored.
  virtual Status start() = 0;
  // How the hook steps down when it cannot hold the EIP (default: set BACKUP in the state table;
  // with --ka the daemon should route it to HeartbeatService::adminSet(BACKUP)).
  // `peer_holds`: see cloud::CloudHook::StepDown.
  virtual void setStepDown(std::function<void(const std::string& reason, bool peer_holds)> fn) = 0;
  // Called with the new ENI's interface before it is brought up (attach the datapath there).
  virtual void setLinkReady(std::function<Status(const std::string& ifname)> fn) = 0;
  // On shutdown: `last_node` (MASTER and no live peer) deletes the tagged ENI and subnet.
  virtual void stop(bool last_node) = 0;
  [[nodiscard]] std::string timelineJson() const override = 0;  // GET /config/cloud/timeline
  // floatlb_cloud_* families into /metrics' writer (CloudView::metricsText() stays empty).
  void appendMetrics(MetricsWriter& w) const override = 0;
};

// nullptr (and ok) for --cloud=on-prem; an error for an unknown cloud or a failed IMDS/EC2 setup.
Result<std::unique_ptr<CloudBridge>> makeCloudBridge(const Options& options, ha::CiStateTable& cistate,
                                                     lb::RuleManager& rules, const Clock& clock);

}  // namespace floatlb::daemon
