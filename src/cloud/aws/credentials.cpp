#include "cloud/aws/credentials.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace floatlb::cloud::aws {

EnvLookup processEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

std::optional<Credentials> credentialsFromEnv(const EnvLookup& env) {
  auto id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (!id || !secret) return std::nullopt;
  Credentials c{*id, *secret, env("AWS_SESSION_TOKEN").value_or(""), 0};
  return c;
}

Result<int64_t> parseIso8601Utc(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::string t(text);
  char z = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z) < 6 || mo < 1 ||
      mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return makeError(ErrorCode::kInvalidArgument, "bad ISO-8601 time: " + t);
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

RefreshingCredentialsProvider::RefreshingCredentialsProvider(Fetch fetch, const Clock& clock,
                                                             Duration refresh_before)
    : fetch_(std::move(fetch)), clock_(clock), refresh_before_(refresh_before) {}

Result<Credentials> RefreshingCredentialsProvider::get() {
  std::lock_guard lock(mu_);
  if (cached_) {
    if (cached_->expiresEpochSec == 0) return *cached_;
    int64_t now_ms = clock_.wallMillis();
    int64_t refresh_at_ms = cached_->expiresEpochSec * 1000 -
                            std::chrono::duration_cast<std::chrono::milliseconds>(refresh_before_).count();
    if (now_ms < refresh_at_ms) return *cached_;
  }
  Result<Credentials> fresh = fetch_();
  if (!fresh.ok()) {
    // Keep using not-yet-expired credentials if the refresh failed (IMDS hiccup).
    if (cached_ && cached_->expiresEpochSec * 1000 > clock_.wallMillis()) return *cached_;
    return fresh.error().wrap("refreshing AWS credentials");
  }
  cached_ = fresh.value();
  return *cached_;
}

void RefreshingCredentialsProvider::invalidate() {
  std::lock_guard lock(mu_);
  cached_.reset();
}

}  // namespace floatlb::cloud::aws
