#include "dataplane/skeleton.h"

#include <linux/bpf.h>

#include "flb_tc.skel.h"

namespace floatlb::dataplane {

BpfSkeleton::BpfSkeleton(flb_tc* skel) : skel_(skel) {
  maps_.services = BpfMap<flb_svc_key, flb_svc>(skel->maps.flb_services);
  maps_.ct = BpfMap<flb_ct_key, flb_ct_value>(skel->maps.flb_ct);
  maps_.rr = BpfMap<uint32_t, uint32_t>(skel->maps.flb_rr);
  maps_.lc = BpfMap<uint32_t, flb_lc_counts>(skel->maps.flb_lc);
  maps_.persist = BpfMap<flb_persist_key, flb_persist_value>(skel->maps.flb_persist);
  maps_.ep_stats = PerCpuMap<uint32_t, flb_counter>(skel->maps.flb_ep_stats);
  maps_.stats = PerCpuMap<uint32_t, uint64_t>(skel->maps.flb_stats);
  maps_.meta = BpfMap<uint32_t, uint32_t>(skel->maps.flb_meta);
  maps_.fib_gen = BpfMap<uint32_t, uint32_t>(skel->maps.flb_fib_gen);
}

BpfSkeleton::~BpfSkeleton() { flb_tc__destroy(skel_); }

Result<std::unique_ptr<BpfSkeleton>> BpfSkeleton::openAndLoad(const std::optional<std::string>& pin_root) {
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  if (pin_root) opts.pin_root_path = pin_root->c_str();
  flb_tc* skel = flb_tc__open_opts(&opts);
  if (skel == nullptr) return bpfError("open", "flb_tc", errno);
  if (!pin_root) {
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, skel->obj) {
      // Without a pin root libbpf would pin under /sys/fs/bpf: turn pinning off explicitly.
      if (int rc = bpf_map__set_pin_path(map, nullptr); rc != 0) {
        flb_tc__destroy(skel);
        return bpfError("unpin", bpf_map__name(map), rc);
      }
    }
  }
  if (int rc = flb_tc__load(skel); rc != 0) {
    flb_tc__destroy(skel);
    return bpfError("load (pinned maps from another ABI version?)", "flb_tc", rc);
  }
  std::unique_ptr<BpfSkeleton> out(new BpfSkeleton(skel));
  FLB_TRY(out->checkAbiVersion());
  return out;
}

Result<std::vector<std::string>> BpfSkeleton::pinPaths(const std::string& pin_root) {
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.pin_root_path = pin_root.c_str();
  flb_tc* skel = flb_tc__open_opts(&opts);
  if (skel == nullptr) return bpfError("open", "flb_tc", errno);
  std::vector<std::string> paths;
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, skel->obj) {
    if (const char* path = bpf_map__pin_path(map)) paths.emplace_back(path);
  }
  flb_tc__destroy(skel);
  return paths;
}

Status BpfSkeleton::checkAbiVersion() {
  FLB_ASSIGN_OR_RETURN(auto version, maps_.meta.lookup(0));
  const uint32_t have = version.value_or(0);
  if (have == 0) return maps_.meta.update(0, FLB_ABI_VERSION);  // fresh maps: stamp them
  if (have != FLB_ABI_VERSION) {
    return makeError(ErrorCode::kConflict, "pinned maps have ABI version " + std::to_string(have) +
                                               ", this build uses " + std::to_string(FLB_ABI_VERSION) +
                                               ": remove the pin directory to upgrade");
  }
  return okStatus();
}

bpf_program* BpfSkeleton::program() const { return skel_->progs.flb_ingress; }
bpf_map* BpfSkeleton::eventsMap() const { return skel_->maps.flb_events; }
bpf_map* BpfSkeleton::lcMap() const { return skel_->maps.flb_lc; }

Result<ProgRun> BpfSkeleton::testRun(const ProgRunInput& in) const {
  ProgRun out;
  out.packet.resize(in.packet.size() + 256);
  __sk_buff ctx{};
  ctx.mark = in.mark;
  ctx.ingress_ifindex = in.ingress_ifindex;
  bpf_test_run_opts opts{};
  opts.sz = sizeof(opts);
  opts.data_in = in.packet.data();
  opts.data_size_in = static_cast<uint32_t>(in.packet.size());
  opts.data_out = out.packet.data();
  opts.data_size_out = static_cast<uint32_t>(out.packet.size());
  opts.ctx_in = &ctx;
  opts.ctx_size_in = sizeof(ctx);
  opts.repeat = in.repeat;
  int rc = bpf_prog_test_run_opts(bpf_program__fd(program()), &opts);
  if (rc != 0) return bpfError("prog_test_run", "flb_ingress", rc);
  out.packet.resize(opts.data_size_out);
  out.verdict = opts.retval;
  out.duration_ns = opts.duration;
  return out;
}

}  // namespace floatlb::dataplane
