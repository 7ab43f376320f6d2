#include "operator/roles.h"

namespace floatlb::kube {

RoleDecision RoleElector::decide(const std::vector<InstanceRoleView>& v) {
  RoleDecision d;
  std::optional<size_t> prev = master_;
  if (master_ && (*master_ >= v.size() || !v[*master_].alive)) master_.reset();
  if (!master_) {
    for (size_t i = 0; i < v.size() && !master_; ++i) {
      if (v[i].alive && v[i].reported == "MASTER") master_ = i;
    }
  }
  if (!master_) {
    for (size_t i = 0; i < v.size() && !master_; ++i) {
      if (v[i].alive) master_ = i;
    }
  }
  d.master = master_;
  d.changed = master_ != prev;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].alive) continue;
    std::string want = master_ && *master_ == i ? "MASTER" : "BACKUP";
    if (v[i].reported != want) d.pushes.push_back({i, want});
  }
  return d;
}

}  // namespace floatlb::kube
