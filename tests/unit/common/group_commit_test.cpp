// GroupCommit: nothing is acknowledged before its flush returned, changes queued while a flush
// is in flight share the next one, order is kept, and a failed flush fails everything not yet
// durable (sticky).
#include "common/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace floatlb {
namespace {

using namespace std::chrono_literals;

// A flush that can be held at a gate, records every batch and an event log.
struct GatedSink {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
  bool fail = false;
  int entered = 0;
  std::vector<std::vector<int>> batches;
  std::vector<std::string> events;

  Status flush(std::vector<int>& batch) {
    std::unique_lock l(mu);
    ++entered;
    cv.notify_all();
    cv.wait(l, [this] { return !held; });
    if (fail) return makeError(ErrorCode::kIo, "disk gone");
    batches.push_back(batch);
    events.push_back("flushed " + std::to_string(batch.size()));
    return okStatus();
  }
  void release() {
    std::lock_guard l(mu);
    held = false;
    cv.notify_all();
  }
  bool waitEntered(int n) {
    std::unique_lock l(mu);
    return cv.wait_for(l, 5s, [&] { return entered >= n; });
  }
  void note(const std::string& e) {
    std::lock_guard l(mu);
    events.push_back(e);
  }
};

TEST(GroupCommitTest, NothingIsAcknowledgedBeforeItsFlushReturned) {
  GatedSink sink;
  sink.held = true;
  GroupCommit<int> gc([&](std::vector<int>& b) { return sink.flush(b); });
  std::thread writer([&] {
    if (gc.commit({1}).ok()) sink.note("acked");
  });
  ASSERT_TRUE(sink.waitEntered(1)) << "commit() never flushed";
  sink.release();
  writer.join();
  EXPECT_EQ(sink.events, (std::vector<std::string>{"flushed 1", "acked"}));
}

TEST(GroupCommitTest, ChangesQueuedDuringAFlushShareTheNextOne) {
  GatedSink sink;
  sink.held = true;
  GroupCommit<int> gc([&](std::vector<int>& b) { return sink.flush(b); });
  std::thread first([&] { EXPECT_TRUE(gc.commit({0}).ok()); });
  ASSERT_TRUE(sink.waitEntered(1));
  // Five more changes arrive while the first sync is in flight.
  std::vector<uint64_t> tickets;
  for (int i = 1; i <= 5; ++i) tickets.push_back(*gc.enqueue({i}));
  std::vector<std::thread> waiters;
  std::atomic<int> ok{0};
  for (auto t : tickets) waiters.emplace_back([&, t] { ok += gc.wait(t).ok() ? 1 : 0; });
  sink.release();
  first.join();
  for (auto& w : waiters) w.join();
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(gc.flushes(), 2u);                                                     // 6 changes, 2 syncs
  EXPECT_EQ(sink.batches, (std::vector<std::vector<int>>{{0}, {1, 2, 3, 4, 5}}));  // in order
}

TEST(GroupCommitTest, AFailedFlushFailsEverythingNotYetDurableAndSticks) {
  GatedSink sink;
  GroupCommit<int> gc([&](std::vector<int>& b) { return sink.flush(b); });
  ASSERT_TRUE(gc.commit({1}).ok());
  sink.held = true;
  sink.fail = true;
  std::thread first([&] { EXPECT_FALSE(gc.commit({2}).ok()); });
  ASSERT_TRUE(sink.waitEntered(2));
  const uint64_t queued = *gc.enqueue({3});  // queued while the failing flush runs
  sink.release();
  first.join();
  auto s = gc.wait(queued);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "disk gone");
  EXPECT_FALSE(gc.enqueue({4}).ok());
  EXPECT_EQ(sink.batches, (std::vector<std::vector<int>>{{1}}));  // 3 was never written
}

}  // namespace
}  // namespace floatlb
