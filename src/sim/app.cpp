#include "sim/app.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "sim/model.h"
#include "sim/realiser.h"
#include "sim/server.h"
#include "sim/topology.h"

namespace floatlb::sim {

// ---- argv ---------------------------------------------------------------------------------------
Result<AppOptions> parseAppArgs(const std::vector<std::string>& args) {
  AppOptions o;
  int64_t detach_ms = -1;
  int64_t route_ms = -1;
  CLI::App app{"vpcsim: a VPC in a box (EC2 Query API, IMDSv2, network namespaces)", "vpcsim"};
  app.require_subcommand(1);
  CLI::App* up = app.add_subcommand("up", "start the simulator for a topology");
  up->add_option("--topology", o.topology, "topology JSON file")->required();
  up->add_option("--prefix", o.prefix, "namespace name prefix, e.g. flb42-")->required();
  up->add_option("--port", o.port, "EC2/admin port on 127.0.0.1 (default: any free port)")
      ->check(CLI::Range(0, 65535));
  up->add_option("--state-dir", o.state_dir, "env/pid file directory (default /tmp/vpcsim-<prefix>)");
  up->add_option("--latency", o.latency, "per-call latency model")->check(CLI::IsMember({"zero", "default"}));
  up->add_option("--detach-ms", detach_ms, "ENI detach duration in ms")->check(CLI::NonNegativeNumber);
  up->add_option(
        "--route-propagation-ms", route_ms,
        "delay from a route/source-dest-check change to its effect (default 100, 0 with --latency=zero)")
      ->check(CLI::NonNegativeNumber);
  up->add_flag("--no-netns", o.no_netns, "API-only simulator (no namespaces, no root needed)");
  up->add_flag("--daemon", o.daemon, "run in the background; return once the env file exists");
  CLI::App* dn = app.add_subcommand("down", "stop the simulator and delete the prefix's namespaces");
  dn->add_option("--prefix", o.prefix, "namespace name prefix")->required();
  dn->add_option("--state-dir", o.state_dir, "env/pid file directory (default /tmp/vpcsim-<prefix>)");
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    o.help = true;
  } catch (const CLI::ParseError& e) {
    return makeError(ErrorCode::kInvalidArgument, std::string(e.what()) + "\n" + app.help());
  }
  o.usage = app.help();
  if (detach_ms >= 0) o.detach_ms = detach_ms;
  if (route_ms >= 0) o.route_propagation_ms = route_ms;
  if (!o.help) o.command = up->parsed() ? "up" : "down";
  return o;
}

std::string stateDir(const AppOptions& o) {
  return o.state_dir.empty() ? "/tmp/vpcsim-" + o.prefix : o.state_dir;
}

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

int fail(const std::string& msg) {
  std::cerr << "vpcsim: " << msg << "\n";
  return 1;
}

