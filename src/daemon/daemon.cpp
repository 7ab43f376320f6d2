#include "daemon/daemon.h"

#include <net/if.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "api/server.h"
#include "common/clock.h"
#include "common/log.h"
#include "daemon/cloud_bridge.h"
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

// Interfaces the daemon should serve right now: the configured list, or every non-loopback
// interface not matching --blacklist.
std::vector<std::string> wantedInterfaces(const Options& o) {
  if (!o.interfaces.empty()) return o.interfaces;
  std::vector<std::string> out;
  std::optional<std::regex> deny;
  if (!o.blacklist.empty()) deny.emplace(o.blacklist);
  if (auto* list = if_nameindex()) {
    for (auto* p = list; p->if_index != 0; ++p) {
      std::string name = p->if_name;
      if (name == "lo") continue;
      if (deny && std::regex_search(name, *deny)) continue;
      out.push_back(name);
    }
    if_freenameindex(list);
  }
  return out;
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

std::vector<Ip4> parsePeers(const std::string& csv, std::string* error) {
  std::vector<Ip4> out;
  if (csv == "none" || csv.empty()) return out;
  std::stringstream ss(csv);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto ip = Ip4::parse(item);
    if (!ip) {
      *error = "--cluster: bad peer address '" + item + "'";
      return {};
    }
    out.push_back(*ip);
  }
  return out;
}

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

}  // namespace

