#include "ha/ci_state.h"

#include "common/log.h"

namespace floatlb::ha {

const char* ciStateName(CiState s) {
  switch (s) {
    case CiState::kMaster:
      return "MASTER";
    case CiState::kBackup:
      return "BACKUP";
    case CiState::kFault:
      return "FAULT";
    case CiState::kStop:
      return "STOP";
    case CiState::kNotDefined:
      return "NOT_DEFINED";
  }
  return "NOT_DEFINED";
}

Result<CiState> parseCiState(std::string_view s) {
  if (s == "MASTER") return CiState::kMaster;
  if (s == "BACKUP") return CiState::kBackup;
  if (s == "FAULT") return CiState::kFault;
  if (s == "STOP") return CiState::kStop;
  if (s == "NOT_DEFINED") return CiState::kNotDefined;
  return makeError(
      ErrorCode::kInvalidArgument,
      "invalid cluster-state '" + std::string(s) + "' (expected MASTER, BACKUP, FAULT, STOP or NOT_DEFINED)");
}

CiStateTable::CiStateTable(const Clock& clock) : clock_(clock) {}

Result<bool> CiStateTable::set(const std::string& instance, CiState state, Ip4 vip, std::string reason) {
  if (instance.empty()) return makeError(ErrorCode::kInvalidArgument, "instance name must not be empty");
  CiInstance snapshot;
  CiState previous;
  std::vector<Observer> observers;
  {
    std::lock_guard lock(mu_);
    auto [it, created] = instances_.try_emplace(instance, CiInstance{instance});
    auto& ci = it->second;
    previous = ci.state;
    if (!created && ci.state == state && ci.vip == vip) return false;
    ci.state = state;
    ci.vip = vip;
    ci.changed_wall_ms = clock_.wallMillis();
    ++ci.transitions;
    ci.reason = std::move(reason);
    snapshot = ci;
    observers = observers_;
  }
  FLB_INFO("ha", "instance {}: {} -> {} (vip {})", instance, ciStateName(previous), ciStateName(state),
           vip.str());
  for (auto& obs : observers) obs(snapshot, previous);
  return true;
}

std::vector<CiInstance> CiStateTable::all() const {
  std::lock_guard lock(mu_);
  std::vector<CiInstance> out;
  for (const auto& [k, v] : instances_) out.push_back(v);
  return out;
}

CiState CiStateTable::state(const std::string& instance) const {
  std::lock_guard lock(mu_);
  auto it = instances_.find(instance);
  return it == instances_.end() ? CiState::kNotDefined : it->second.state;
}

void CiStateTable::addObserver(Observer obs) {
  std::lock_guard lock(mu_);
  observers_.push_back(std::move(obs));
}

}  // namespace floatlb::ha