Result<Topology> readTopology(const std::string& path) {
  std::ifstream in(path);
  if (!in) return makeError(ErrorCode::kNotFound, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parseTopology(ss.str());
}

Result<ModelConfig> modelConfig(const Topology& t, const AppOptions& o) {
  ModelConfig mc;
  mc.region = t.region;
  mc.azs = t.azs;
  auto pool = Cidr::parse(t.eip_pool);
  if (!pool.ok()) return pool.error().wrap("eip_pool");
  mc.eip_pool = pool.value();
  mc.seed = static_cast<uint64_t>(getpid());
  if (o.detach_ms) mc.detach_time = std::chrono::milliseconds(*o.detach_ms);
  if (o.latency == "zero") mc.route_propagation = Duration{};
  if (o.route_propagation_ms) mc.route_propagation = std::chrono::milliseconds(*o.route_propagation_ms);
  return mc;
}

Result<RealiserConfig> realiserConfig(const Topology& t, const std::string& prefix) {
  RealiserConfig rc;
  rc.prefix = prefix;
  auto link = Cidr::parse(t.inet_link);
  auto igw = Ip4::parse(t.igw_ip);
  auto client = Ip4::parse(t.client_ip);
  if (!link.ok() || !igw.ok() || !client.ok()) {
    return makeError(ErrorCode::kInvalidArgument, "bad internet addresses in topology");
  }
  rc.inet_link = link.value();
  rc.igw_ip = igw.value();
  rc.client_ip = client.value();
  return rc;
}

struct Running {
  const AppOptions& opts;
  const Topology& topo;
  const Ec2Model& model;
  const LoadedTopology& loaded;
  const Realiser& realiser;
  int port;
};

std::string envFile(const Running& r) {
  ServerConfig sc;
  const bool netns = !r.opts.no_netns;
  const std::string ep = "http://127.0.0.1:" + std::to_string(r.port);
  std::ostringstream env;
  env << "VPCSIM_PREFIX=" << r.opts.prefix << "\n"
      << "VPCSIM_PID=" << getpid() << "\n"
      << "VPCSIM_EC2_ENDPOINT=" << ep << "\n"
      << "VPCSIM_ADMIN=" << ep << "/admin\n"
      << "VPCSIM_IMDS_ROOT=" << ep << "\n"
      << "VPCSIM_VPC_ENDPOINT=http://169.254.169.254\n"
      << "VPCSIM_NETNS=" << (netns ? 1 : 0) << "\n"
      << "VPCSIM_REGION=" << r.topo.region << "\n"
      << "VPCSIM_ACCESS_KEY=" << sc.credentials.begin()->first << "\n"
      << "VPCSIM_SECRET_KEY=" << sc.credentials.begin()->second << "\n"
      << "VPCSIM_VPC_ID=" << r.loaded.vpc_id << "\n"
      << "VPCSIM_IGW_ID=" << r.loaded.igw_id << "\n"
      << "VPCSIM_NS_VPC=" << r.realiser.vpcNs() << "\n"
      << "VPCSIM_NS_INET=" << r.realiser.inetNs() << "\n"
      << "VPCSIM_INET_CLIENT_IP=" << r.realiser.config().client_ip.str() << "\n";
  for (const auto& [name, id] : r.loaded.subnets) env << "VPCSIM_SUBNET_" << upper(name) << "=" << id << "\n";
  for (const auto& [name, id] : r.loaded.instances) {
    const Eni* e = r.model.eni(r.model.instance(id)->primary_eni);
    env << "VPCSIM_INSTANCE_" << upper(name) << "=" << id << "\n"
        << "VPCSIM_NS_" << upper(name) << "=" << r.realiser.instanceNs(name) << "\n"
        << "VPCSIM_IP_" << upper(name) << "=" << e->ips.front().str() << "\n"
        << "VPCSIM_ENI_" << upper(name) << "=" << e->id << "\n";
  }
  for (const auto& [name, id] : r.loaded.eips) {
    env << "VPCSIM_EIP_" << upper(name) << "=" << r.model.address(id)->public_ip.str() << "\n"
        << "VPCSIM_EIPALLOC_" << upper(name) << "=" << id << "\n";
  }
  return env.str();
}

// Writes the env file atomically (readers poll for its existence) and the pid file.
void publish(const std::string& dir, const std::string& env) {
  std::string tmp = dir + "/vpcsim.env.tmp";
  std::ofstream(tmp) << env;
  std::rename(tmp.c_str(), (dir + "/vpcsim.env").c_str());
  std::ofstream(dir + "/vpcsim.pid") << getpid() << "\n";
}

void unpublish(const std::string& dir) {
  std::remove((dir + "/vpcsim.env").c_str());
  std::remove((dir + "/vpcsim.pid").c_str());
}

// Listeners up, env file out, then wait for SIGINT/SIGTERM (blocked by the caller).
int serve(SimServer& server, const Running& base, const sigset_t& signals) {
  auto bound = server.listenRoot("127.0.0.1", base.opts.port);
  if (!bound.ok()) return fail(bound.error().message);
  if (!base.opts.no_netns) {
    auto st = server.listenInNetns("/run/netns/" + base.realiser.vpcNs(), "169.254.169.254", 80);
    if (!st.ok()) return fail(st.error().message);
  }
  server.startTicker(std::chrono::milliseconds(50));
  Running r = base;
  r.port = bound.value();
  const std::string env = envFile(r);
  const std::string dir = stateDir(r.opts);
  publish(dir, env);
  std::cout << "vpcsim up (prefix " << r.opts.prefix << ")\n"
            << "  EC2 API + admin + IMDS(test header): http://127.0.0.1:" << r.port << "\n"
            << (r.opts.no_netns ? ""
                                : "  in the VPC (instances): EC2 + IMDSv2 at http://169.254.169.254 (ns " +
                                      r.realiser.vpcNs() + ")\n")
            << "  env file: " << dir << "/vpcsim.env\n"
            << env << std::flush;
  int sig = 0;
  sigwait(&signals, &sig);
  FLB_INFO("vpcsim", "signal {}: shutting down", sig);
  return 0;
}

}  // namespace

