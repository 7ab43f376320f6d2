// The realiser turns model events into Linux network namespaces (root only):
//   <prefix>vpc   the VPC router + IGW: one bridge per subnet (gateway .1), ENI veth ends enslaved,
//                 permanent neighbour entries IP -> owning ENI MAC, nftables 1:1 NAT for EIPs,
//                 169.254.169.254 on lo (IMDS + EC2 endpoint for instances), igw0 to the internet.
//   <prefix>inet  the internet client (198.18.0.0/15 address plan).
//   <prefix><instance name>  one per instance; ENIs appear as eth<device index> with the ENI MAC.
// It never touches the root namespace: every command names its namespace (`ip -n`, `ip netns exec`).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/net.h"
#include "common/result.h"
#include "sim/model.h"
#include "sim/routing.h"

namespace floatlb::sim {

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv (argv[0] looked up in PATH); non-zero exit -> Error with the command's output.
  virtual Status run(const std::vector<std::string>& argv, const std::string& stdin_data = "") = 0;
};

// posix_spawn-based runner with a bounded wait (kills the child after `timeout_ms`).
class ProcessRunner final : public CommandRunner {
 public:
  explicit ProcessRunner(int timeout_ms = 10000) : timeout_ms_(timeout_ms) {}
  Status run(const std::vector<std::string>& argv, const std::string& stdin_data = "") override;

 private:
  int timeout_ms_;
};

struct RealiserConfig {
  std::string prefix;  // e.g. "flb1234-"
  Cidr inet_link = Cidr(Ip4::fromOctets(198, 18, 0, 0), 24);
  Ip4 igw_ip = Ip4::fromOctets(198, 18, 0, 1);     // vpc side of the internet link
  Ip4 client_ip = Ip4::fromOctets(198, 18, 0, 2);  // the internet client
  Ip4 metadata_ip = Ip4::fromOctets(169, 254, 169, 254);
};

class Realiser {
 public:
  Realiser(CommandRunner& runner, RealiserConfig config) : run_(runner), cfg_(std::move(config)) {}

  [[nodiscard]] std::string vpcNs() const { return cfg_.prefix + "vpc"; }
  [[nodiscard]] std::string inetNs() const { return cfg_.prefix + "inet"; }
  [[nodiscard]] std::string instanceNs(const std::string& instance_name) const {
    return cfg_.prefix + instance_name;
  }
  [[nodiscard]] const RealiserConfig& config() const { return cfg_; }

  // Creates the vpc and inet namespaces, the internet link, IMDS address, forwarding, NAT table.
  Status setupBase();
  // Applies one model event; errors are returned (the model state stays authoritative).
  Status apply(const RealiseEvent& e);
  // Deletes every namespace whose name starts with the prefix (also after a crash).
  static Status teardownPrefix(CommandRunner& runner, const std::string& prefix);

  // Realises a routing plan (routing.h): the per-subnet and gateway policy routing through one
  // `ip -batch`, only what changed since the last call, and the source/dest-check bridge table.
  Status applyRouting(const RoutingPlan& plan);

  [[nodiscard]] const std::map<std::string, std::string>& natMap() const { return eip_to_private_; }

 private:
  Status ip(const std::string& ns, std::vector<std::string> args);
  Status syncNat();
  // Drops the vpc namespace's conntrack entries of an Elastic IP (both directions), so a re-mapped
  // EIP's existing flows are not NATed to the old private address (AWS's mapping is stateless).
  void flushEipConntrack(const std::string& public_ip);

  CommandRunner& run_;
  RealiserConfig cfg_;
  std::map<std::string, std::string> eip_to_private_;
  std::map<int, std::string> bridge_of_subnet_seq_;
  KernelRouting routing_;
  std::string sdc_rules_;
};

}  // namespace floatlb::sim
