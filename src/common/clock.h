// Injected time: pure logic takes a Clock& so tests can drive it with FakeClock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace floatlb {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time (CLOCK_MONOTONIC, the same clock bpf_ktime_get_ns() reads).
  [[nodiscard]] virtual TimePoint now() const = 0;
  // Wall-clock time in milliseconds since the Unix epoch, for logs and reports only.
  [[nodiscard]] virtual int64_t wallMillis() const = 0;
};

class SteadyClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
  }
  [[nodiscard]] int64_t wallMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1000))) : now_(start) {}
  [[nodiscard]] TimePoint now() const override { return now_.load(); }
  [[nodiscard]] int64_t wallMillis() const override {
    return 1'700'000'000'000 +
           std::chrono::duration_cast<std::chrono::milliseconds>(now_.load().time_since_epoch()).count();
  }
  // Atomic: code under test may read the clock from several threads (concurrent EC2 reads).
  void advance(Duration d) {
    TimePoint cur = now_.load();
    while (!now_.compare_exchange_weak(cur, cur + d)) {
    }
  }

 private:
  std::atomic<TimePoint> now_;
};

inline uint64_t toNanos(TimePoint t) { return static_cast<uint64_t>(t.time_since_epoch().count()); }

}  // namespace floatlb
