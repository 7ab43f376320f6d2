// The real datapath: loads bpf/flb_tc.bpf.c, pins its maps under a bpffs directory (re-adopting
// them on restart so conntrack survives), attaches it to tc ingress and implements Datapath.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/datapath.h"
#include "dataplane/skeleton.h"

struct ring_buffer;

namespace floatlb::dataplane {

struct AgingPlan;

class LibbpfDatapath final : public Datapath {
 public:
  struct Options {
    // bpffs directory for the pinned maps (mounted if it is not on a bpffs yet). Empty = no
    // pinning (tests and benchmarks: private maps that die with the object).
    std::string pin_dir = "/sys/fs/bpf/floatlb";
    std::vector<std::string> interfaces;  // empty = every non-loopback interface of this netns
    bool attach = true;
  };

  static Result<std::unique_ptr<LibbpfDatapath>> open(const Options& options);
  // Does NOT detach: a restarted daemon replaces the program atomically (hitless restart).
  ~LibbpfDatapath() override;

  Status attachInterface(const std::string& ifname);
  Status detachAll();  // removes our tc filters from every interface of this netns

  // What a stopped daemon leaves on purpose (hitless restarts): the tc filters on this netns's
  // interfaces and the pinned maps under pin_dir. Removes both (`floatlb --remove-datapath`, the
  // package's prerm on removal); only floatlb's own filters and map pins are touched.
  struct Removal {
    std::vector<std::string> detached;  // interfaces
    std::vector<std::string> unpinned;  // pin paths
  };
  static Result<Removal> removeFromHost(const std::string& pin_dir);
  Result<std::vector<std::string>> attachedInterfaces();

  Status upsertService(const flb_svc_key& key, const flb_svc& svc) override;
  Status deleteService(const flb_svc_key& key) override;
  Result<std::vector<std::pair<flb_svc_key, flb_svc>>> listServices() override;

  Result<std::vector<CtEntry>> dumpConntrack() override;
  Status insertConntrack(const CtEntry& entry) override;
  Status deleteConntrack(const flb_ct_key& key) override;
  Result<size_t> flushRule(uint32_t rule_id) override;
  Result<AgingResult> ageConntrack(TimePoint now) override;
  Status invalidateFibCache() override;  // bumps flb_fib_gen[0]

  Result<EndpointCounters> endpointCounters(uint32_t rule_id, uint32_t slots) override;
  Status resetRuleCounters(uint32_t rule_id) override;
  Result<GlobalStats> globalStats() override;

  Result<size_t> pollEvents(const std::function<void(const flb_ct_event&)>& sink, int timeout_ms) override;

  // Runs the loaded program on a packet (BPF_PROG_TEST_RUN): tests, benchmarks, "explain".
  Result<ProgRun> testRun(const ProgRunInput& in) const { return skel_->testRun(in); }
  Maps& maps() { return skel_->maps(); }

 private:
  explicit LibbpfDatapath(std::unique_ptr<BpfSkeleton> skel);
  Status mapLc();
  Status applyPlan(const AgingPlan& plan, size_t* removed);
  void releaseLc(uint32_t rule_id, uint8_t ep_idx);

  std::unique_ptr<BpfSkeleton> skel_;
  flb_lc_counts* lc_ = nullptr;  // mmapped flb_lc (atomic decrements from user space)
  size_t lc_bytes_ = 0;
  ring_buffer* rb_ = nullptr;
  const std::function<void(const flb_ct_event&)>* sink_ = nullptr;
};

}  // namespace floatlb::dataplane
