// The queue of one floatlb instance's worker: FIFO, with coalescing by key (a queued op is
// replaced in place by a newer one with the same key: the latest intent for a rule wins, and the
// queue never holds more than one op per key) and probes first. Pure; the worker thread that
// drains it is in shell.cpp.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>

#include "operator/ports.h"

namespace floatlb::kube {

class LbOpQueue {
 public:
  void push(LbOp op);
  std::optional<LbOp> pop();
  // Takes every queued op (for answering them at once when the instance is unreachable).
  std::deque<LbOp> drain();
  [[nodiscard]] size_t size() const { return ops_.size(); }
  [[nodiscard]] bool empty() const { return ops_.empty(); }
  [[nodiscard]] uint64_t coalesced() const { return coalesced_; }

 private:
  std::deque<std::string> order_;
  std::map<std::string, LbOp> ops_;
  uint64_t coalesced_ = 0;
};

}  // namespace floatlb::kube