int runVpcsim(const AppOptions& o) {
  const bool netns = !o.no_netns;
  if (netns && geteuid() != 0) {
    return fail("building namespaces needs root (or use --no-netns for an API-only simulator)");
  }
  auto topo = readTopology(o.topology);
  if (!topo.ok()) return fail(topo.error().message);
  const std::string dir = stateDir(o);
  mkdir(dir.c_str(), 0755);
  // Signals are handled synchronously by the main thread (sigwait), never in a handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto mc = modelConfig(topo.value(), o);
  if (!mc.ok()) return fail(mc.error().message);
  auto rc = realiserConfig(topo.value(), o.prefix);
  if (!rc.ok()) return fail(rc.error().message);
  SteadyClock clock;
  Ec2Model model(clock, mc.value());
  if (o.latency == "zero") {
    model.latency().setZero();
    if (!o.detach_ms) model.config().detach_time = std::chrono::milliseconds(200);
    model.config().cidr_assoc_time = std::chrono::milliseconds(0);
  }
  auto loaded = loadTopology(model, topo.value());
  if (!loaded.ok()) return fail(loaded.error().message);

  ProcessRunner runner;
  Realiser realiser(runner, rc.value());
  if (netns) {
    (void)Realiser::teardownPrefix(runner, o.prefix);  // leftovers of a crashed run
    auto st = realiser.setupBase();
    if (!st.ok()) {
      (void)Realiser::teardownPrefix(runner, o.prefix);
      return fail(st.error().message);
    }
  }
  int exit_code = 0;
  {
    SimServer server(model, clock, netns ? &realiser : nullptr, ServerConfig{});
    server.realise(loaded->events);
    exit_code = serve(server, Running{o, topo.value(), model, loaded.value(), realiser, 0}, signals);
    server.stop();
  }
  if (netns) (void)Realiser::teardownPrefix(runner, o.prefix);
  unpublish(dir);
  return exit_code;
}

int runDaemonised(const AppOptions& o) {
  const std::string env = stateDir(o) + "/vpcsim.env";
  std::remove(env.c_str());
  pid_t pid = fork();
  if (pid < 0) return fail("fork failed");
  if (pid == 0) {
    setsid();
    std::string log = stateDir(o) + ".log";
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    _exit(runVpcsim(o));
  }
  for (int i = 0; i < 600; ++i) {  // bounded: 60 s
    if (access(env.c_str(), R_OK) == 0) {
      std::ifstream f(env);
      std::cout << f.rdbuf();
      return 0;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return fail("daemon exited early, see " + stateDir(o) + ".log");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return fail("daemon not ready after 60 s");
}

int down(const AppOptions& o) {
  const std::string dir = stateDir(o);
  std::ifstream pidf(dir + "/vpcsim.pid");
  pid_t pid = 0;
  if (pidf >> pid && pid > 1) {
    // Only our own daemon, identified by the pid file it wrote; it tears down on SIGTERM.
    if (kill(pid, SIGTERM) == 0) {
      for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ProcessRunner runner;
  auto st = Realiser::teardownPrefix(runner, o.prefix);
  unpublish(dir);
  if (!st.ok()) {
    std::cerr << "vpcsim down: " << st.error().message << "\n";
    return 1;
  }
  std::cout << "vpcsim: namespaces with prefix '" << o.prefix << "' removed\n";
  return 0;
}

}  // namespace floatlb::sim
