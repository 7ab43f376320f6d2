// ManualTimer: CloudHook's WorkerTimer for tests. A timed wait of the hook's worker blocks until the
// test fires it (fire() advances the FakeClock by the requested duration first) or the hook wakes
// it (role change, stop). The test can ask whether the worker is in a timed wait right now, so
// "nothing happens while BACKUP" is a condition, not a sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "cloud/hook/cloud_hook.h"
#include "common/clock.h"

namespace floatlb::cloud::testing {

class ManualTimer final : public WorkerTimer {
 public:
  explicit ManualTimer(FakeClock& clock) : clock_(clock) {}

  void waitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Duration d,
               const std::function<bool()>& wake) override {
    hook_mu_.store(lock.mutex());
    hook_cv_.store(&cv);
    const uint64_t my = ++started_;  // under the hook's mutex
    requested_.store(d.count());
    waiting_.store(true);
    cv.wait(lock, [&] { return wake() || fired_ >= my; });
    waiting_.store(false);
    fired_ = std::max(fired_, my);  // a wake-up consumes this wait too
  }

  // Waits (bounded, real time) until the worker is in a timed wait, then advances the clock by its
  // duration and releases it. Returns the duration, or nullopt if no timed wait began in time.
  std::optional<Duration> fire(std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !awaitWaiting(left)) return std::nullopt;
      std::unique_lock l(*hook_mu_.load());
      if (!waiting_.load()) continue;  // that wait ended meanwhile (woken by the hook)
      const Duration d(requested_.load());
      clock_.advance(d);
      fired_ = started_.load();
      l.unlock();
      hook_cv_.load()->notify_all();
      return d;
    }
  }

  // True once the worker is in a timed wait (polls every 1 ms, up to `bound`).
  bool awaitWaiting(std::chrono::milliseconds bound) const {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!waiting_.load()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  [[nodiscard]] bool waiting() const { return waiting_.load(); }
  [[nodiscard]] uint64_t waits() const { return started_.load(); }

 private:
  FakeClock& clock_;
  std::atomic<std::mutex*> hook_mu_{nullptr};
  std::atomic<std::condition_variable*> hook_cv_{nullptr};
  std::atomic<uint64_t> started_{0};
  uint64_t fired_ = 0;  // under the hook's mutex
  std::atomic<Duration::rep> requested_{0};
  std::atomic<bool> waiting_{false};
};

}  // namespace floatlb::cloud::testing
