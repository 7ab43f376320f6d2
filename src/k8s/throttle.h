// Honouring a server's "slow down" (kubernetes.md §2.1: 429 => Retry-After): the header parser
// shared by the API client and the operator's floatlb client, and the gate an ApiClient keeps so
// that, once told to wait, it sends nothing more until the time is up (requests in the meantime
// are answered 429 locally, and the caller's per-key backoff waits at least the time left).
// Pure: the caller passes now().
#pragma once

#include <mutex>
#include <optional>
#include <string_view>

#include "common/clock.h"

namespace floatlb::k8s {

// "Retry-After: 5\r\n" (any case, delay-seconds form) -> 5 s. The HTTP-date form and garbage
// give nullopt (the caller falls back to its own backoff); values are capped at 10 minutes.
std::optional<Duration> retryAfterHeader(std::string_view header_line);

class RetryAfterGate {
 public:
  // Records an answer: 429 (or 503 with Retry-After) closes the gate for Retry-After (1 s if absent).
  void observe(int code, Duration retry_after, TimePoint now);
  // Time left before requests may be sent again; zero when open.
  [[nodiscard]] Duration remaining(TimePoint now) const;
  [[nodiscard]] uint64_t throttled() const { return throttled_; }

 private:
  mutable std::mutex mu_;
  TimePoint until_{};
  uint64_t throttled_ = 0;
};

}  // namespace floatlb::k8s
