#include "daemon/daemon.h"

#include <net/if.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "api/server.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/version.h"
#include "daemon/bpffs.h"
#include "daemon/cloud_bridge.h"
#include "daemon/composition.h"
#include "daemon/ha_view.h"
#include "daemon/health_bridge.h"
#include "daemon/system_adapters.h"
#include "dataplane/libbpf_datapath.h"
#include "ha/ci_state.h"
#include "ha/heartbeat_service.h"
#include "ha/sync_service.h"
#include "ha/vip.h"
#include "lb/rule_manager.h"

namespace floatlb::daemon {

namespace {

constexpr auto kAgingInterval = std::chrono::seconds(1);
constexpr auto kInterfaceScanInterval = std::chrono::seconds(1);

std::vector<std::string> systemInterfaces() {
  std::vector<std::string> out;
  if (auto* list = if_nameindex()) {
    for (auto* p = list; p->if_index != 0; ++p) out.emplace_back(p->if_name);
    if_freenameindex(list);
  }
  return out;
}

// Interfaces the daemon should serve right now: the configured list, or every non-loopback
// interface not matching --blacklist (checked in build()).
std::vector<std::string> wantedInterfaces(const Options& o) {
  if (!o.interfaces.empty()) return o.interfaces;
  auto r = selectInterfaces(systemInterfaces(), o.blacklist);
  return r.ok() ? *r : std::vector<std::string>{};
}

Result<std::string> readFile(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in)
    return makeError(ErrorCode::kInvalidArgument, std::string(flag) + " " + path + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Stopper {
 public:
  void stop() {
    std::lock_guard l(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  // Waits up to `d`; returns false when stopping.
  bool waitFor(std::chrono::milliseconds d) {
    std::unique_lock l(mu_);
    return !cv_.wait_for(l, d, [this] { return stopped_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

// Runs the HA hook script (if it exists) without waiting for it; a reaper thread collects it.
void runHook(const std::string& path, const std::string& instance, const std::string& state,
             const std::string& vip) {
  if (path.empty() || ::access(path.c_str(), X_OK) != 0) return;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(path.c_str(), path.c_str(), instance.c_str(), state.c_str(), vip.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid > 0) {
    std::thread([pid] {
      int status = 0;
      ::waitpid(pid, &status, 0);
    }).detach();
  }
}

// One REST connection is one file descriptor: allow as many as the hard limit permits.
void raiseFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

sigset_t daemonSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  return sigs;
}

}  // namespace

// Members in construction order; destruction runs in reverse, after stop().
struct Daemon::Parts {
  SteadyClock clock;
  std::vector<Ip4> peers;
  std::optional<ha::KaConfig> ka;
  std::string ha_key;
  std::vector<std::string> tokens;

  std::unique_ptr<dataplane::LibbpfDatapath> datapath;
  KernelSourceResolver resolver;
  std::unique_ptr<FileRuleStore> store;
  std::unique_ptr<HealthBridge> health;
  std::unique_ptr<lb::RuleManager> rules;
  std::unique_ptr<ha::CiStateTable> cistate;
  ha::NetlinkAddressOps addr_ops;
  std::unique_ptr<ha::VipManager> vips;
  std::unique_ptr<ha::SyncService> sync;
  std::unique_ptr<ha::HeartbeatService> heartbeat;
  std::unique_ptr<HaServices> ha_view;
  std::unique_ptr<CloudBridge> cloud;
  std::unique_ptr<api::ApiServer> server;

  Stopper stopper;
  std::thread aging;
  std::thread ifwatch;
};

Daemon::Daemon(Options options) : o_(std::move(options)), p_(std::make_unique<Parts>()) {}

Daemon::~Daemon() = default;

// build() = the steps below, in this order; each fails with the flag or component at fault.
Status Daemon::build() {
  FLB_TRY(readFlags());
  // The stop signals are blocked in every thread from here on; waitForSignal() takes them.
  sigset_t sigs = daemonSignals();
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  raiseFileLimit();
  FLB_TRY(openDatapath());
  FLB_TRY(restoreRules());
  buildHa();
  FLB_TRY(buildCloud());
  buildApi();
  return okStatus();
}

// Flags and the files they name (HA key, API tokens); nothing is started.
Status Daemon::readFlags() {
  log::Level level;
  if (!log::parseLevel(o_.loglevel, &level))
    return makeError(ErrorCode::kInvalidArgument, "--loglevel: unknown level '" + o_.loglevel + "'");
  log::setLevel(level);
  if (!o_.logfile.empty()) log::setFile(o_.logfile);
  auto& p = *p_;
  FLB_ASSIGN_OR_RETURN(p.peers, parsePeers(o_.cluster));
  if (o_.ka != "none") {
    FLB_ASSIGN_OR_RETURN(p.ka, ha::parseKa(o_.ka));
  }
  if (!o_.ha_key_file.empty()) {
    FLB_ASSIGN_OR_RETURN(auto text, readFile(o_.ha_key_file, "--ha-key-file"));
    p.ha_key = text.substr(0, text.find('\n'));
    if (p.ha_key.empty())
      return makeError(ErrorCode::kInvalidArgument,
                       "--ha-key-file " + o_.ha_key_file + ": cannot read a non-empty first line");
  }
  if (!o_.api_token_file.empty()) {
    FLB_ASSIGN_OR_RETURN(auto text, readFile(o_.api_token_file, "--api-token-file"));
    auto tokens = parseTokenFile(text);
    if (!tokens) return tokens.error().wrap("--api-token-file " + o_.api_token_file);
    p.tokens = std::move(*tokens);
  }
  if (o_.interfaces.empty()) FLB_TRY(selectInterfaces({}, o_.blacklist));
  return okStatus();
}

// bpffs (mounted when missing), then the datapath: loaded, or the pinned one adopted.
Status Daemon::openDatapath() {
  FLB_TRY(ensureBpffs(o_.bpf_pin_dir));
  dataplane::LibbpfDatapath::Options dp_opts;
  dp_opts.pin_dir = o_.bpf_pin_dir;
  dp_opts.interfaces = wantedInterfaces(o_);
  auto dp = dataplane::LibbpfDatapath::open(dp_opts);
  if (!dp) return dp.error().wrap("cannot start the datapath");
  p_->datapath = std::move(*dp);
  return okStatus();
}

// The rule table over the rule file, with health probes; the saved rules are reprogrammed.
Status Daemon::restoreRules() {
  auto& p = *p_;
  p.store = std::make_unique<FileRuleStore>(o_.config_path);
  p.health = std::make_unique<HealthBridge>(p.clock);
  p.rules = std::make_unique<lb::RuleManager>(*p.datapath, p.resolver, p.store.get(), p.health.get());
  p.health->connect(p.rules.get());
  p.health->start();  // before restore(): the restored rules hand it their probe targets
  auto saved = p.store->load();
  if (!saved) return saved.error().wrap("cannot read saved rules");
  if (auto s = p.rules->restore(*saved); !s.ok()) return s.error().wrap("cannot restore saved rules");
  return okStatus();
}

// VIP ownership follows the state table; heartbeats decide roles with --ka (else the operator or
// kube-floatlb does through the API); connections are synced with --cluster peers.
void Daemon::buildHa() {
  auto& p = *p_;
  p.cistate = std::make_unique<ha::CiStateTable>(p.clock);
  (void)p.cistate->set(lb::kDefaultHaInstance, ha::CiState::kNotDefined, Ip4());
  p.vips = std::make_unique<ha::VipManager>(
      p.addr_ops, *p.cistate,
      [rules = p.rules.get()] {
        std::vector<ha::VipBinding> out;
        for (const auto& [ip, inst] : rules->vipBindings()) out.push_back({ip, inst});
        return out;
      },
      p.clock);
  if (!p.peers.empty()) {
    ha::SyncConfig sc;
    sc.peers = p.peers;
    sc.node_id = static_cast<uint32_t>(o_.self);
    sc.key = p.ha_key;
    p.sync = std::make_unique<ha::SyncService>(sc, *p.datapath, *p.cistate, lb::kDefaultHaInstance, p.clock);
  }
  if (p.ka) {
    p.ka->key = p.ha_key;
    // Next to the saved rules: a restarted node resumes from the highest epoch it knew.
    p.ka->epoch_file = (std::filesystem::path(o_.config_path) / "ha.epoch").string();
    p.heartbeat = std::make_unique<ha::HeartbeatService>(*p.ka, static_cast<uint32_t>(o_.self),
                                                         lb::kDefaultHaInstance, *p.cistate, p.clock);
  }
  p.ha_view = std::make_unique<HaServices>(*p.cistate, p.heartbeat.get(), p.sync.get());
  p.cistate->addObserver([this](const ha::CiInstance& ci, ha::CiState previous) {
    p_->vips->reconcile();
    p_->ha_view->noteTransition(ci, previous, !p_->sync || p_->sync->inSync());
    runHook(o_.ha_hook, ci.name, ha::ciStateName(ci.state), ci.vip.str());
  });
}

// --cloud=aws: the MASTER moves the VIP subnet/ENI/VIP/EIP into its own AZ (docs/cloud-hook.md).
Status Daemon::buildCloud() {
  auto& p = *p_;
  auto cloud = makeCloudBridge(o_, *p.cistate, *p.rules, p.clock);
  if (!cloud) return cloud.error().wrap("cloud");
  p.cloud = std::move(*cloud);
  if (p.cloud && p.heartbeat) {
    p.cloud->setStepDown([hb = p.heartbeat.get()](const std::string& reason, bool peer_holds) {
      FLB_WARN("cloud", "stepping down: {}", reason);
      if (peer_holds) {
        hb->cloudStepDown(reason);  // held in BACKUP until the peer is heard (no flip-flop)
      } else {
        hb->adminSet(ha::CiState::kBackup);
      }
    });
  }
  if (p.cloud && o_.interfaces.empty()) {
    // The ENI that arrives at takeover gets the datapath before it comes up (the interface scan
    // would find it within a second, by which time the EIP may already send traffic there).
    p.cloud->setLinkReady(
        [dp = p.datapath.get()](const std::string& ifname) { return dp->attachInterface(ifname); });
  }
  return okStatus();
}

// The REST API over everything above (it listens only in start()).
void Daemon::buildApi() {
  auto& p = *p_;
  api::ApiDeps deps;
  deps.rules = p.rules.get();
  deps.datapath = p.datapath.get();
  deps.cistate = p.cistate.get();
  deps.health = p.health.get();
  if (p.sync || p.heartbeat) deps.ha = p.ha_view.get();
  deps.cloud = p.cloud.get();
  deps.tokens = p.tokens;
  deps.version = projectVersion();
  deps.build_info = "floatlb";
  p.server = std::make_unique<api::ApiServer>(std::move(deps));
}

Status Daemon::start() {
  auto& p = *p_;
  if (p.sync) FLB_TRY(p.sync->start());
  if (p.heartbeat) FLB_TRY(p.heartbeat->start());
  if (p.cloud) {
    if (auto s = p.cloud->start(); !s.ok()) return s.error().wrap("cloud");
  }
  FLB_TRY(p.server->start(api::ListenConfig{o_.host, o_.port, o_.tls_cert, o_.tls_key, o_.tls_port}));
  if (p.tokens.empty() && !isLoopbackHost(o_.host)) {
    FLB_WARN("api",
             "the REST API listens on {} without authentication: anyone who reaches port {} can change the "
             "rules; pass --api-token-file (docs/security.md)",
             o_.host, p.server->port());
  }
  p.aging = std::thread([this] {
    auto& q = *p_;
    while (q.stopper.waitFor(kAgingInterval)) {
      q.vips->reconcile();  // new rules bring new VIPs; held VIPs are re-announced when due
      auto r = q.datapath->ageConntrack(q.clock.now());
      if (!r.ok())
        FLB_WARN("ct", "aging pass failed: {}", r.error().message);
      else if (r->removed)
        FLB_DEBUG("ct", "aged {} of {} entries", r->removed, r->examined);
    }
  });
  if (o_.interfaces.empty()) {
    p.ifwatch = std::thread([this] {
      auto& q = *p_;
      while (q.stopper.waitFor(kInterfaceScanInterval)) {
        auto attached = q.datapath->attachedInterfaces();
        if (!attached.ok()) continue;
        std::set<std::string> have(attached->begin(), attached->end());
        for (const auto& name : wantedInterfaces(o_)) {
          if (have.count(name)) continue;
          if (auto s = q.datapath->attachInterface(name); s.ok())
            FLB_INFO("dp", "attached to new interface {}", name);
          else
            FLB_DEBUG("dp", "attach {}: {}", name, s.error().message);
        }
      }
    });
  }
  FLB_INFO("main", "floatlb ready: {} rules, API on {}:{}", p.rules->size(), o_.host, p.server->port());
  return okStatus();
}

int Daemon::waitForSignal() {
  sigset_t sigs = daemonSignals();
  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGHUP) {
      FLB_INFO("main", "SIGHUP received: re-reading the TLS certificate");
      if (auto s = p_->server->reloadTls(); !s.ok())
        FLB_ERROR("api", "TLS reload failed, keeping the old certificate: {}", s.error().message);
      continue;
    }
    FLB_INFO("main", "signal {} received, stopping", sig);
    return sig;
  }
}

// Shutdown order (the reverse of start): background loops, then the REST API (no more
// changes), the cloud hook (it may still need the HA state to decide whether this is the last
// node), heartbeats, sync, probes; the datapath stays attached unless --detach-on-exit.
void Daemon::stop() {
  auto& p = *p_;
  p.stopper.stop();
  if (p.aging.joinable()) p.aging.join();
  if (p.ifwatch.joinable()) p.ifwatch.join();
  if (p.server) p.server->stop();
  if (p.cloud) {
    p.cloud->stop(isLastNode(p.cistate->state(lb::kDefaultHaInstance), p.heartbeat != nullptr,
                             p.heartbeat && p.heartbeat->stats().peer_alive));
  }
  if (p.heartbeat) p.heartbeat->stop();
  if (p.sync) p.sync->stop();
  if (p.health) p.health->stop();
  if (!p.datapath) return;
  if (o_.detach_on_exit) {
    if (auto s = p.datapath->detachAll(); !s.ok())
      FLB_WARN("main", "detach: {}", s.error().message);
    else
      FLB_INFO("main", "datapath detached");
  } else {
    FLB_INFO("main", "datapath left in place: forwarding continues until the next start re-adopts it");
  }
}

int run(const Options& options) {
  Daemon d(options);
  if (auto s = d.build(); !s.ok()) {
    FLB_ERROR("main", "{}", s.error().message);
    d.stop();
    return s.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  if (auto s = d.start(); !s.ok()) {
    FLB_ERROR("main", "{}", s.error().message);
    d.stop();
    return 1;
  }
  d.waitForSignal();
  d.stop();
  return 0;
}

}  // namespace floatlb::daemon
