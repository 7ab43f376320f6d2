#include "k8s/throttle.h"

#include <algorithm>
#include <cctype>

namespace floatlb::k8s {

std::optional<Duration> retryAfterHeader(std::string_view line) {
  constexpr std::string_view kName = "retry-after:";
  if (line.size() < kName.size()) return std::nullopt;
  for (size_t i = 0; i < kName.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) return std::nullopt;
  }
  std::string_view v = line.substr(kName.size());
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  if (v.empty() || v.size() > 9) return std::nullopt;
  int64_t s = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    s = s * 10 + (c - '0');
  }
  return std::chrono::seconds(std::min<int64_t>(s, 600));
}

void RetryAfterGate::observe(int code, Duration retry_after, TimePoint now) {
  if (code != 429 && !(code == 503 && retry_after > Duration::zero())) return;
  Duration d = retry_after > Duration::zero() ? retry_after : std::chrono::seconds(1);
  std::lock_guard<std::mutex> l(mu_);
  ++throttled_;
  until_ = std::max(until_, now + d);
}

Duration RetryAfterGate::remaining(TimePoint now) const {
  std::lock_guard<std::mutex> l(mu_);
  return until_ > now ? until_ - now : Duration::zero();
}

}  // namespace floatlb::k8s
