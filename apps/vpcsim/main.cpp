// vpcsim: a VPC in a box. `vpcsim up --topology F --prefix P [--port N] [--state-dir D]
// [--latency=zero|default] [--detach-ms N] [--no-netns] [--daemon]`, `vpcsim down --prefix P`.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "sim/model.h"
#include "sim/realiser.h"
#include "sim/server.h"
#include "sim/topology.h"

using namespace floatlb;
using namespace floatlb::sim;

namespace {

int usage() {
  std::cerr << "usage: vpcsim up --topology FILE --prefix PREFIX [--port N] [--state-dir DIR]\n"
               "                 [--latency=zero|default] [--detach-ms N] [--no-netns] [--daemon]\n"
               "       vpcsim down --prefix PREFIX [--state-dir DIR]\n";
  return 2;
}

std::map<std::string, std::string> parseArgs(int argc, char** argv, int start) {
  std::map<std::string, std::string> o;
  for (int i = start; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) continue;
    a = a.substr(2);
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      o[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      o[a] = argv[++i];
    } else {
      o[a] = "true";
    }
  }
  return o;
}

std::string upper(std::string s) {
  for (auto& c : s) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string stateDir(const std::map<std::string, std::string>& o, const std::string& prefix) {
  auto it = o.find("state-dir");
  return it != o.end() ? it->second : "/tmp/vpcsim-" + prefix;
}

int down(const std::map<std::string, std::string>& o) {
  auto p = o.find("prefix");
  if (p == o.end()) return usage();
  std::string dir = stateDir(o, p->second);
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
  auto st = Realiser::teardownPrefix(runner, p->second);
  std::remove((dir + "/vpcsim.env").c_str());
  std::remove((dir + "/vpcsim.pid").c_str());
  if (!st.ok()) {
    std::cerr << "vpcsim down: " << st.error().message << "\n";
    return 1;
  }
  std::cout << "vpcsim: namespaces with prefix '" << p->second << "' removed\n";
  return 0;
}

int up(const std::map<std::string, std::string>& o) {
  auto topo_file = o.find("topology");
  auto prefix_it = o.find("prefix");
  if (topo_file == o.end() || prefix_it == o.end()) return usage();
  const std::string prefix = prefix_it->second;
  const bool netns = !o.count("no-netns");
  if (netns && geteuid() != 0) {
    std::cerr << "vpcsim: building namespaces needs root (or use --no-netns for an API-only simulator)\n";
    return 1;
  }
  std::ifstream in(topo_file->second);
  if (!in) {
    std::cerr << "vpcsim: cannot read " << topo_file->second << "\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto topo = parseTopology(ss.str());
  if (!topo.ok()) {
    std::cerr << "vpcsim: " << topo.error().message << "\n";
    return 1;
  }
  std::string dir = stateDir(o, prefix);
  mkdir(dir.c_str(), 0755);

  // Signals are handled synchronously by the main thread (sigwait), never in a handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  SteadyClock clock;
  ModelConfig mc;
  mc.region = topo->region;
  mc.azs = topo->azs;
  auto pool = Cidr::parse(topo->eip_pool);
  if (!pool.ok()) {
    std::cerr << "vpcsim: eip_pool: " << pool.error().message << "\n";
    return 1;
  }
  mc.eip_pool = pool.value();
  mc.seed = static_cast<uint64_t>(getpid());
  if (o.count("detach-ms")) mc.detach_time = std::chrono::milliseconds(std::stoll(o.at("detach-ms")));
  Ec2Model model(clock, mc);
  std::string latency = o.count("latency") ? o.at("latency") : "default";
  if (latency == "zero") {
    model.latency().setZero();
    if (!o.count("detach-ms")) model.config().detach_time = std::chrono::milliseconds(200);
    model.config().cidr_assoc_time = std::chrono::milliseconds(0);
  }
  auto loaded = loadTopology(model, topo.value());
  if (!loaded.ok()) {
    std::cerr << "vpcsim: " << loaded.error().message << "\n";
    return 1;
  }

  ProcessRunner runner;
  RealiserConfig rc;
  rc.prefix = prefix;
  auto link = Cidr::parse(topo->inet_link);
  auto igw = Ip4::parse(topo->igw_ip);
  auto client = Ip4::parse(topo->client_ip);
  if (!link.ok() || !igw.ok() || !client.ok()) {
    std::cerr << "vpcsim: bad internet addresses in topology\n";
    return 1;
  }
  rc.inet_link = link.value();
  rc.igw_ip = igw.value();
  rc.client_ip = client.value();
  Realiser realiser(runner, rc);
  int rc_exit = 0;
  {
    if (netns) {
      (void)Realiser::teardownPrefix(runner, prefix);  // leftovers of a crashed run
      auto st = realiser.setupBase();
      if (!st.ok()) {
        std::cerr << "vpcsim: " << st.error().message << "\n";
        (void)Realiser::teardownPrefix(runner, prefix);
        return 1;
      }
    }
    SimServer server(model, clock, netns ? &realiser : nullptr, ServerConfig{});
    server.realise(loaded->events);
    int port = o.count("port") ? std::stoi(o.at("port")) : 0;
    auto bound = server.listenRoot("127.0.0.1", port);
    if (!bound.ok()) {
      std::cerr << "vpcsim: " << bound.error().message << "\n";
      rc_exit = 1;
    }
    if (rc_exit == 0 && netns) {
      auto st = server.listenInNetns("/run/netns/" + realiser.vpcNs(), "169.254.169.254", 80);
      if (!st.ok()) {
        std::cerr << "vpcsim: " << st.error().message << "\n";
        rc_exit = 1;
      }
    }
    if (rc_exit == 0) {
      server.startTicker(std::chrono::milliseconds(50));
      ServerConfig sc;
      std::ostringstream env;
      env << "VPCSIM_PREFIX=" << prefix << "\n"
          << "VPCSIM_PID=" << getpid() << "\n"
          << "VPCSIM_EC2_ENDPOINT=http://127.0.0.1:" << bound.value() << "\n"
          << "VPCSIM_ADMIN=http://127.0.0.1:" << bound.value() << "/admin\n"
          << "VPCSIM_IMDS_ROOT=http://127.0.0.1:" << bound.value() << "\n"
          << "VPCSIM_VPC_ENDPOINT=http://169.254.169.254\n"
          << "VPCSIM_NETNS=" << (netns ? 1 : 0) << "\n"
          << "VPCSIM_REGION=" << topo->region << "\n"
          << "VPCSIM_ACCESS_KEY=" << sc.credentials.begin()->first << "\n"
          << "VPCSIM_SECRET_KEY=" << sc.credentials.begin()->second << "\n"
          << "VPCSIM_VPC_ID=" << loaded->vpc_id << "\n"
          << "VPCSIM_IGW_ID=" << loaded->igw_id << "\n"
          << "VPCSIM_NS_VPC=" << realiser.vpcNs() << "\n"
          << "VPCSIM_NS_INET=" << realiser.inetNs() << "\n"
          << "VPCSIM_INET_CLIENT_IP=" << rc.client_ip.str() << "\n";
      for (const auto& [name, id] : loaded->subnets)
        env << "VPCSIM_SUBNET_" << upper(name) << "=" << id << "\n";
      for (const auto& [name, id] : loaded->instances) {
        env << "VPCSIM_INSTANCE_" << upper(name) << "=" << id << "\n";
        env << "VPCSIM_NS_" << upper(name) << "=" << realiser.instanceNs(name) << "\n";
        const Eni* e = model.eni(model.instance(id)->primary_eni);
        env << "VPCSIM_IP_" << upper(name) << "=" << e->ips.front().str() << "\n";
        env << "VPCSIM_ENI_" << upper(name) << "=" << e->id << "\n";
      }
      for (const auto& [name, id] : loaded->eips) {
        env << "VPCSIM_EIP_" << upper(name) << "=" << model.address(id)->public_ip.str() << "\n";
        env << "VPCSIM_EIPALLOC_" << upper(name) << "=" << id << "\n";
      }
      // Write atomically: readers poll for the file's existence.
      std::string tmp = dir + "/vpcsim.env.tmp";
      std::ofstream(tmp) << env.str();
      std::rename(tmp.c_str(), (dir + "/vpcsim.env").c_str());
      std::ofstream(dir + "/vpcsim.pid") << getpid() << "\n";
      std::cout << "vpcsim up (prefix " << prefix << ")\n"
                << "  EC2 API + admin + IMDS(test header): http://127.0.0.1:" << bound.value() << "\n"
                << (netns ? "  in the VPC (instances): EC2 + IMDSv2 at http://169.254.169.254 (ns " +
                                realiser.vpcNs() + ")\n"
                          : "")
                << "  env file: " << dir << "/vpcsim.env\n"
                << env.str() << std::flush;
      int sig = 0;
      sigwait(&set, &sig);
      FLB_INFO("vpcsim", "signal {}: shutting down", sig);
    }
    server.stop();
  }
  if (netns) (void)Realiser::teardownPrefix(runner, prefix);
  std::remove((dir + "/vpcsim.env").c_str());
  std::remove((dir + "/vpcsim.pid").c_str());
  return rc_exit;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  auto o = parseArgs(argc, argv, 2);
  if (cmd == "down") return down(o);
  if (cmd != "up") return usage();
  if (!o.count("daemon")) return up(o);
  // --daemon: the child runs the simulator; the parent returns once the env file exists.
  if (!o.count("prefix")) return usage();
  std::string env = stateDir(o, o.at("prefix")) + "/vpcsim.env";
  std::remove(env.c_str());
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    setsid();
    std::string log = stateDir(o, o.at("prefix")) + ".log";
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    _exit(up(o));
  }
  for (int i = 0; i < 600; ++i) {
    if (access(env.c_str(), R_OK) == 0) {
      std::ifstream f(env);
      std::cout << f.rdbuf();
      return 0;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::cerr << "vpcsim: daemon exited early, see " << stateDir(o, o.at("prefix")) << ".log\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "vpcsim: daemon not ready after 60 s\n";
  return 1;
}
