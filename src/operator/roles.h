// HA role election for --setRoles (kubernetes.md §1.8): sticky master, adopt an alive instance
// that already reports MASTER (no needless takeover when the operator restarts), else the first
// alive instance in --loxiURL order. Pushes go only to alive instances whose state differs.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace floatlb::kube {

struct InstanceRoleView {
  bool alive = false;
  std::optional<std::string> reported;  // state of the HA instance in GET /config/cistate/all
};

struct RolePush {
  size_t instance;
  std::string state;  // MASTER | BACKUP
};

struct RoleDecision {
  std::optional<size_t> master;
  bool changed = false;  // a new master was chosen
  std::vector<RolePush> pushes;
};

class RoleElector {
 public:
  RoleDecision decide(const std::vector<InstanceRoleView>& instances);
  [[nodiscard]] std::optional<size_t> master() const { return master_; }

 private:
  std::optional<size_t> master_;
};

}  // namespace floatlb::kube
