#include "dataplane/libbpf_datapath.h"

#include <net/if.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "common/log.h"
#include "dataplane/aging.h"

namespace floatlb::dataplane {
namespace {

constexpr unsigned long kBpfFsMagic = 0xcafe4a11;
constexpr uint32_t kTcHandle = 1;
constexpr uint32_t kTcPriority = 1;
constexpr const char* kProgName = "flb_ingress";

Error sysError(const std::string& what, int err) {
  return makeError(ErrorCode::kIo, what + ": " + std::strerror(err < 0 ? -err : err));
}

Status ensureBpffs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return makeError(ErrorCode::kIo, "mkdir " + dir + ": " + ec.message());
  struct statfs st {};
  if (statfs(dir.c_str(), &st) != 0) return sysError("statfs " + dir, errno);
  if (static_cast<unsigned long>(st.f_type) == kBpfFsMagic) return okStatus();
  if (mount("bpf", dir.c_str(), "bpf", 0, "mode=0700") != 0) return sysError("mount bpffs on " + dir, errno);
  FLB_INFO("dataplane", "mounted bpffs on {}", dir);
  return okStatus();
}

// bpf_fib_lookup refuses to forward (BPF_FIB_LKUP_RET_FWD_DISABLED) when the ingress interface has
// IPv4 forwarding off, and a fresh namespace or instance has it off: every NAT'd packet would fall
// back to the kernel and be dropped there. A load balancer forwards, so it turns it on (and says so).
Status enableForwarding(const std::string& ifname) {
  const std::string path = "/proc/sys/net/ipv4/conf/" + ifname + "/forwarding";
  char cur = '0';
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    if (std::fread(&cur, 1, 1, f) != 1) cur = '0';
    std::fclose(f);
  }
  if (cur == '1') return okStatus();
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return sysError("open " + path, errno);
  const bool ok = std::fputs("1\n", f) >= 0;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) return sysError("write " + path, errno);
  FLB_INFO("dataplane", "enabled IPv4 forwarding on {} (it was off)", ifname);
  return okStatus();
}

Result<std::vector<std::string>> allInterfaces() {
  struct if_nameindex* list = if_nameindex();
  if (list == nullptr) return sysError("if_nameindex", errno);
  std::vector<std::string> names;
  for (struct if_nameindex* i = list; i->if_index != 0 && i->if_name != nullptr; ++i) {
    if (std::strcmp(i->if_name, "lo") != 0) names.emplace_back(i->if_name);
  }
  if_freenameindex(list);
  return names;
}

bpf_tc_hook ingressHook(int ifindex) {
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = BPF_TC_INGRESS;
  return hook;
}

bpf_tc_opts ourFilter() {
  bpf_tc_opts o{};
  o.sz = sizeof(o);
  o.handle = kTcHandle;
  o.priority = kTcPriority;
  return o;
}

// Is the tc filter (handle 1, prio 1) on ifindex a floatlb program (any load of it)?
bool hasOurFilter(int ifindex) {
  bpf_tc_hook hook = ingressHook(ifindex);
  bpf_tc_opts q = ourFilter();
  if (bpf_tc_query(&hook, &q) != 0 || q.prog_id == 0) return false;
  int fd = bpf_prog_get_fd_by_id(q.prog_id);
  if (fd < 0) return false;
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  bool ours = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && std::strcmp(info.name, kProgName) == 0;
  close(fd);
  return ours;
}

// libbpf's own messages go to our log. Netlink extack notes ("Exclusivity flag on" when the clsact
// qdisc already exists, "Cannot find specified filter chain" when probing an interface without
// our filter) are expected during attach/query and only logged at debug level.
int libbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  std::string_view msg(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1) : 0);
  while (!msg.empty() && msg.back() == '\n') msg.remove_suffix(1);
  if (level == LIBBPF_WARN && msg.find("Kernel error message") == std::string_view::npos) {
    FLB_WARN("libbpf", "{}", msg);
  } else {
    FLB_DEBUG("libbpf", "{}", msg);
  }
  return 0;
}

int onEvent(void* ctx, void* data, size_t size) {
  const auto* sink = *static_cast<const std::function<void(const flb_ct_event&)>**>(ctx);
  if (size < sizeof(flb_ct_event) || sink == nullptr || !*sink) return 0;
  flb_ct_event ev;
  std::memcpy(&ev, data, sizeof ev);
  (*sink)(ev);
  return 0;
}

}  // namespace

