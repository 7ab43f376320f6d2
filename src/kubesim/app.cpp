#include "kubesim/app.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "kubesim/apiserver.h"
#include "kubesim/http.h"
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
Status makePki(const std::string& dir) {
  sim::ProcessRunner run;
  const std::string ec = "ec_paramgen_curve:prime256v1";
  FLB_TRY(run.run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout",
                   dir + "/ca.key", "-out", dir + "/ca.crt", "-days", "3650", "-subj", "/CN=kubesim-ca"}));
  FLB_TRY(run.run({"openssl", "req", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout",
                   dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=kube-apiserver"}));
  writeFile(dir + "/server.ext",
            "subjectAltName=IP:127.0.0.1,IP:10.100.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
            "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n");
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

}  // namespace

std::string defaultStateDir(const std::string& prefix) { return "/tmp/kubesim-" + prefix; }

int runUp(const UpOptions& o) {
  if (!o.noNetns) {
    std::cerr << "kubesim: the network-namespace realisation (--vpcsim-state-dir) is not implemented yet; "
                 "use --no-netns for the API-only mode\n";
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

  if (auto st = makePki(dir); !st.ok()) return fail(st.error().message);
  std::string adminToken = randomToken();
  writeFile(dir + "/tokens", adminToken + ",kubesim-admin,system:masters\n", 0600);
  writeFile(dir + "/token", adminToken, 0600);

  SteadyClock clock;
  ApiConfig cfg;
  cfg.version = o.k8sVersion;
  cfg.nodeGraceMs = o.nodeGraceMs;
  cfg.recordKubelet = true;
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
  api.setApiEndpoint("127.0.0.1", *tls);
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
      << "KUBESIM_INCLUSTER_HOST=127.0.0.1\n"
      << "KUBESIM_INCLUSTER_PORT=" << *tls << "\n"
      << "KUBESIM_CA=" << dir << "/ca.crt\n"
      << "KUBESIM_TOKEN_FILE=" << dir << "/token\n"
      << "KUBESIM_PID=" << getpid() << "\n";
  writeFile(dir + "/kubesim.env", env.str());
  writeFile(dir + "/kubesim.pid", std::to_string(getpid()) + "\n");
  FLB_INFO("kubesim", "up: {} (tls {}), {} record nodes, version {}", url, https, o.nodes, o.k8sVersion);
  if (ready[1] >= 0) {
    (void)!write(ready[1], "ok", 2);
    close(ready[1]);
  } else {
    std::cout << env.str() << std::flush;
  }
  int sig = 0;
  sigwait(&set, &sig);
  FLB_INFO("kubesim", "signal {}: shutting down", sig);
  http.stop();
  if (!o.stateFile.empty()) writeFile(o.stateFile, api.snapshot().dump());
  std::remove((dir + "/kubesim.pid").c_str());
  return 0;
}

int runDown(const std::string& prefix, const std::string& stateDir) {
  std::string dir = stateDir.empty() ? defaultStateDir(prefix) : stateDir;
  std::ifstream pidf(dir + "/kubesim.pid");
  pid_t pid = 0;
  if (pidf >> pid && pid > 1 && kill(pid, SIGTERM) == 0) {
    // Our own daemon, named by the pid file it wrote; bounded wait, then SIGKILL.
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (kill(pid, 0) == 0) kill(pid, SIGKILL);
  }
  for (const char* f : {"kubesim.pid", "kubesim.env", "kubeconfig", "kubeconfig-https", "tokens", "token",
                        "ca.key", "ca.crt", "ca.srl", "server.key", "server.crt", "server.csr", "server.ext"})
    std::remove((dir + "/" + f).c_str());
  std::cout << "kubesim: down (" << dir << ")\n";
  return 0;
}

}  // namespace floatlb::kubesim