int run(const Options& o) {
  log::Level level;
  if (!log::parseLevel(o.loglevel, &level)) {
    FLB_ERROR("main", "--loglevel: unknown level '{}'", o.loglevel);
    return 2;
  }
  log::setLevel(level);
  if (!o.logfile.empty()) log::setFile(o.logfile);
  std::string err;
  const std::vector<Ip4> peers = parsePeers(o.cluster, &err);
  if (!err.empty()) {
    FLB_ERROR("main", "{}", err);
    return 2;
  }
  std::optional<ha::KaConfig> ka;
  if (o.ka != "none") {
    auto parsed = ha::parseKa(o.ka);
    if (!parsed) {
      FLB_ERROR("main", "{}", parsed.error().message);
      return 2;
    }
    ka = *parsed;
  }
  std::string ha_key;
  if (!o.ha_key_file.empty()) {
    std::ifstream in(o.ha_key_file);
    if (!in || !std::getline(in, ha_key) || ha_key.empty()) {
      FLB_ERROR("main", "--ha-key-file {}: cannot read a non-empty first line", o.ha_key_file);
      return 2;
    }
  }

  // Block the stop signals in every thread; the main thread waits for them with sigwait.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  SteadyClock clock;
  dataplane::LibbpfDatapath::Options dp_opts;
  dp_opts.pin_dir = o.bpf_pin_dir;
  dp_opts.interfaces = wantedInterfaces(o);
  auto dp = dataplane::LibbpfDatapath::open(dp_opts);
  if (!dp) {
    FLB_ERROR("main", "cannot start the datapath: {}", dp.error().message);
    return 1;
  }
  auto& datapath = **dp;

  KernelSourceResolver resolver;
  FileRuleStore store(o.config_path);
  HealthBridge health(clock);
  lb::RuleManager rules(datapath, resolver, &store, &health);
  health.connect(&rules);
  health.start();
  auto saved = store.load();
  if (!saved) {
    FLB_ERROR("main", "cannot read saved rules: {}", saved.error().message);
    return 1;
  }
  if (auto s = rules.restore(*saved); !s.ok()) {
    FLB_ERROR("main", "cannot restore saved rules: {}", s.error().message);
    return 1;
  }

  ha::CiStateTable cistate(clock);
  (void)cistate.set(lb::kDefaultHaInstance, ha::CiState::kNotDefined, Ip4());

  // HA: VIP ownership follows the state table; heartbeats decide roles with --ka (else the
  // operator/kube-floatlb does through the API); connections are synced with --cluster peers.
  ha::NetlinkAddressOps addr_ops;
  ha::VipManager vips(
      addr_ops, cistate,
      [&rules] {
        std::vector<ha::VipBinding> out;
        for (const auto& [ip, inst] : rules.vipBindings()) out.push_back({ip, inst});
        return out;
      },
      clock);
  std::unique_ptr<ha::SyncService> sync;
  std::unique_ptr<ha::HeartbeatService> heartbeat;
  std::atomic<uint64_t> takeovers_out_of_sync{0};
  cistate.addObserver([&](const ha::CiInstance& ci, ha::CiState previous) {
    vips.reconcile();
    if (ci.state == ha::CiState::kMaster && previous != ha::CiState::kMaster && sync && !sync->inSync() &&
        previous != ha::CiState::kNotDefined) {
      ++takeovers_out_of_sync;
      FLB_WARN(
          "ha",
          "{} took over while NOT in sync with its peer: connections opened since the last sync are lost",
          ci.name);
    }
    runHook(o.ha_hook, ci.name, ha::ciStateName(ci.state), ci.vip.str());
  });
  if (!peers.empty()) {
    ha::SyncConfig sc;
    sc.peers = peers;
    sc.node_id = static_cast<uint32_t>(o.self);
    sc.key = ha_key;
    sync = std::make_unique<ha::SyncService>(sc, datapath, cistate, lb::kDefaultHaInstance, clock);
    if (auto s = sync->start(); !s.ok()) {
      FLB_ERROR("main", "{}", s.error().message);
      return 1;
    }
  }
  if (ka) {
    ka->key = ha_key;
    heartbeat = std::make_unique<ha::HeartbeatService>(*ka, static_cast<uint32_t>(o.self),
                                                       lb::kDefaultHaInstance, cistate, clock);
    if (auto s = heartbeat->start(); !s.ok()) {
      FLB_ERROR("main", "{}", s.error().message);
      return 1;
    }
  }

  // --cloud=aws: the MASTER moves the VIP subnet/ENI/VIP/EIP into its own AZ (docs/cloud-hook.md).
  auto cloud = makeCloudBridge(o, cistate, rules, clock);
  if (!cloud) {
    FLB_ERROR("main", "cloud: {}", cloud.error().message);
    return 1;
  }
  if (*cloud && heartbeat) {
    (*cloud)->setStepDown([&heartbeat](const std::string& reason) {
      FLB_WARN("cloud", "stepping down: {}", reason);
      heartbeat->adminSet(ha::CiState::kBackup);
    });
  }
  if (*cloud && o.interfaces.empty()) {
    // The ENI that arrives at takeover gets the datapath before it comes up (the interface scan
    // would find it within a second, by which time the EIP may already send traffic there).
    (*cloud)->setLinkReady(
        [&datapath](const std::string& ifname) { return datapath.attachInterface(ifname); });
  }
  if (*cloud) {
    if (auto s = (*cloud)->start(); !s.ok()) {
      FLB_ERROR("main", "cloud: {}", s.error().message);
      return 1;
    }
  }

  api::ApiDeps deps;
  deps.rules = &rules;
  deps.datapath = &datapath;
  deps.cistate = &cistate;
  deps.version = "0.1.0";
  deps.build_info = "floatlb";
  deps.health = &health;
  if (heartbeat) {
    deps.bfd_json = [&] {
      return api::encodeBfd(lb::kDefaultHaInstance, heartbeat->config(), heartbeat->stats());
    };
    deps.set_cistate = [&](const api::CiStateRequest& req) -> Status {
      if (req.instance != lb::kDefaultHaInstance) {
        auto r = cistate.set(req.instance, req.state, req.vip);
        return r.ok() ? okStatus() : Status(r.error());
      }
      if (req.state != ha::CiState::kMaster && req.state != ha::CiState::kBackup) {
        return makeError(ErrorCode::kInvalidArgument, "with --ka only MASTER or BACKUP can be requested");
      }
      heartbeat->adminSet(req.state);
      return okStatus();
    };
  }
  if (sync || heartbeat) {
    deps.ha_peers_json = [&] {
      ha::CiInstance self;
      for (const auto& ci : cistate.all()) {
        if (ci.name == lb::kDefaultHaInstance) self = ci;
      }
      std::optional<ha::HeartbeatStats> hb;
      if (heartbeat) hb = heartbeat->stats();
      return api::encodeHaPeers(lb::kDefaultHaInstance, self, hb ? &*hb : nullptr,
                                sync ? sync->stats() : std::vector<ha::SyncPeerStats>{},
                                takeovers_out_of_sync.load());
    };
  }
  if (*cloud) deps.cloud_timeline_json = [&] { return (*cloud)->timelineJson(); };
  deps.metrics_text = [&] {
    std::string out =
        "# HELP floatlb_ha_takeovers_out_of_sync_total Takeovers while not in sync with the peer.\n"
        "# TYPE floatlb_ha_takeovers_out_of_sync_total counter\n"
        "floatlb_ha_takeovers_out_of_sync_total " +
        std::to_string(takeovers_out_of_sync.load()) + "\n";
    MetricsWriter ha_metrics;  // the HA services write their own families (appendMetrics)
    if (heartbeat) heartbeat->appendMetrics(ha_metrics);
    if (sync) sync->appendMetrics(ha_metrics);
    out += ha_metrics.str();
    if (*cloud) out += (*cloud)->metricsText();
    return out;
  };
  api::ApiServer server(deps);
  if (auto s = server.start(o.host, o.port); !s.ok()) {
    FLB_ERROR("main", "{}", s.error().message);
    return 1;
  }

  Stopper stopper;
  std::thread aging([&] {
    while (stopper.waitFor(kAgingInterval)) {
      vips.reconcile();  // new rules bring new VIPs; held VIPs are re-announced when due
      auto r = datapath.ageConntrack(clock.now());
      if (!r.ok())
        FLB_WARN("ct", "aging pass failed: {}", r.error().message);
      else if (r->removed)
        FLB_DEBUG("ct", "aged {} of {} entries", r->removed, r->examined);
    }
  });
  std::thread ifwatch([&] {
    if (!o.interfaces.empty()) return;
    while (stopper.waitFor(kInterfaceScanInterval)) {
      auto attached = datapath.attachedInterfaces();
      if (!attached.ok()) continue;
      std::set<std::string> have(attached->begin(), attached->end());
      for (const auto& name : wantedInterfaces(o)) {
        if (have.count(name)) continue;
        if (auto s = datapath.attachInterface(name); s.ok())
          FLB_INFO("dp", "attached to new interface {}", name);
        else
          FLB_DEBUG("dp", "attach {}: {}", name, s.error().message);
      }
    }
  });

  FLB_INFO("main", "floatlb ready: {} rules, API on {}:{}", rules.size(), o.host, server.port());
  int sig = 0;
  sigwait(&sigs, &sig);
  FLB_INFO("main", "signal {} received, stopping", sig);
  stopper.stop();
  aging.join();
  ifwatch.join();
  server.stop();
  if (*cloud) {
    const bool last_node = cistate.state(lb::kDefaultHaInstance) == ha::CiState::kMaster &&
                           (!heartbeat || !heartbeat->stats().peer_alive);
    (*cloud)->stop(last_node);
  }
  if (heartbeat) heartbeat->stop();
  if (sync) sync->stop();
  health.stop();
  if (o.detach_on_exit) {
    if (auto s = datapath.detachAll(); !s.ok())
      FLB_WARN("main", "detach: {}", s.error().message);
    else
      FLB_INFO("main", "datapath detached");
  } else {
    FLB_INFO("main", "datapath left in place: forwarding continues until the next start re-adopts it");
  }
  return 0;
}

}  // namespace floatlb::daemon
