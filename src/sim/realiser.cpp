#include "sim/realiser.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "common/log.h"

extern char** environ;

namespace floatlb::sim {

// ---- ProcessRunner ------------------------------------------------------------------------------
Status ProcessRunner::run(const std::vector<std::string>& argv, const std::string& stdin_data) {
  int out[2], in[2];
  if (pipe2(out, O_CLOEXEC) != 0) return makeError(ErrorCode::kIo, "pipe failed");
  if (pipe2(in, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return makeError(ErrorCode::kIo, "pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return makeError(ErrorCode::kIo, "cannot run " + cmd);
  }
  if (!stdin_data.empty()) {
    size_t off = 0;
    while (off < stdin_data.size()) {
      ssize_t w = write(in[1], stdin_data.data() + off, stdin_data.size() - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
  }
  close(in[1]);
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  bool timed_out = false;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int pr = poll(&p, 1, static_cast<int>(left.count()));
    if (pr <= 0) continue;
    char buf[4096];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    if (output.size() < 65536) output.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out) return makeError(ErrorCode::kTimeout, cmd + ": timed out");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError(ErrorCode::kIo, cmd + ": " + output);
  }
  return okStatus();
}

// ---- Realiser -----------------------------------------------------------------------------------
Status Realiser::ip(const std::string& ns, std::vector<std::string> args) {
  std::vector<std::string> argv = {"ip", "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_.run(argv);
}

Status Realiser::setupBase() {
  const std::string vpc = vpcNs(), inet = inetNs();
  FLB_TRY(run_.run({"ip", "netns", "add", vpc}));
  FLB_TRY(run_.run({"ip", "netns", "add", inet}));
  FLB_TRY(ip(vpc, {"link", "set", "lo", "up"}));
  FLB_TRY(ip(inet, {"link", "set", "lo", "up"}));
  FLB_TRY(ip(vpc, {"addr", "add", cfg_.metadata_ip.str() + "/32", "dev", "lo"}));
  FLB_TRY(run_.run({"ip", "netns", "exec", vpc, "sysctl", "-qw", "net.ipv4.ip_forward=1"}));
  // The VPC router never tells an instance to bypass it: a route to an ENI in the sender's own
  // subnet would otherwise earn an ICMP redirect that outlives the route (AWS sends none).
  FLB_TRY(run_.run({"ip", "netns", "exec", vpc, "sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0",
                    "net.ipv4.conf.default.send_redirects=0"}));
  // Internet link, created directly between the two namespaces (never in the root namespace).
  FLB_TRY(ip(vpc, {"link", "add", "igw0", "type", "veth", "peer", "name", "eth0", "netns", inet}));
  std::string len = std::to_string(cfg_.inet_link.prefixLen());
  FLB_TRY(ip(vpc, {"addr", "add", cfg_.igw_ip.str() + "/" + len, "dev", "igw0"}));
  FLB_TRY(ip(vpc, {"link", "set", "igw0", "up"}));
  FLB_TRY(ip(inet, {"addr", "add", cfg_.client_ip.str() + "/" + len, "dev", "eth0"}));
  FLB_TRY(ip(inet, {"link", "set", "eth0", "up"}));
  FLB_TRY(ip(inet, {"route", "add", "default", "via", cfg_.igw_ip.str()}));
  return syncNat();
}

Status Realiser::syncNat() {
  // The whole NAT table is re-rendered from the EIP map and loaded atomically by nft.
  std::string dnat, snat;
  for (const auto& [eip, priv] : eip_to_private_) {
    dnat += (dnat.empty() ? "" : ", ") + eip + " : " + priv;
    snat += (snat.empty() ? "" : ", ") + priv + " : " + eip;
  }
  std::string rules = "table ip vpcsim {}\ndelete table ip vpcsim\ntable ip vpcsim {\n";
  rules += "  map eip_to_private { type ipv4_addr : ipv4_addr;" +
           (dnat.empty() ? std::string() : " elements = { " + dnat + " };") + " }\n";
  rules += "  map private_to_eip { type ipv4_addr : ipv4_addr;" +
           (snat.empty() ? std::string() : " elements = { " + snat + " };") + " }\n";
  rules +=
      "  chain pre { type nat hook prerouting priority dstnat; policy accept;\n"
      "    iifname \"igw0\" ip daddr @eip_to_private dnat to ip daddr map @eip_to_private\n  }\n"
      "  chain post { type nat hook postrouting priority srcnat; policy accept;\n"
      "    oifname \"igw0\" ip saddr @private_to_eip snat to ip saddr map @private_to_eip\n  }\n"
      // Like AWS, an instance without a public address cannot reach the internet.
      "  chain egress { type filter hook forward priority filter; policy accept;\n"
      "    oifname \"igw0\" ip saddr != @private_to_eip drop\n  }\n"
      "}\n";
  return run_.run({"ip", "netns", "exec", vpcNs(), "nft", "-f", "-"}, rules);
}

Status Realiser::applyRouting(const RoutingPlan& plan) {
  KernelRouting want = kernelRouting(plan);
  std::vector<std::string> lines = routingBatch(routing_, want);
  if (!lines.empty()) {
    std::string batch;
    for (const auto& l : lines) batch += l + "\n";
    FLB_TRY(run_.run({"ip", "-n", vpcNs(), "-batch", "-"}, batch));
    routing_ = std::move(want);
  }
  std::string sdc = sourceDestCheckRules(plan);
  if (sdc != sdc_rules_) {
    FLB_TRY(run_.run({"ip", "netns", "exec", vpcNs(), "nft", "-f", "-"}, sdc));
    sdc_rules_ = std::move(sdc);
  }
  return okStatus();
}

void Realiser::flushEipConntrack(const std::string& public_ip) {
  // conntrack exits 1 when nothing matched: not an error here.
  (void)run_.run({"ip", "netns", "exec", vpcNs(), "conntrack", "-D", "--orig-dst", public_ip});
  (void)run_.run({"ip", "netns", "exec", vpcNs(), "conntrack", "-D", "--reply-dst", public_ip});
}

Status Realiser::apply(const RealiseEvent& e) {
  using K = RealiseEvent::Kind;
  const std::string vpc = vpcNs();
  switch (e.kind) {
    case K::kSubnetCreated: {
      std::string br = "br" + std::to_string(e.subnet_seq);
      bridge_of_subnet_seq_[e.subnet_seq] = br;
      FLB_TRY(ip(vpc, {"link", "add", br, "type", "bridge"}));
      FLB_TRY(
          ip(vpc, {"addr", "add", e.gateway.str() + "/" + std::to_string(e.cidr.prefixLen()), "dev", br}));
      return ip(vpc, {"link", "set", br, "up"});
    }
    case K::kSubnetDeleted:
      bridge_of_subnet_seq_.erase(e.subnet_seq);
      return ip(vpc, {"link", "del", "br" + std::to_string(e.subnet_seq)});
    case K::kInstanceLaunched: {
      std::string ns = instanceNs(e.instance_name);
      FLB_TRY(run_.run({"ip", "netns", "add", ns}));
      return ip(ns, {"link", "set", "lo", "up"});
    }
    case K::kEniAttached: {
      std::string ns = instanceNs(e.instance_name);
      std::string host = "ve" + std::to_string(e.eni_seq);
      std::string dev = "eth" + std::to_string(e.device_index);
      std::string br = "br" + std::to_string(e.subnet_seq);
      FLB_TRY(ip(vpc, {"link", "add", host, "type", "veth", "peer", "name", dev, "netns", ns}));
      FLB_TRY(ip(ns, {"link", "set", dev, "address", e.mac}));
      FLB_TRY(ip(vpc, {"link", "set", host, "master", br}));
      FLB_TRY(ip(vpc, {"link", "set", host, "up"}));
      for (Ip4 a : e.ips)
        FLB_TRY(ip(vpc, {"neigh", "replace", a.str(), "lladdr", e.mac, "dev", br, "nud", "permanent"}));
      if (e.configure) {  // what DHCP does for the primary interface at boot
        FLB_TRY(ip(
            ns, {"addr", "add", e.ips.front().str() + "/" + std::to_string(e.cidr.prefixLen()), "dev", dev}));
        FLB_TRY(ip(ns, {"link", "set", dev, "up"}));
        FLB_TRY(ip(ns, {"route", "add", "default", "via", e.gateway.str()}));
      }
      return okStatus();
    }
    case K::kEniDetached: {
      std::string br = "br" + std::to_string(e.subnet_seq);
      for (Ip4 a : e.ips) (void)ip(vpc, {"neigh", "del", a.str(), "dev", br});
      return ip(vpc, {"link", "del", "ve" + std::to_string(e.eni_seq)});
    }
    case K::kPrivateIpAssigned:
      if (!e.attached) return okStatus();
      return ip(vpc, {"neigh", "replace", e.ip.str(), "lladdr", e.mac, "dev",
                      "br" + std::to_string(e.subnet_seq), "nud", "permanent"});
    case K::kPrivateIpUnassigned:
      (void)ip(vpc, {"neigh", "del", e.ip.str(), "dev", "br" + std::to_string(e.subnet_seq)});
      return okStatus();
    case K::kEipAssociated:
      eip_to_private_[e.public_ip] = e.ip.str();
      return syncNat();
    case K::kEipDisassociated:  // also the first half of a re-association (model.cpp)
      eip_to_private_.erase(e.public_ip);
      FLB_TRY(syncNat());
      flushEipConntrack(e.public_ip);
      return okStatus();
  }
  return okStatus();
}

Status Realiser::teardownPrefix(CommandRunner& runner, const std::string& prefix) {
  if (prefix.size() < 3)
    return makeError(ErrorCode::kInvalidArgument, "refusing a prefix shorter than 3 chars");
  DIR* d = opendir("/run/netns");
  if (!d) return okStatus();
  std::vector<std::string> names;
  for (dirent* ent; (ent = readdir(d)) != nullptr;) {
    std::string n = ent->d_name;
    if (n.rfind(prefix, 0) == 0) names.push_back(n);
  }
  closedir(d);
  Status result = okStatus();
  for (const auto& n : names) {
    auto r = runner.run({"ip", "netns", "del", n});
    if (!r.ok()) result = r;
  }
  return result;
}

}  // namespace floatlb::sim
