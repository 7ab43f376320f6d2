#include "kubesim/app.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "kubesim/apiserver.h"
#include "kubesim/http.h"
#include "kubesim/kubelet.h"
#include "sim/realiser.h"

namespace floatlb::kubesim {

namespace {

std::string randomToken() {
  std::random_device rd;
  std::string s;
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 40; ++i) s.push_back(hex[rd() & 15]);
  return s;
}

bool writeFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  std::ofstream f(path, std::ios::trunc);
  f << data;
  f.close();
  chmod(path.c_str(), mode);
  return static_cast<bool>(f);
}

// CA + server certificate (SANs for loopback, the kubernetes ClusterIP and its DNS names) via openssl(1).
Status makePki(const std::string& dir, const std::string& extraSans) {
  sim::ProcessRunner run;
  const std::string ec = "ec_paramgen_curve:prime256v1";
  FLB_TRY(run.run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout",
                   dir + "/ca.key", "-out", dir + "/ca.crt", "-days", "3650", "-subj", "/CN=kubesim-ca"}));
  FLB_TRY(run.run({"openssl", "req", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout",
                   dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=kube-apiserver"}));
  writeFile(dir + "/server.ext",
            "subjectAltName=IP:127.0.0.1,IP:10.100.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
            "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" +
                extraSans + "\n");
  FLB_TRY(run.run({"openssl", "x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.crt", "-CAkey",
                   dir + "/ca.key", "-CAcreateserial", "-out", dir + "/server.crt", "-days", "3650",
                   "-extfile", dir + "/server.ext"}));
  return okStatus();
}

std::string kubeconfig(const std::string& server, const std::string& ca, const std::string& token) {
  std::ostringstream k;
  k << "apiVersion: v1\nkind: Config\nclusters:\n- name: kubesim\n  cluster:\n    server: " << server << "\n";
  if (!ca.empty()) k << "    certificate-authority: " << ca << "\n";
  k << "users:\n- name: kubesim-admin\n  user:\n    token: " << token << "\n"
    << "contexts:\n- name: kubesim\n  context:\n    cluster: kubesim\n    user: kubesim-admin\n    "
       "namespace: default\n"
    << "current-context: kubesim\n";
  return k.str();
}

std::string kernelRelease() {
  struct utsname u {};
  return uname(&u) == 0 ? u.release : "6.1.0";
}

// Seed-style nodes for --no-netns: node1 in ap-northeast-3a (192.168.218.x), node2 in 3b (192.168.228.x), ...
NodeSpec recordNode(int i, const std::string& region) {
  bool a = i % 2 == 0;
  std::string ip = std::string(a ? "192.168.218." : "192.168.228.") + std::to_string(10 + i / 2);
  std::string dashed = ip;
  for (auto& c : dashed)
    if (c == '.') c = '-';
  NodeSpec n;
  n.name = "ip-" + dashed + "." + region + ".compute.internal";
  n.ip = ip;
  n.az = region + (a ? "a" : "b");
  char id[32];
  std::snprintf(id, sizeof id, "i-0%016x", 0x5eed0000u + static_cast<unsigned>(i));
  n.instanceId = id;
  n.kernel = kernelRelease();
  return n;
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The netns realisation: the vpcsim world joined, the kubelet/kube-proxy loop and its teardown.
class Realisation {
 public:
  Status join(const std::string& vpcsimDir, const Clock& clock) {
    env_ = parseEnvFile(readText(vpcsimDir + "/vpcsim.env"));
    if (env_.empty() || env_["VPCSIM_NETNS"] != "1")
      return makeError(ErrorCode::kNotFound, "no vpcsim world with namespaces in " + vpcsimDir);
    FLB_ASSIGN_OR_RETURN(ec2_, makeVpcsimEc2(env_["VPCSIM_EC2_ENDPOINT"], env_["VPCSIM_REGION"],
                                             env_["VPCSIM_ACCESS_KEY"], env_["VPCSIM_SECRET_KEY"], clock));
    nodes_ = vpcsimNodes(env_);
    if (nodes_.empty()) return makeError(ErrorCode::kNotFound, "vpcsim world has no node* instances");
    for (auto& n : nodes_) {
      FLB_ASSIGN_OR_RETURN(n.spec.az, ec2_->zoneOf(n.spec.instanceId));
      n.spec.kernel = kernelRelease();
    }
    return okStatus();
  }
  std::string vpcNs() { return env_["VPCSIM_NS_VPC"]; }
  std::string metadataIp() { return "169.254.169.254"; }

  Status start(ApiServer& api, const Clock& clock, KubeletConfig cfg) {
    procs_ = makeProcessRuntime();
    health_ = makeHealthListeners();
    kubelet_ =
        std::make_unique<NetnsKubelet>(api, clock, runner_, *ec2_, *procs_, *health_, std::move(cfg), nodes_);
    FLB_TRY(kubelet_->setup());
    loop_ = std::thread([this] {
      while (!stopping_) {
        kubelet_->sync();
        for (int i = 0; i < 4 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    return okStatus();
  }
  void stop() {
    stopping_ = true;
    if (loop_.joinable()) loop_.join();
    if (kubelet_) kubelet_->shutdown();
  }
  std::string nodeNamespaces() {
    std::string s;
    for (const auto& n : nodes_) s.append(n.netns).append("\n");
    return s;
  }

 private:
  std::map<std::string, std::string> env_;
  std::unique_ptr<VpcsimEc2> ec2_;
  std::vector<KubeletNode> nodes_;
  sim::ProcessRunner runner_;
  std::unique_ptr<ProcessRuntime> procs_;
  std::unique_ptr<HealthListeners> health_;
  std::unique_ptr<NetnsKubelet> kubelet_;
  std::thread loop_;
  std::atomic<bool> stopping_{false};
};

}  // namespace

std::string defaultStateDir(const std::string& prefix) { return "/tmp/kubesim-" + prefix; }

int runUp(const UpOptions& o) {
  if (!o.noNetns && o.vpcsimStateDir.empty()) {
    std::cerr << "kubesim: give --vpcsim-state-dir DIR (a vpcsim world) or --no-netns (API only)\n";
    return 1;
  }
  if (!o.noNetns && geteuid() != 0) {
    std::cerr << "kubesim: the network-namespace realisation needs root (or use --no-netns)\n";
    return 1;
  }
  std::string dir = o.stateDir.empty() ? defaultStateDir(o.prefix) : o.stateDir;
  mkdir(dir.c_str(), 0755);
  int ready[2] = {-1, -1};
  if (o.daemon) {
    if (pipe(ready) != 0) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid > 0) {  // parent: wait for the child to report its listeners
      close(ready[1]);
      char buf[256] = {0};
      ssize_t n = read(ready[0], buf, sizeof buf - 1);
      close(ready[0]);
      if (n > 0 && std::string(buf, 2) == "ok") {
        std::cout << "kubesim: up (pid " << pid << "), env in " << dir << "/kubesim.env\n";
        return 0;
      }
      std::cerr << "kubesim: daemon failed to start (see " << dir << "/kubesim.log)\n";
      return 1;
    }
    close(ready[0]);
    setsid();
    FILE* out = std::freopen((dir + "/kubesim.log").c_str(), "a", stderr);
    (void)out;
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
      close(devnull);
    }
  }
  auto fail = [&](const std::string& msg) {
    std::cerr << "kubesim: " << msg << "\n";
    if (ready[1] >= 0) {
      (void)!write(ready[1], "no", 2);
      close(ready[1]);
    }
    return 1;
  };
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  SteadyClock clock;
  Realisation world;
  if (!o.noNetns) {
    if (auto st = world.join(o.vpcsimStateDir, clock); !st.ok()) return fail(st.error().message);
  }
  if (auto st = makePki(dir, o.noNetns ? "" : ",IP:" + world.metadataIp()); !st.ok())
    return fail(st.error().message);
  std::string adminToken = randomToken();
  writeFile(dir + "/tokens", adminToken + ",kubesim-admin,system:masters\n", 0600);
  writeFile(dir + "/token", adminToken, 0600);

  ApiConfig cfg;
  cfg.version = o.k8sVersion;
  cfg.nodeGraceMs = o.nodeGraceMs;
  cfg.recordKubelet = o.noNetns;
  ApiServer api(clock, cfg);
  if (!o.stateFile.empty()) {
    std::ifstream in(o.stateFile);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      json snap = json::parse(ss.str(), nullptr, false);
      if (snap.is_object()) api.restore(snap);
    }
  }
  if (o.noNetns)
    for (int i = 0; i < o.nodes; ++i) api.addNode(recordNode(i, cfg.region));
  HttpConfig hc;
  hc.logFile = o.logFile;
  hc.bookmarkIntervalMs = o.bookmarkMs;
  KubeHttpServer http(api, clock, hc);
  auto port = http.listenPlain("127.0.0.1", o.port);
  if (!port.ok()) return fail(port.error().message);
  auto tls =
      http.listenTls("127.0.0.1", o.httpsPort, dir + "/server.crt", dir + "/server.key", dir + "/tokens");
  if (!tls.ok()) return fail(tls.error().message);
  std::string inHost = "127.0.0.1";
  int inPort = *tls;
  if (!o.noNetns) {
    // In-cluster endpoint: TLS inside the VPC namespace on the metadata address (reached by every
    // instance and pod through its default route); pods use the ClusterIP 10.100.0.1:443 (kube-proxy).
    auto vpc = http.listenTlsInNetns("/run/netns/" + world.vpcNs(), world.metadataIp(), 443,
                                     dir + "/server.crt", dir + "/server.key", dir + "/tokens");
    if (!vpc.ok()) return fail(vpc.error().message);
    inHost = world.metadataIp();
    inPort = *vpc;
    std::string exe = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "kube-floatlb";
    KubeletConfig kc{o.prefix, dir, exe, dir + "/ca.crt", dir + "/tokens"};
    writeFile(dir + "/netns-prefix", o.prefix + "\n");
    writeFile(dir + "/vpcsim-dir", o.vpcsimStateDir + "\n");
    writeFile(dir + "/node-namespaces", world.nodeNamespaces());
    if (auto st = world.start(api, clock, kc); !st.ok()) {
      world.stop();
      return fail(st.error().message);
    }
  }
  api.setApiEndpoint(inHost, inPort);
  http.startTicker(std::chrono::milliseconds(100));

  std::string url = "http://127.0.0.1:" + std::to_string(*port);
  std::string https = "https://127.0.0.1:" + std::to_string(*tls);
  writeFile(dir + "/kubeconfig", kubeconfig(url, "", adminToken), 0600);
  writeFile(dir + "/kubeconfig-https", kubeconfig(https, dir + "/ca.crt", adminToken), 0600);
  std::ostringstream env;
  env << "KUBESIM_KUBECONFIG=" << dir << "/kubeconfig\n"
      << "KUBESIM_KUBECONFIG_HTTPS=" << dir << "/kubeconfig-https\n"
      << "KUBESIM_URL=" << url << "\n"
      << "KUBESIM_HTTPS_URL=" << https << "\n"
      << "KUBESIM_ADMIN=" << url << "/kubesim/admin\n"
      << "KUBESIM_INCLUSTER_HOST=" << inHost << "\n"
      << "KUBESIM_INCLUSTER_PORT=" << inPort << "\n"
      << "KUBESIM_CA=" << dir << "/ca.crt\n"
      << "KUBESIM_TOKEN_FILE=" << dir << "/token\n"
      << "KUBESIM_PID=" << getpid() << "\n";
  writeFile(dir + "/kubesim.env", env.str());
  writeFile(dir + "/kubesim.pid", std::to_string(getpid()) + "\n");
  FLB_INFO("kubesim", "up: {} (tls {}, in-cluster {}:{}), {}, version {}", url, https, inHost, inPort,
           o.noNetns ? std::to_string(o.nodes) + " record nodes" : "realised in " + o.vpcsimStateDir,
           o.k8sVersion);
  if (ready[1] >= 0) {
    (void)!write(ready[1], "ok", 2);
    close(ready[1]);
  } else {
    std::cout << env.str() << std::flush;
  }
  int sig = 0;
  sigwait(&set, &sig);
  FLB_INFO("kubesim", "signal {}: shutting down", sig);
  world.stop();
  http.stop();
  if (!o.stateFile.empty()) writeFile(o.stateFile, api.snapshot().dump());
  std::remove((dir + "/kubesim.pid").c_str());
  return 0;
}

namespace {

std::string firstLine(const std::string& path) {
  std::string s = readText(path);
  return s.substr(0, s.find('\n'));
}

// What a (crashed) netns daemon left, named by the files it wrote: container processes, pod
// namespaces (<recorded prefix>p-*), kube-proxy tables in the node namespaces, pod IPs on the ENIs.
// A state dir without `netns-prefix` (an API-only run) has none of these.
void cleanupRealisation(const std::string& dir) {
  std::string prefix = firstLine(dir + "/netns-prefix");
  if (prefix.empty()) return;
  sim::ProcessRunner run;
  auto ips = cleanupPods(dir, prefix, run);
  std::istringstream nss(readText(dir + "/node-namespaces"));
  for (std::string ns; std::getline(nss, ns);)
    if (!ns.empty() && access(("/run/netns/" + ns).c_str(), F_OK) == 0)
      (void)run.run({"ip", "netns", "exec", ns, "nft", "delete", "table", "ip", "kubesim"});
  std::string vdir = firstLine(dir + "/vpcsim-dir");
  if (!ips.empty() && !vdir.empty()) {
    auto env = parseEnvFile(readText(vdir + "/vpcsim.env"));
    SteadyClock clock;
    auto ec2 = makeVpcsimEc2(env["VPCSIM_EC2_ENDPOINT"], env["VPCSIM_REGION"], env["VPCSIM_ACCESS_KEY"],
                             env["VPCSIM_SECRET_KEY"], clock);
    for (const auto& [eni, ip] : ips)
      if (ec2.ok()) (void)(*ec2)->release(eni, ip);
  }
  for (const char* f : {"netns-prefix", "vpcsim-dir", "node-namespaces"})
    std::remove((dir + "/" + f).c_str());
}

// pid runs the same executable as this process (also when it was rebuilt since: " (deleted)").
bool isKubesim(pid_t pid) {
  std::error_code ec1;
  std::error_code ec2;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec1).string();
  auto other = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec2).string();
  return !ec1 && !ec2 && (other == self || other == self + " (deleted)");
}

}  // namespace

int runDown(const std::string& prefix, const std::string& stateDir) {
  std::string dir = stateDir.empty() ? defaultStateDir(prefix) : stateDir;
  std::ifstream pidf(dir + "/kubesim.pid");
  pid_t pid = 0;
  if (pidf >> pid && pid > 1 && isKubesim(pid) && kill(pid, SIGTERM) == 0) {
    // Our own daemon, named by the pid file it wrote (and still running this executable: a stale
    // pid file's pid may belong to another process by now); bounded wait, then SIGKILL.
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (kill(pid, 0) == 0) kill(pid, SIGKILL);
  }
  cleanupRealisation(dir);
  for (const char* f : {"kubesim.pid", "kubesim.env", "kubeconfig", "kubeconfig-https", "tokens", "token",
                        "ca.key", "ca.crt", "ca.srl", "server.key", "server.crt", "server.csr", "server.ext"})
    std::remove((dir + "/" + f).c_str());
  std::cout << "kubesim: down (" << dir << ")\n";
  return 0;
}

}  // namespace floatlb::kubesim
