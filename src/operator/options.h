// kube-floatlb's command line: kube-loxilb's flags accepted verbatim (Go-flag style `--name=value`
// and `-name=value`), floatlb's additions, and a clear refusal of kube-loxilb features floatlb
// does not implement (BGP, appendEPs, sharding, IPv6 pools...). Parsed with CLI11.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/net.h"
#include "common/result.h"

namespace floatlb::kube {

enum class IngressMode { kHostname, kIp, kProxy };

// An IPAM pool: the inclusive address range [first, last] (kube-loxilb.md §5.1).
struct PoolDef {
  std::string name;
  Ip4 first;
  Ip4 last;
  [[nodiscard]] uint64_t size() const { return uint64_t{last.hostOrder()} - first.hostOrder() + 1; }
  [[nodiscard]] bool contains(Ip4 ip) const { return ip >= first && ip <= last; }
};

// "name=CIDR|a-b" (`name=` optional when `default_name` is given).
Result<PoolDef> parsePool(const std::string& text, const std::string& default_name = "");

struct Options {
  std::vector<std::string> loxi_urls;
  std::vector<PoolDef> pools;
  std::optional<Ip4> private_ip;
  std::optional<Ip4> set_roles;  // --setRoles: role election on, value = cistate vip
  int lb_mode = 0;
  std::string zone = "llb";
  bool unique_ip = false;
  bool monitor = false;
  bool use_pod_network = false;
  std::string lb_class = "loxilb.io/loxilb";

  std::string kubeconfig;
  std::string context;
  bool leader_elect = false;
  std::string leader_elect_namespace = "kube-system";
  std::string leader_elect_name = "kube-floatlb";
  IngressMode ingress_mode = IngressMode::kHostname;
  std::string finalizer = "service.kubernetes.io/load-balancer-cleanup";
  Duration resync = std::chrono::seconds(60);
  Duration lb_check = std::chrono::seconds(10);
  Duration probe = std::chrono::seconds(2);
  std::string http_bind = "0.0.0.0:9180";
  // How the instances' REST API is reached (floatlb's --tls-cert and --api-token-file; docs/security.md).
  std::string loxi_cacert;           // PEM CA file verifying https:// instances (empty = system CAs)
  std::string loxi_token_file;       // bearer token file (first non-comment line; re-read on 401)
  bool loxi_insecure_token = false;  // allow sending the token over plain http://
  std::string loglevel = "info";

  // The status prefix: "<zone>-" in hostname mode, "" otherwise.
  [[nodiscard]] bool hostnameStatus() const {
    return ingress_mode == IngressMode::kHostname && !zone.empty();
  }
};

// Parses argv. Errors carry the message to print; `help` is set when --help was asked.
struct ParseOutcome {
  Options options;
  bool help = false;
  std::string help_text;
};
Result<ParseOutcome> parseOptions(const std::vector<std::string>& args);

}  // namespace floatlb::kube
