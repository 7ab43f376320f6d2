// vpcsim's EC2 Query-API front: decodes the Query parameters of one call, applies the request
// policies (throttling, fault injection, latency), dispatches to a typed Ec2Model operation and
// renders the answer (ec2_render.h). The model stays pure semantics; this is its wire.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "sim/api_types.h"
#include "sim/model.h"
#include "sim/policy.h"

namespace floatlb::sim {

class Ec2QueryFront {
 public:
  Ec2QueryFront(Ec2Model& model, const Clock& clock, uint64_t seed);

  // One EC2 call: tick() the model, throttling, fault injection, dispatch, XML. `request_id` goes
  // into the response document.
  ApiResponse handle(const std::string& action, const Params& params, const std::string& request_id);

  Throttler& throttler() { return throttler_; }
  FaultInjector& faults() { return faults_; }
  LatencyModel& latency() { return latency_; }
  // Actions the caller's (single, simulated) role may not call: UnauthorizedOperation, with or
  // without DryRun. Everything else answers DryRun=true with DryRunOperation and changes nothing.
  void setDenied(std::set<std::string> actions) { denied_ = std::move(actions); }
  [[nodiscard]] const std::set<std::string>& denied() const { return denied_; }

  // A handler decodes Params, calls the model and returns the answer's inner XML.
  using Handler = std::function<Outcome<std::string>(const Params&, std::vector<RealiseEvent>*)>;

 private:
  void addVpcHandlers();
  void addRouteHandlers();
  void addInstanceHandlers();
  void addEniHandlers();
  void addEniAddressHandlers();
  void addAddressHandlers();

  Ec2Model& m_;
  Throttler throttler_;
  FaultInjector faults_;
  LatencyModel latency_;
  std::map<std::string, Handler> handlers_;
  std::set<std::string> denied_;
};

}  // namespace floatlb::sim
