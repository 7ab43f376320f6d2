#include "operator/lb_queue.h"

namespace floatlb::kube {

void LbOpQueue::push(LbOp op) {
  auto it = ops_.find(op.key);
  if (it != ops_.end()) {
    it->second = std::move(op);
    ++coalesced_;
    return;
  }
  if (op.kind == LbOp::kProbe) {
    order_.push_front(op.key);
  } else {
    order_.push_back(op.key);
  }
  std::string key = op.key;
  ops_.emplace(std::move(key), std::move(op));
}

std::optional<LbOp> LbOpQueue::pop() {
  if (order_.empty()) return std::nullopt;
  auto it = ops_.find(order_.front());
  order_.pop_front();
  LbOp op = std::move(it->second);
  ops_.erase(it);
  return op;
}

std::deque<LbOp> LbOpQueue::drain() {
  std::deque<LbOp> out;
  while (auto op = pop()) out.push_back(std::move(*op));
  return out;
}

}  // namespace floatlb::kube