LibbpfDatapath::LibbpfDatapath(std::unique_ptr<BpfSkeleton> skel) : skel_(std::move(skel)) {}

LibbpfDatapath::~LibbpfDatapath() {
  if (rb_ != nullptr) ring_buffer__free(rb_);
  if (lc_ != nullptr) munmap(lc_, lc_bytes_);
}

Result<std::unique_ptr<LibbpfDatapath>> LibbpfDatapath::open(const Options& options) {
  libbpf_set_print(libbpfPrint);
  std::optional<std::string> pin;
  if (!options.pin_dir.empty()) {
    FLB_TRY(ensureBpffs(options.pin_dir));
    pin = options.pin_dir;
  }
  FLB_ASSIGN_OR_RETURN(auto skel, BpfSkeleton::openAndLoad(pin));
  std::unique_ptr<LibbpfDatapath> dp(new LibbpfDatapath(std::move(skel)));
  FLB_TRY(dp->mapLc());
  if (options.attach) {
    std::vector<std::string> ifs = options.interfaces;
    if (ifs.empty()) {
      FLB_ASSIGN_OR_RETURN(ifs, allInterfaces());
    }
    for (const auto& name : ifs) FLB_TRY(dp->attachInterface(name));
  }
  return dp;
}

Status LibbpfDatapath::mapLc() {
  bpf_map* map = skel_->lcMap();
  lc_bytes_ = static_cast<size_t>(bpf_map__max_entries(map)) * sizeof(flb_lc_counts);
  void* p = mmap(nullptr, lc_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
  if (p == MAP_FAILED) return sysError("mmap flb_lc", errno);
  lc_ = static_cast<flb_lc_counts*>(p);
  return okStatus();
}

void LibbpfDatapath::releaseLc(uint32_t rule_id, uint8_t ep_idx) {
  if (rule_id >= FLB_MAX_RULES || ep_idx >= FLB_MAX_ENDPOINTS) return;
  uint32_t* slot = &lc_[rule_id].active[ep_idx];
  uint32_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
  // Saturating decrement: never wrap below zero (e.g. after resetRuleCounters).
  for (int i = 0; i < 64 && cur > 0; ++i) {
    if (__atomic_compare_exchange_n(slot, &cur, cur - 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
  }
}

Status LibbpfDatapath::attachInterface(const std::string& ifname) {
  const int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (ifindex == 0) return makeError(ErrorCode::kNotFound, "interface " + ifname + " not found");
  FLB_TRY(enableForwarding(ifname));
  bpf_tc_hook hook = ingressHook(ifindex);
  int rc = bpf_tc_hook_create(&hook);
  if (rc != 0 && rc != -EEXIST) return sysError("tc hook create on " + ifname, rc);
  bpf_tc_opts o = ourFilter();
  o.prog_fd = bpf_program__fd(skel_->program());
  o.flags = BPF_TC_F_REPLACE;
  rc = bpf_tc_attach(&hook, &o);
  if (rc != 0) return sysError("tc attach on " + ifname, rc);
  FLB_TRY(invalidateFibCache());  // the interface set changed
  FLB_INFO("dataplane", "attached tc ingress on {} (ifindex {}, prog id {})", ifname, ifindex, o.prog_id);
  return okStatus();
}

namespace {

Result<std::vector<std::string>> interfacesWithOurFilter() {
  FLB_ASSIGN_OR_RETURN(auto ifs, allInterfaces());
  std::vector<std::string> ours;
  for (const auto& name : ifs) {
    if (hasOurFilter(static_cast<int>(if_nametoindex(name.c_str())))) ours.push_back(name);
  }
  return ours;
}

bool onBpffs(const std::string& dir) {
  struct statfs st {};
  return statfs(dir.c_str(), &st) == 0 && static_cast<unsigned long>(st.f_type) == kBpfFsMagic;
}

// A bpffs mounted on `dir` itself (its parent is on another filesystem).
bool isBpffsMountRoot(const std::string& dir) {
  return onBpffs(dir) && !onBpffs(std::filesystem::path(dir).parent_path().string());
}

// Detaches our filters; returns the interfaces they were on.
Result<std::vector<std::string>> detachOurFilters() {
  FLB_ASSIGN_OR_RETURN(auto ifs, interfacesWithOurFilter());
  for (const auto& name : ifs) {
    bpf_tc_hook hook = ingressHook(static_cast<int>(if_nametoindex(name.c_str())));
    bpf_tc_opts o = ourFilter();
    int rc = bpf_tc_detach(&hook, &o);
    if (rc != 0 && rc != -ENOENT) return sysError("tc detach on " + name, rc);
  }
  return ifs;
}

}  // namespace

Status LibbpfDatapath::detachAll() {
  FLB_TRY(detachOurFilters());
  return okStatus();
}

Result<std::vector<std::string>> LibbpfDatapath::attachedInterfaces() { return interfacesWithOurFilter(); }

Result<LibbpfDatapath::Removal> LibbpfDatapath::removeFromHost(const std::string& pin_dir) {
  Removal out;
  FLB_ASSIGN_OR_RETURN(out.detached, detachOurFilters());
  FLB_ASSIGN_OR_RETURN(auto pins, BpfSkeleton::pinPaths(pin_dir));
  for (const auto& path : pins) {
    if (::unlink(path.c_str()) == 0) {
      out.unpinned.push_back(path);
    } else if (errno != ENOENT) {
      return sysError("unpin " + path, errno);
    }
  }
  // The directory goes too when nothing else is in it; if it is a bpffs of its own (the daemon
  // mounts one when the directory was not on a bpffs), an empty one is unmounted first. The
  // system's /sys/fs/bpf is never unmounted.
  std::error_code ec;
  const bool system_bpffs = std::filesystem::weakly_canonical(pin_dir, ec) == "/sys/fs/bpf";
  if (!system_bpffs && std::filesystem::is_empty(pin_dir, ec) && isBpffsMountRoot(pin_dir))
    ::umount2(pin_dir.c_str(), MNT_DETACH);
  if (::rmdir(pin_dir.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EBUSY)
    return sysError("rmdir " + pin_dir, errno);
  return out;
}

Status LibbpfDatapath::upsertService(const flb_svc_key& key, const flb_svc& svc) {
  if (svc.rule_id >= FLB_MAX_RULES) return makeError(ErrorCode::kInvalidArgument, "rule id out of range");
  if (svc.n_eps > FLB_MAX_ENDPOINTS || svc.n_slots > FLB_MAX_SLOTS)
    return makeError(ErrorCode::kInvalidArgument, "too many endpoints or slots");
  for (int i = 0; i < svc.n_slots; ++i) {
    if (svc.slots[i] >= svc.n_eps)
      return makeError(ErrorCode::kInvalidArgument, "slot names a missing endpoint");
  }
  return maps().services.update(key, svc);
}

Status LibbpfDatapath::deleteService(const flb_svc_key& key) {
  FLB_ASSIGN_OR_RETURN(bool existed, maps().services.erase(key));
  if (!existed) return makeError(ErrorCode::kNotFound, "service not found");
  return okStatus();
}

Result<std::vector<std::pair<flb_svc_key, flb_svc>>> LibbpfDatapath::listServices() {
  std::vector<std::pair<flb_svc_key, flb_svc>> out;
  FLB_TRY(maps().services.forEach([&](const flb_svc_key& k, const flb_svc& v) { out.emplace_back(k, v); }));
  return out;
}

Result<std::vector<CtEntry>> LibbpfDatapath::dumpConntrack() {
  std::vector<CtEntry> out;
  FLB_TRY(maps().ct.forEach([&](const flb_ct_key& k, const flb_ct_value& v) { out.push_back({k, v}); }));
  return out;
}

Status LibbpfDatapath::insertConntrack(const CtEntry& entry) {
  flb_ct_value v = entry.value;
  v.flags |= FLB_CT_F_SYNCED;
  v.fib = flb_fib_cache{};  // interfaces and MACs of the sending node: look up our own route
  // Rule ids and endpoint order are per node: re-resolve them from the service key so per-rule
  // counters and flushRule() work on this node too (kept as sent if the service is unknown here).
  FLB_ASSIGN_OR_RETURN(auto svc, maps().services.lookup(v.svc));
  if (svc) {
    v.rule_id = svc->rule_id;
    const bool fwd = v.dir == FLB_CT_DIR_FWD;
    const __be32 ep_ip = fwd ? v.nat.daddr : entry.key.saddr;
    const __be16 ep_port = fwd ? v.nat.dport : entry.key.sport;
    for (uint8_t i = 0; i < svc->n_eps && i < FLB_MAX_ENDPOINTS; ++i) {
      if (svc->eps[i].ip == ep_ip && svc->eps[i].port == ep_port) v.ep_idx = i;
    }
  }
  return maps().ct.update(entry.key, v);
}

Status LibbpfDatapath::deleteConntrack(const flb_ct_key& key) {
  FLB_ASSIGN_OR_RETURN(auto v, maps().ct.lookup(key));
  if (!v) return makeError(ErrorCode::kNotFound, "conntrack entry not found");
  FLB_ASSIGN_OR_RETURN(bool existed, maps().ct.erase(key));
  if (existed && v->dir == FLB_CT_DIR_FWD && (v->flags & FLB_CT_F_SYNCED) == 0)
    releaseLc(v->rule_id, v->ep_idx);
  return okStatus();
}

Status LibbpfDatapath::applyPlan(const AgingPlan& plan, size_t* removed) {
  *removed = 0;
  for (const auto& key : plan.remove) {
    FLB_ASSIGN_OR_RETURN(bool existed, maps().ct.erase(key));
    if (existed) ++*removed;
  }
  for (const auto& r : plan.lc_release) releaseLc(r.rule_id, r.ep_idx);
  return okStatus();
}

Result<size_t> LibbpfDatapath::flushRule(uint32_t rule_id) {
  FLB_ASSIGN_OR_RETURN(auto entries, dumpConntrack());
  size_t removed = 0;
  FLB_TRY(applyPlan(planFlushRule(entries, rule_id), &removed));
  return removed;
}

Result<AgingResult> LibbpfDatapath::ageConntrack(TimePoint now) {
  FLB_ASSIGN_OR_RETURN(auto entries, dumpConntrack());
  AgingPlan plan = planAging(entries, now);
  AgingResult res;
  res.examined = plan.examined;
  FLB_TRY(applyPlan(plan, &res.removed));
  return res;
}

Status LibbpfDatapath::invalidateFibCache() {
  FLB_ASSIGN_OR_RETURN(auto gen, maps().fib_gen.lookup(0));
  return maps().fib_gen.update(0, gen.value_or(0) + 1);
}

Result<EndpointCounters> LibbpfDatapath::endpointCounters(uint32_t rule_id, uint32_t slots) {
  if (rule_id >= FLB_MAX_RULES) return makeError(ErrorCode::kInvalidArgument, "rule id out of range");
  EndpointCounters out{};
  auto add = [](flb_counter& total, const flb_counter& c) {
    total.packets += c.packets;
    total.bytes += c.bytes;
  };
  for (uint32_t ep = 0; ep < std::min<uint32_t>(slots, FLB_MAX_ENDPOINTS); ++ep) {
    FLB_ASSIGN_OR_RETURN(out[ep], maps().ep_stats.sum(rule_id * FLB_MAX_ENDPOINTS + ep, add));
  }
  return out;
}

Status LibbpfDatapath::resetRuleCounters(uint32_t rule_id) {
  if (rule_id >= FLB_MAX_RULES) return makeError(ErrorCode::kInvalidArgument, "rule id out of range");
  for (uint32_t ep = 0; ep < FLB_MAX_ENDPOINTS; ++ep) {
    FLB_TRY(maps().ep_stats.updateAll(rule_id * FLB_MAX_ENDPOINTS + ep, flb_counter{}));
    __atomic_store_n(&lc_[rule_id].active[ep], 0u, __ATOMIC_RELAXED);
  }
  return maps().rr.update(rule_id, 0u);
}

Result<GlobalStats> LibbpfDatapath::globalStats() {
  GlobalStats out{};
  for (uint32_t i = 0; i < FLB_STAT_MAX; ++i) {
    FLB_ASSIGN_OR_RETURN(out[i], maps().stats.sum(i, [](uint64_t& total, uint64_t v) { total += v; }));
  }
  return out;
}

Result<size_t> LibbpfDatapath::pollEvents(const std::function<void(const flb_ct_event&)>& sink,
                                          int timeout_ms) {
  if (rb_ == nullptr) {
    rb_ = ring_buffer__new(bpf_map__fd(skel_->eventsMap()), onEvent, &sink_, nullptr);
    if (rb_ == nullptr) return sysError("ring_buffer__new", errno);
  }
  // The callback context is &sink_ (stable); point it at this call's sink for the duration.
  sink_ = &sink;
  int n = ring_buffer__poll(rb_, timeout_ms);
  sink_ = nullptr;
  if (n < 0 && n != -EINTR) return sysError("ring_buffer__poll", n);
  return static_cast<size_t>(n < 0 ? 0 : n);
}

}  // namespace floatlb::dataplane
