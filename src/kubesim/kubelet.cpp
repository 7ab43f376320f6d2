#include "kubesim/kubelet.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "common/log.h"
#include "kubesim/table.h"

namespace floatlb::kubesim {

namespace {

constexpr const char* kLog = "kubesim.kubelet";

std::string hexId(size_t bytes) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s;
  while (s.size() < bytes * 2) s += fmt::format("{:016x}", rng());
  return s.substr(0, bytes * 2);
}

void writeFile(const std::string& path, const std::string& data,
               std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                             std::filesystem::perms::owner_write) {
  std::ofstream(path, std::ios::trunc) << data;
  std::error_code ec;
  std::filesystem::permissions(
      path, mode | std::filesystem::perms::group_read | std::filesystem::perms::others_read, ec);
}

std::string podPath(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/pods/" + name;
}

// nginx with its own prefix (conf, pid, logs, temp dirs) serving Debian's welcome page on `ports`.
std::string nginxConf(const std::string& dir, const std::vector<int>& ports) {
  std::string listens;
  for (int p : ports) listens += fmt::format("    listen {} default_server;\n", p);
  return fmt::format(
      "daemon off;\nmaster_process on;\nworker_processes 1;\npid {0}/nginx.pid;\nerror_log {0}/error.log;\n"
      "events {{ worker_connections 256; }}\n"
      "http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
      "  access_log {0}/access.log;\n  client_body_temp_path {0}/tmp/body;\n  proxy_temp_path "
      "{0}/tmp/proxy;\n"
      "  fastcgi_temp_path {0}/tmp/fastcgi;\n  uwsgi_temp_path {0}/tmp/uwsgi;\n  scgi_temp_path "
      "{0}/tmp/scgi;\n"
      "  server {{\n{1}    server_name _;\n    root /var/www/html;\n"
      "    index index.html index.htm index.nginx-debian.html;\n"
      "    location / {{ try_files $uri $uri/ =404; }}\n  }}\n}}\n",
      dir, listens);
}

}  // namespace

NetnsKubelet::NetnsKubelet(ApiServer& api, const Clock& clock, sim::CommandRunner& cmd, PodIpAllocator& ips,
                           ProcessRuntime& procs, HealthListeners& health, KubeletConfig cfg,
                           std::vector<KubeletNode> nodes)
    : api_(api),
      clock_(clock),
      cmd_(cmd),
      ips_(ips),
      procs_(procs),
      health_(health),
      cfg_(std::move(cfg)),
      nodes_(std::move(nodes)) {}

Response NetnsKubelet::call(const std::string& method, const std::string& path, const json& body) {
  Request r;
  r.method = method;
  r.path = path;
  r.accept = "application/json";
  r.contentType = "application/json";
  r.userAgent = "kubelet/v1.32.0 (linux/amd64) kubernetes/kubesim";
  if (!body.is_null()) r.body = body.dump();
  return api_.handle(r);
}

const KubeletNode* NetnsKubelet::node(const std::string& name) const {
  for (const auto& n : nodes_) {
    if (n.spec.name == name) return &n;
  }
  return nullptr;
}

Status NetnsKubelet::setup() {
  std::filesystem::create_directories(cfg_.stateDir + "/pods");
  // Forwarding to the pod veths, loose rp_filter (VPC CNI), and proxy ARP on eth0: vpcsim's subnets
  // are L2 bridges, so a neighbour in the same subnet ARPs for a pod IP; the node answers for the
  // addresses it routes to a veth (AWS's fabric delivers by ENI ownership instead; same effect).
  for (const auto& n : nodes_) {
    FLB_TRY(cmd_.run({"ip", "netns", "exec", n.netns, "sysctl", "-qw", "net.ipv4.ip_forward=1",
                      "net.ipv4.conf.all.rp_filter=2", "net.ipv4.conf.default.rp_filter=2",
                      "net.ipv4.conf.eth0.proxy_arp=1"}));
    api_.addNode(n.spec);
  }
  return okStatus();
}

