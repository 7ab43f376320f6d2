// HA instance states ("cistate") as the reference names them. This table is the single source of
// the node's role per instance; the HA state machine (heartbeats) and the REST API both go
// through it, and observers are told about every transition.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/net.h"
#include "common/result.h"

namespace floatlb::ha {

enum class CiState { kMaster = 1, kBackup = 2, kFault = 3, kStop = 4, kNotDefined = 5 };

const char* ciStateName(CiState s);                // MASTER, BACKUP, FAULT, STOP, NOT_DEFINED
Result<CiState> parseCiState(std::string_view s);  // exact upper-case names, as the reference

struct CiInstance {
  std::string name;
  CiState state = CiState::kNotDefined;
  Ip4 vip;
  int64_t changed_wall_ms = 0;
  uint64_t transitions = 0;
  std::string reason;  // why the last change happened ("epoch 3: peer silent for 300 ms", "API")
};

class CiStateTable {
 public:
  using Observer = std::function<void(const CiInstance& now, CiState previous)>;

  explicit CiStateTable(const Clock& clock);
  // Creates the instance if missing. A repeated identical state is a no-op (returns false).
  Result<bool> set(const std::string& instance, CiState state, Ip4 vip, std::string reason = "");
  [[nodiscard]] std::vector<CiInstance> all() const;  // sorted by name
  [[nodiscard]] CiState state(const std::string& instance) const;
  void addObserver(Observer obs);

 private:
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, CiInstance> instances_;
  std::vector<Observer> observers_;
};

}  // namespace floatlb::ha
