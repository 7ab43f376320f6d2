// Where AWS credentials come from: static keys (environment) or the instance profile via IMDS.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "cloud/aws/sigv4.h"
#include "common/clock.h"
#include "common/result.h"

namespace floatlb::cloud::aws {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Returns currently valid credentials (refreshing them if needed).
  virtual Result<Credentials> get() = 0;
  // Called when AWS rejected the credentials (e.g. ExpiredToken) so the next get() refreshes.
  virtual void invalidate() {}
};

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials c) : creds_(std::move(c)) {}
  Result<Credentials> get() override { return creds_; }

 private:
  Credentials creds_;
};

// Environment lookup, injectable for tests. Returns nullopt when unset (empty counts as unset).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup processEnv();

// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; nullopt unless both keys are set.
std::optional<Credentials> credentialsFromEnv(const EnvLookup& env);

// Caches credentials from a fetch function and refreshes them `refresh_before` ahead of expiry.
class RefreshingCredentialsProvider final : public CredentialsProvider {
 public:
  using Fetch = std::function<Result<Credentials>()>;
  RefreshingCredentialsProvider(Fetch fetch, const Clock& clock,
                                Duration refresh_before = std::chrono::minutes(5));
  Result<Credentials> get() override;
  void invalidate() override;

 private:
  Fetch fetch_;
  const Clock& clock_;
  Duration refresh_before_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// "2024-01-02T09:04:05Z" (IMDS Expiration) -> seconds since the epoch.
Result<int64_t> parseIso8601Utc(std::string_view text);

}  // namespace floatlb::cloud::aws
