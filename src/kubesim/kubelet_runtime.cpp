// The real ProcessRuntime (fork + setns + exec), HealthListeners (src/http servers bound inside node
// namespaces) and PodIpAllocator (vpcsim's EC2 API through floatlb's own EC2 client).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cloud/aws/bootstrap.h"
#include "common/log.h"
#include "http/server.h"
#include "kubesim/kubelet.h"

namespace floatlb::kubesim {

namespace {

constexpr const char* kLog = "kubesim.kubelet";

class ForkRuntime final : public ProcessRuntime {
 public:
  Result<pid_t> start(const std::string& netns, const std::vector<std::string>& argv,
                      const std::vector<std::string>& env, const std::string& logFile) override {
    if (argv.empty()) return makeError(ErrorCode::kInvalidArgument, "empty argv");
    int nsfd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return makeError(ErrorCode::kIo, "no netns " + netns);
    int logfd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int nullfd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    // Everything the child touches is prepared before fork (only async-signal-safe calls after it).
    std::vector<char*> av, ev;
    for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : env) ev.push_back(const_cast<char*>(e.c_str()));
    av.push_back(nullptr);
    ev.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      if (setns(nsfd, CLONE_NEWNET) != 0) _exit(126);
      setsid();
      if (nullfd >= 0) dup2(nullfd, STDIN_FILENO);
      if (logfd >= 0) {
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
      }
      execve(av[0], av.data(), ev.data());
      _exit(127);
    }
    ::close(nsfd);
    if (logfd >= 0) ::close(logfd);
    if (nullfd >= 0) ::close(nullfd);
    if (pid < 0) return makeError(ErrorCode::kIo, "fork failed");
    return pid;
  }

  std::optional<int> exited(pid_t pid) override {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == 0) return std::nullopt;
    if (r < 0) return 255;  // not our child any more
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

  void stop(pid_t pid, std::chrono::milliseconds grace) override {
    kill(-pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid, nullptr, WNOHANG) != 0) {
        kill(-pid, SIGKILL);  // stragglers of its group (e.g. nginx workers)
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

// One floatlb::http::Server (libmicrohttpd, src/http) per (node, port), its socket made inside the
// node namespace by a short-lived thread (the server's own threads serve it from there).
class NodeHealth final : public HealthListeners {
 public:
  void set(const std::string& node, const std::string& netns, const std::vector<HealthCheck>& hcs) override {
    std::set<std::string> want;
    for (const auto& h : hcs) {
      std::string key = node + ":" + std::to_string(h.port);
      want.insert(key);
      auto it = listeners_.find(key);
      if (it == listeners_.end()) {
        auto l = open(netns, h);
        if (!l) continue;
        it = listeners_.emplace(key, std::move(l)).first;
      }
      std::lock_guard<std::mutex> g(it->second->mu);
      it->second->hc = h;
    }
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (it->first.rfind(node + ":", 0) == 0 && !want.count(it->first)) {
        it->second->server->stop();
        it = listeners_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  struct Listener {
    std::mutex mu;
    HealthCheck hc;
    std::unique_ptr<http::Server> server;
  };

  static std::unique_ptr<Listener> open(const std::string& netns, const HealthCheck& h) {
    auto l = std::make_unique<Listener>();
    l->hc = h;
    Listener* raw = l.get();
    http::Handler handler = [raw](const http::Request&) {
      std::lock_guard<std::mutex> g(raw->mu);
      return http::Response{healthCode(raw->hc),
                            "application/json",
                            healthBody(raw->hc),
                            {{"X-Content-Type-Options", "nosniff"}}};
    };
    Result<std::unique_ptr<http::Server>> started = makeError(ErrorCode::kIo, "cannot enter " + netns);
    std::thread t([&] {
      int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      bool in = fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
      if (fd >= 0) ::close(fd);
      if (!in) return;
      http::Options o;
      o.port = static_cast<uint16_t>(h.port);
      o.threads = 1;
      started = http::Server::start(o, handler, [](int, const std::string& m) { return m; });
    });
    t.join();
    if (!started.ok()) {
      FLB_WARN(kLog, "health-check NodePort {} in {}: {}", h.port, netns, started.error().message);
      return nullptr;
    }
    l->server = std::move(*started);
    return l;
  }

  std::map<std::string, std::unique_ptr<Listener>> listeners_;
};

class Ec2PodIps final : public VpcsimEc2 {
 public:
  explicit Ec2PodIps(std::unique_ptr<cloud::aws::AwsStack> stack) : stack_(std::move(stack)) {}

  Result<std::string> assign(const std::string& eni) override {
    // vpcsim picks the address (SecondaryPrivateIpAddressCount=1, as the VPC CNI's ipamd asks);
    // the new one is the difference of the ENI's address lists around the call.
    FLB_ASSIGN_OR_RETURN(auto before, addresses(eni));
    auto r = stack_->ec2->call(cloud::aws::QueryParams("AssignPrivateIpAddresses")
                                   .set("NetworkInterfaceId", eni)
                                   .setInt("SecondaryPrivateIpAddressCount", 1));
    if (!r.ok()) return r.error().toError();
    FLB_ASSIGN_OR_RETURN(auto after, addresses(eni));
    for (const auto& ip : after) {
      if (std::find(before.begin(), before.end(), ip) == before.end()) return ip;
    }
    return makeError(ErrorCode::kInternal, "AssignPrivateIpAddresses on " + eni + " added no address");
  }

  Result<std::string> zoneOf(const std::string& instanceId) override {
    auto r = stack_->ec2->describeInstances({}, {instanceId});
    if (!r.ok()) return r.error().toError();
    if (r->empty()) return makeError(ErrorCode::kNotFound, "no instance " + instanceId);
    return r->front().availabilityZone;
  }

  Status release(const std::string& eni, const std::string& ip) override {
    auto r = stack_->ec2->unassignPrivateIpAddresses(eni, {ip});
    if (!r.ok()) return r.error().toError();
    return okStatus();
  }

 private:
  Result<std::vector<std::string>> addresses(const std::string& eni) {
    auto r = stack_->ec2->describeNetworkInterfaces({{"network-interface-id", {eni}}});
    if (!r.ok()) return r.error().toError();
    if (r->empty()) return makeError(ErrorCode::kNotFound, "no ENI " + eni);
    return r->front().privateIpAddresses;
  }

  std::unique_ptr<cloud::aws::AwsStack> stack_;
};

}  // namespace

std::unique_ptr<ProcessRuntime> makeProcessRuntime() { return std::make_unique<ForkRuntime>(); }
std::unique_ptr<HealthListeners> makeHealthListeners() { return std::make_unique<NodeHealth>(); }

Result<std::unique_ptr<VpcsimEc2>> makeVpcsimEc2(const std::string& endpoint, const std::string& region,
                                                 const std::string& accessKey, const std::string& secretKey,
                                                 const Clock& clock) {
  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", accessKey},
                                            {"AWS_SECRET_ACCESS_KEY", secretKey},
                                            {"AWS_EC2_METADATA_DISABLED", "true"}};
  cloud::aws::EnvLookup lookup = [env](std::string_view k) -> std::optional<std::string> {
    auto it = env.find(std::string(k));
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  FLB_ASSIGN_OR_RETURN(auto stack, cloud::aws::makeAwsStack(lookup, {endpoint, region, true}, clock));
  return std::unique_ptr<VpcsimEc2>(std::make_unique<Ec2PodIps>(std::move(stack)));
}

}  // namespace floatlb::kubesim
