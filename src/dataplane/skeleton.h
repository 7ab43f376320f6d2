// RAII owner of the loaded flb_tc BPF object (generated skeleton bpf/flb_tc.skel.h), with typed
// access to its maps. Destroying it closes our fds only: pinned maps and attached tc filters stay.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "dataplane/bpf_map.h"
#include "floatlb/abi.h"

struct flb_tc;  // generated skeleton type (flb_tc.skel.h), kept out of this header

namespace floatlb::dataplane {

struct Maps {
  BpfMap<flb_svc_key, flb_svc> services;
  BpfMap<flb_ct_key, flb_ct_value> ct;
  BpfMap<uint32_t, uint32_t> rr;
  BpfMap<uint32_t, flb_lc_counts> lc;
  BpfMap<flb_persist_key, flb_persist_value> persist;
  PerCpuMap<uint32_t, flb_counter> ep_stats;
  PerCpuMap<uint32_t, uint64_t> stats;
  BpfMap<uint32_t, uint32_t> meta;     // [0] = ABI version of the pinned maps
  BpfMap<uint32_t, uint32_t> fib_gen;  // [0] = forwarding generation (per-flow fib caches)
};

// Result of one BPF_PROG_TEST_RUN.
struct ProgRun {
  uint32_t verdict = 0;      // tc action (TC_ACT_OK = 0, TC_ACT_SHOT = 2, TC_ACT_REDIRECT = 7)
  std::string packet;        // the packet after the program (data_out)
  uint32_t duration_ns = 0;  // average per repetition, as measured by the kernel
};

struct ProgRunInput {
  std::string packet;  // full Ethernet frame
  uint32_t mark = 0;   // skb->mark (service "block")
  uint32_t ingress_ifindex = 0;
  uint32_t repeat = 1;
};

class BpfSkeleton {
 public:
  // Opens and loads the object. pin_root: directory on a bpffs where maps are pinned by name and
  // re-adopted if already there; nullopt = no pinning at all (tests, benchmarks).
  static Result<std::unique_ptr<BpfSkeleton>> openAndLoad(const std::optional<std::string>& pin_root);
  // Where the object's pinned maps live under pin_root (parses the object, loads nothing).
  static Result<std::vector<std::string>> pinPaths(const std::string& pin_root);
  ~BpfSkeleton();
  BpfSkeleton(const BpfSkeleton&) = delete;
  BpfSkeleton& operator=(const BpfSkeleton&) = delete;

  Maps& maps() { return maps_; }
  bpf_program* program() const;
  bpf_map* eventsMap() const;
  bpf_map* lcMap() const;

  // Runs the program once (or `repeat` times) on a packet through BPF_PROG_TEST_RUN.
  Result<ProgRun> testRun(const ProgRunInput& in) const;

 private:
  explicit BpfSkeleton(flb_tc* skel);
  Status checkAbiVersion();  // refuses pinned maps stamped by another FLB_ABI_VERSION
  flb_tc* skel_;
  Maps maps_;
};

}  // namespace floatlb::dataplane
