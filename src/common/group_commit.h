// GroupCommit<Item>: threads queue items and wait until they are durable. Whoever waits while no
// flush is running becomes the flusher for everything queued so far, so items that arrive while a
// sync is in flight share the next one (group commit: N concurrent changes cost ~2 syncs, not N).
// wait(ticket) returns only once the flush holding that ticket returned ok: callers may answer
// "done" after it. A failed flush fails every item not yet durable (queued or in flight) and the
// failure is sticky: the storage behind `flush` is in an unknown state, so later enqueues fail too.
// Pure apart from the injected flush; unit-tested in tests/unit/common/group_commit_test.cpp.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "common/result.h"

namespace floatlb {

template <class Item>
class GroupCommit {
 public:
  // Writes and syncs `batch` (items in enqueue order); called by one thread at a time, unlocked.
  using Flush = std::function<Status(std::vector<Item>& batch)>;

  explicit GroupCommit(Flush flush) : flush_(std::move(flush)) {}

  // Queues items (kept in call order across callers) and returns the ticket to wait for.
  Result<uint64_t> enqueue(std::vector<Item> items) {
    std::lock_guard l(mu_);
    if (!failure_.ok()) return failure_.error();
    for (auto& i : items) pending_.push_back(std::move(i));
    return ++queued_;
  }

  // Blocks until every item up to `ticket` is durable, or their flush failed.
  Status wait(uint64_t ticket) {
    std::unique_lock l(mu_);
    for (;;) {
      if (ticket <= durable_) return okStatus();
      if (!failure_.ok()) return failure_;
      if (flushing_) {
        cv_.wait(l);
        continue;
      }
      std::vector<Item> batch;
      batch.swap(pending_);
      const uint64_t upto = queued_;
      flushing_ = true;
      l.unlock();
      Status s = flush_(batch);
      l.lock();
      flushing_ = false;
      ++flushes_;
      if (s.ok()) {
        durable_ = upto;
      } else {
        failure_ = s;
        pending_.clear();
      }
      cv_.notify_all();
    }
  }

  Status commit(std::vector<Item> items) {
    FLB_ASSIGN_OR_RETURN(uint64_t t, enqueue(std::move(items)));
    return wait(t);
  }

  [[nodiscard]] uint64_t flushes() const {
    std::lock_guard l(mu_);
    return flushes_;
  }

 private:
  Flush flush_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> pending_;
  uint64_t queued_ = 0;   // last ticket handed out
  uint64_t durable_ = 0;  // every ticket <= this is durable
  uint64_t flushes_ = 0;
  bool flushing_ = false;
  Status failure_;
};

}  // namespace floatlb