void NetnsKubelet::event(const json& pod, const std::string& type, const std::string& reason,
                         const std::string& msg) {
  const json& md = pod["metadata"];
  std::string ts = rfc3339(clock_.wallMillis());
  json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata",
              {{"name", md.value("name", "") + "." + hexId(8)}, {"namespace", md.value("namespace", "")}}},
             {"involvedObject",
              {{"apiVersion", "v1"},
               {"kind", "Pod"},
               {"namespace", md.value("namespace", "")},
               {"name", md.value("name", "")},
               {"uid", md.value("uid", "")}}},
             {"reason", reason},
             {"message", msg},
             {"type", type},
             {"source", {{"component", "kubelet"}, {"host", pod["spec"].value("nodeName", "")}}},
             {"firstTimestamp", ts},
             {"lastTimestamp", ts},
             {"count", 1},
             {"reportingComponent", "kubelet"},
             {"reportingInstance", pod["spec"].value("nodeName", "")}};
  (void)call("POST", "/api/v1/namespaces/" + md.value("namespace", "") + "/events", ev);
}

Status NetnsKubelet::createSandbox(Pod& p, const json& pod) {
  const KubeletNode* n = node(p.node);
  if (pod["spec"].value("hostNetwork", false)) {
    p.netns = n->netns;
    p.ip = n->spec.ip;
    p.sandbox = true;
    return okStatus();
  }
  if (p.ip.empty()) {
    FLB_ASSIGN_OR_RETURN(p.ip, ips_.assign(n->eni));
    p.eni = n->eni;
    writeFile(p.dir + "/ip", p.eni + " " + p.ip + "\n");
    FLB_INFO(kLog, "pod {}/{}: {} on {} ({})", p.ns, p.name, p.ip, p.eni, p.node);
  }
  std::string h = fmt::format("{:08x}", static_cast<uint32_t>(std::hash<std::string>{}(p.uid)));
  p.netns = cfg_.prefix + "p-" + h;
  p.veth = "ksv" + h;
  std::string mac =
      fmt::format("02:6b:{}:{}:{}:{}", h.substr(0, 2), h.substr(2, 2), h.substr(4, 2), h.substr(6, 2));
  writeFile(p.dir + "/netns", p.netns + "\n");
  (void)cmd_.run({"ip", "netns", "del", p.netns});  // a half-made one from a failed attempt
  FLB_TRY(cmd_.run({"ip", "netns", "add", p.netns}));
  FLB_TRY(cmd_.run({"ip", "-n", n->netns, "link", "add", p.veth, "address", mac, "type", "veth", "peer",
                    "name", "eth0", "netns", p.netns}));
  FLB_TRY(cmd_.run({"ip", "-n", n->netns, "link", "set", p.veth, "up"}));
  FLB_TRY(cmd_.run({"ip", "-n", p.netns, "link", "set", "lo", "up"}));
  FLB_TRY(cmd_.run({"ip", "-n", p.netns, "link", "set", "eth0", "up"}));
  FLB_TRY(cmd_.run({"ip", "-n", p.netns, "addr", "add", p.ip + "/32", "dev", "eth0"}));
  FLB_TRY(cmd_.run({"ip", "-n", p.netns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link"}));
  FLB_TRY(cmd_.run({"ip", "-n", p.netns, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0"}));
  FLB_TRY(cmd_.run({"ip", "-n", p.netns, "neigh", "replace", "169.254.1.1", "lladdr", mac, "dev", "eth0",
                    "nud", "permanent"}));
  FLB_TRY(cmd_.run({"ip", "-n", n->netns, "route", "replace", p.ip + "/32", "dev", p.veth, "scope", "link"}));
  p.sandbox = true;
  return okStatus();
}

std::string NetnsKubelet::serviceAccountDir(const Pod& p, const json& pod) {
  std::string sa = pod["spec"].value("serviceAccountName", "default");
  std::string key = p.ns + "/" + sa;
  if (!saTokens_.count(key)) {
    saTokens_[key] = hexId(24);
    std::ofstream(cfg_.tokensFile, std::ios::app)
        << saTokens_[key] << ",system:serviceaccount:" << p.ns << ":" << sa << ",system:serviceaccounts\n";
  }
  std::string dir = p.dir + "/serviceaccount";
  std::filesystem::create_directories(dir);
  writeFile(dir + "/token", saTokens_[key]);
  writeFile(dir + "/namespace", p.ns);
  std::ifstream ca(cfg_.caFile);
  std::string caPem((std::istreambuf_iterator<char>(ca)), std::istreambuf_iterator<char>());
  writeFile(dir + "/ca.crt", caPem);
  return dir;
}

void NetnsKubelet::prepareContainers(Pod& p, const json& pod) {
  std::string saDir = serviceAccountDir(p, pod);
  for (const auto& c : pod["spec"].value("containers", json::array())) {
    Container k;
    k.obs.name = c.value("name", "");
    k.obs.image = c.value("image", "");
    k.kind = imageKind(k.obs.image);
    std::string cdir = p.dir + "/" + k.obs.name;
    std::filesystem::create_directories(cdir + "/tmp");
    if (k.kind == ImageKind::kNginx) {
      std::vector<int> ports;
      for (const auto& port : c.value("ports", json::array())) {
        if (port.value("protocol", "TCP") == "TCP") ports.push_back(port.value("containerPort", 80));
      }
      if (ports.empty()) ports.push_back(80);
      writeFile(cdir + "/nginx.conf", nginxConf(cdir, ports));
      k.argv = {"/usr/sbin/nginx", "-p", cdir + "/", "-e", cdir + "/error.log", "-c", cdir + "/nginx.conf"};
    } else if (k.kind == ImageKind::kOperator) {
      k.argv = {cfg_.operatorBinary};
      json cmdv = c.value("command", json::array());
      for (size_t i = 1; i < cmdv.size(); ++i) k.argv.push_back(cmdv[i].get<std::string>());
      for (const auto& a : c.value("args", json::array())) k.argv.push_back(a.get<std::string>());
    } else {
      k.obs.pullFailed = true;
      k.obs.pullFailedAt = clock_.wallMillis();
      event(pod, "Warning", "Failed",
            "Failed to pull image \"" + k.obs.image + "\": failed to resolve reference \"" + k.obs.image +
                "\": not found");
    }
    k.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "HOSTNAME=" + p.name,
             "KUBERNETES_SERVICE_HOST=" + cfg_.apiHost,
             "KUBERNETES_SERVICE_PORT=" + std::to_string(cfg_.apiPort),
             "KUBERNETES_SERVICE_PORT_HTTPS=" + std::to_string(cfg_.apiPort),
             "KUBE_FLOATLB_SA_DIR=" + saDir};
    for (const auto& e : c.value("env", json::array())) {
      std::string v = e.value("value", "");
      if (e.contains("valueFrom")) {
        std::string f = e["valueFrom"].value("fieldRef", json::object()).value("fieldPath", "");
        v = f == "metadata.name"        ? p.name
            : f == "metadata.namespace" ? p.ns
            : f == "spec.nodeName"      ? p.node
            : f == "status.podIP"       ? p.ip
                                        : "";
      }
      k.env.push_back(e.value("name", "") + "=" + v);
    }
    p.containers.push_back(std::move(k));
  }
}

void NetnsKubelet::runContainers(Pod& p) {
  int64_t now = clock_.wallMillis();
  for (auto& c : p.containers) {
    if (c.obs.pullFailed) continue;
    std::string pidFile = p.dir + "/" + c.obs.name + ".pid";
    if (c.pid > 0) {
      auto code = procs_.exited(c.pid);
      if (!code) continue;
      FLB_INFO(kLog, "pod {}/{} container {} exited ({})", p.ns, p.name, c.obs.name, *code);
      std::filesystem::remove(pidFile);
      c.pid = -1;
      c.obs.running = false;
      c.obs.exitCode = *code;
      c.obs.finishedAt = now;
      c.obs.lastState = {{"terminated",
                          {{"exitCode", *code},
                           {"reason", *code == 0 ? "Completed" : "Error"},
                           {"startedAt", rfc3339(c.obs.startedAt)},
                           {"finishedAt", rfc3339(now)},
                           {"containerID", c.obs.containerId}}}};
      if (shouldRestart(p.restartPolicy, *code)) {
        c.obs.backingOff = true;
        c.restartAt = now + restartDelayMs(c.obs.restartCount, cfg_.restartBaseMs);
      } else {
        c.obs.terminated = true;
      }
    }
    if (c.pid > 0 || c.obs.terminated || now < c.restartAt) continue;
    auto pid = procs_.start(p.netns, c.argv, c.env, p.dir + "/" + c.obs.name + ".log");
    if (!pid.ok()) {
      FLB_WARN(kLog, "pod {}/{} container {}: {}", p.ns, p.name, c.obs.name, pid.error().message);
      c.restartAt = now + 1000;
      continue;
    }
    c.pid = *pid;
    std::error_code ec;
    writeFile(pidFile, fmt::format("{}\n{}\n", *pid, std::filesystem::canonical(c.argv[0], ec).string()));
    if (c.obs.startedAt > 0) ++c.obs.restartCount;
    c.obs.running = true;
    c.obs.backingOff = false;
    c.obs.startedAt = now;
    c.obs.containerId = "containerd://" + hexId(32);
  }
}

void NetnsKubelet::writeStatus(const Pod& p, const json& pod) {
  PodObs obs;
  obs.hostIp = node(p.node)->spec.ip;
  obs.podIp = p.ip;
  obs.sandboxReady = p.sandbox;
  obs.startTime = p.startTime;
  for (const auto& c : p.containers) obs.containers.push_back(c.obs);
  json old = pod.value("status", json::object());
  json st = podStatus(old, obs, clock_.wallMillis());
  if (st == old) return;
  json next = pod;
  next["status"] = st;
  Response r = call("PUT", podPath(p.ns, p.name) + "/status", next);
  if (r.code != 200) FLB_WARN(kLog, "pod {}/{}: status update {}: {}", p.ns, p.name, r.code, r.body);
  bool wasRunning = old.value("phase", "") == "Running";
  if (!wasRunning && st.value("phase", "") == "Running") {
    for (const auto& c : p.containers) {
      event(pod, "Normal", "Pulled", "Container image \"" + c.obs.image + "\" already present on machine");
      event(pod, "Normal", "Created", "Created container " + c.obs.name);
      event(pod, "Normal", "Started", "Started container " + c.obs.name);
    }
  }
}

void NetnsKubelet::teardown(Pod& p) {
  for (auto& c : p.containers) {
    if (c.pid > 0) {
      procs_.stop(c.pid, cfg_.stopGrace);
      c.pid = -1;
    }
  }
  if (!p.veth.empty()) (void)cmd_.run({"ip", "netns", "del", p.netns});
  if (!p.eni.empty()) {
    if (auto st = ips_.release(p.eni, p.ip); !st.ok()) {
      FLB_WARN(kLog, "pod {}/{}: releasing {}: {}", p.ns, p.name, p.ip, st.error().message);
    }
  }
  FLB_INFO(kLog, "pod {}/{}: torn down ({} released)", p.ns, p.name, p.ip);
  std::error_code ec;
  std::filesystem::remove_all(p.dir, ec);
}

void NetnsKubelet::sync() {
  Response r = call("GET", "/api/v1/pods");
  json list = json::parse(r.body, nullptr, false);
  if (!list.is_object()) return;
  int64_t now = clock_.wallMillis();
  std::set<std::string> seen;
  for (const auto& pod : list.value("items", json::array())) {
    std::string nodeName = pod["spec"].value("nodeName", "");
    if (!node(nodeName)) continue;
    const json& md = pod["metadata"];
    std::string uid = md.value("uid", "");
    seen.insert(uid);
    auto it = pods_.find(uid);
    if (md.contains("deletionTimestamp")) {
      if (it != pods_.end()) {
        for (const auto& c : it->second.containers) {
          if (c.pid > 0) event(pod, "Normal", "Killing", "Stopping container " + c.obs.name);
        }
        teardown(it->second);
        pods_.erase(it);
      }
      json opts = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}, {"gracePeriodSeconds", 0}};
      (void)call("DELETE", podPath(md.value("namespace", ""), md.value("name", "")), opts);
      continue;
    }
    if (it == pods_.end()) {
      std::string phase = pod.value("status", json::object()).value("phase", "");
      if (phase == "Succeeded" || phase == "Failed") continue;  // finished before we (re)started
      Pod p;
      p.uid = uid;
      p.ns = md.value("namespace", "");
      p.name = md.value("name", "");
      p.node = nodeName;
      p.restartPolicy = pod["spec"].value("restartPolicy", "Always");
      p.dir = cfg_.stateDir + "/pods/" + p.ns + "_" + p.name + "_" + uid.substr(0, 8);
      p.startTime = now;
      std::filesystem::create_directories(p.dir);
      it = pods_.emplace(uid, std::move(p)).first;
      prepareContainers(it->second, pod);
    }
    Pod& p = it->second;
    if (!p.sandbox) {
      if (auto st = createSandbox(p, pod); !st.ok()) {
        FLB_WARN(kLog, "pod {}/{}: sandbox: {}", p.ns, p.name, st.error().message);
        continue;
      }
    }
    runContainers(p);
    writeStatus(p, pod);
  }
  for (auto it = pods_.begin(); it != pods_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    teardown(it->second);
    it = pods_.erase(it);
  }
  syncProxy();
}

void NetnsKubelet::syncProxy() {
  json svcs = json::parse(call("GET", "/api/v1/services").body, nullptr, false);
  json slices = json::parse(call("GET", "/apis/discovery.k8s.io/v1/endpointslices").body, nullptr, false);
  if (!svcs.is_object() || !slices.is_object()) return;
  const json& s = svcs["items"];
  const json& e = slices["items"];
  for (const auto& n : nodes_) {
    std::string text = nftRuleset(proxyRules(n.spec.name, s, e));
    if (applied_[n.spec.name] != text) {
      if (auto st = cmd_.run({"ip", "netns", "exec", n.netns, "nft", "-f", "-"}, text); st.ok()) {
        applied_[n.spec.name] = text;
      } else {
        FLB_WARN(kLog, "kube-proxy {}: nft: {}", n.spec.name, st.error().message);
      }
    }
    health_.set(n.spec.name, n.netns, healthChecks(n.spec.name, s, e));
  }
}

void NetnsKubelet::shutdown() {
  for (auto& [uid, p] : pods_) teardown(p);
  pods_.clear();
  for (const auto& n : nodes_) {
    health_.set(n.spec.name, n.netns, {});
    (void)cmd_.run({"ip", "netns", "exec", n.netns, "nft", "delete", "table", "ip", "kubesim"});
  }
  applied_.clear();
}

std::map<std::string, std::string> parseEnvFile(const std::string& text) {
  std::map<std::string, std::string> env;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (auto eq = line.find('='); eq != std::string::npos && line[0] != '#') {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    start = end + 1;
  }
  return env;
}

std::vector<KubeletNode> vpcsimNodes(const std::map<std::string, std::string>& env) {
  std::vector<KubeletNode> out;
  const std::string pre = "VPCSIM_INSTANCE_";
  auto get = [&](const std::string& k) {
    auto it = env.find(k);
    return it == env.end() ? std::string() : it->second;
  };
  std::string region = get("VPCSIM_REGION");
  for (const auto& [k, v] : env) {
    if (k.rfind(pre + "NODE", 0) != 0) continue;
    std::string name = k.substr(pre.size());
    KubeletNode n;
    n.spec.instanceId = v;
    n.spec.ip = get("VPCSIM_IP_" + name);
    n.netns = get("VPCSIM_NS_" + name);
    n.eni = get("VPCSIM_ENI_" + name);
    if (n.spec.ip.empty() || n.netns.empty() || n.eni.empty()) continue;
    std::string dashed = n.spec.ip;
    std::replace(dashed.begin(), dashed.end(), '.', '-');
    n.spec.name = fmt::format("ip-{}.{}.compute.internal", dashed, region);
    n.spec.maxPods = 5;  // vpcsim's t3.medium: 6 IPs per ENI, one is the node's
    out.push_back(n);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> cleanupPods(const std::string& stateDir,
                                                             const std::string& prefix,
                                                             sim::CommandRunner& cmd) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> ips;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(stateDir + "/pods", ec)) {
    for (const auto& f : fs::directory_iterator(d.path(), ec)) {
      if (f.path().extension() != ".pid") continue;
      std::ifstream in(f.path());
      pid_t pid = 0;
      std::string exe;
      if (!(in >> pid >> exe) || pid <= 1) continue;
      // Only our container: its executable is the one we recorded (PIDs are reused).
      std::error_code e2;
      if (fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", e2) != fs::path(exe)) continue;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
    }
    std::ifstream ipf(d.path() / "ip");
    std::string eni, ip;
    if (ipf >> eni >> ip) ips.emplace_back(eni, ip);
  }
  if (prefix.size() >= 2) (void)sim::Realiser::teardownPrefix(cmd, prefix + "p-");
  fs::remove_all(stateDir + "/pods", ec);
  return ips;
}

}  // namespace floatlb::kubesim
