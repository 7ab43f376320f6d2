#include "daemon/daemon.h"

#include <net/if.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "api/server.h"
#include "common/clock.h"
#include "common/log.h"
#include "daemon/system_adapters.h"
#include "dataplane/libbpf_datapath.h"
#include "ha/ci_state.h"
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

}  // namespace

int run(const Options& o) {
  log::Level level;
  if (!log::parseLevel(o.loglevel, &level)) {
    FLB_ERROR("main", "--loglevel: unknown level '{}'", o.loglevel);
    return 2;
  }
  log::setLevel(level);
  if (!o.logfile.empty()) log::setFile(o.logfile);
  if (o.cloud != "on-prem" || o.ka != "none") {
    FLB_ERROR("main", "--cloud=aws and --ka are not implemented in this build yet; refusing to start half-configured");
    return 2;
  }
  if (o.cluster != "none") FLB_WARN("main", "--cluster={} accepted: connection sync is not implemented in this build", o.cluster);

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
  lb::RuleManager rules(datapath, resolver, &store, nullptr);
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

  api::ApiDeps deps;
  deps.rules = &rules;
  deps.datapath = &datapath;
  deps.cistate = &cistate;
  deps.version = "0.1.0";
  deps.build_info = "floatlb";
  api::ApiServer server(deps);
  if (auto s = server.start(o.host, o.port); !s.ok()) {
    FLB_ERROR("main", "{}", s.error().message);
    return 1;
  }

  Stopper stopper;
  std::thread aging([&] {
    while (stopper.waitFor(kAgingInterval)) {
      auto r = datapath.ageConntrack(clock.now());
      if (!r.ok()) FLB_WARN("ct", "aging pass failed: {}", r.error().message);
      else if (r->removed) FLB_DEBUG("ct", "aged {} of {} entries", r->removed, r->examined);
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
        if (auto s = datapath.attachInterface(name); s.ok()) FLB_INFO("dp", "attached to new interface {}", name);
        else FLB_DEBUG("dp", "attach {}: {}", name, s.error().message);
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
  if (o.detach_on_exit) {
    if (auto s = datapath.detachAll(); !s.ok()) FLB_WARN("main", "detach: {}", s.error().message);
    else FLB_INFO("main", "datapath detached");
  } else {
    FLB_INFO("main", "datapath left in place: forwarding continues until the next start re-adopts it");
  }
  return 0;
}

}  // namespace floatlb::daemon
