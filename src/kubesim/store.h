// The object store: one global revision counter, objects by (resource, namespace, name) in etcd key
// order, and a bounded history of change events for watches (older RVs ⇒ 410 Expired).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace floatlb::kubesim {

struct StoreEvent {
  std::string type;  // ADDED | MODIFIED | DELETED
  std::string resource;
  nlohmann::json object;  // state after (DELETED: last state with the deletion's RV)
  nlohmann::json prev;    // state before (null for ADDED)
  uint64_t rv = 0;
};

class Store {
 public:
  explicit Store(size_t historyLimit = 10000) : limit_(historyLimit) {}

  [[nodiscard]] uint64_t revision() const { return rev_; }
  [[nodiscard]] uint64_t compactedRevision() const { return compacted_; }
  [[nodiscard]] const nlohmann::json* get(const std::string& res, const std::string& ns,
                                          const std::string& name) const;
  // Objects of `res` in `ns` ("" = all namespaces), sorted by namespace/name.
  [[nodiscard]] std::vector<const nlohmann::json*> list(const std::string& res, const std::string& ns) const;
  // Creates or replaces; sets metadata.resourceVersion; records ADDED/MODIFIED. Returns the stored object.
  // An update equal to the stored object (ignoring resourceVersion) is a no-op: no new revision, no event.
  const nlohmann::json& put(const std::string& res, nlohmann::json obj);
  // Removes; records DELETED with `lastState` (its RV set to the new revision). False if absent.
  bool erase(const std::string& res, const std::string& ns, const std::string& name);
  // Events with rv > `rv`; 410 Expired when `rv` is older than the history; 504 when in the future.
  [[nodiscard]] Result<std::vector<const StoreEvent*>> since(uint64_t rv) const;
  // Forgets the whole history (next watch from an older RV gets 410).
  void compact() {
    history_.clear();
    compacted_ = rev_;
  }
  // Restores a snapshot (objects with their RVs) and the revision; the history starts empty.
  void restore(const nlohmann::json& snapshot);
  [[nodiscard]] nlohmann::json snapshot() const;

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  std::map<std::string, std::map<Key, nlohmann::json>> objects_;
  std::deque<StoreEvent> history_;
  size_t limit_;
  uint64_t rev_ = 0;
  uint64_t compacted_ = 0;
  void record(StoreEvent ev);
};

}  // namespace floatlb::kubesim
