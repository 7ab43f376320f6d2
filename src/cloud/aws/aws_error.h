// AwsError / AwsResult<T>: the error channel of the EC2 client. Unlike floatlb::Error it keeps the AWS
// error code string ("DependencyViolation", "InvalidNetworkInterfaceID.NotFound"), the request id and
// the HTTP status, so callers can branch on the exact AWS code. AwsError converts implicitly to
// floatlb::Error, so FLB_TRY / FLB_ASSIGN_OR_RETURN work inside functions returning Result<U>.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/result.h"

namespace floatlb::cloud::aws {

struct AwsError {
  ErrorCode kind = ErrorCode::kInternal;  // coarse floatlb category (see classifyAwsCode)
  std::string code;                       // AWS error code; empty for transport/parse failures
  std::string message;                    // AWS message or transport error text
  std::string requestId;                  // AWS RequestID, if the server sent one
  int httpStatus = 0;                     // 0 when no HTTP response was received
  std::string action;                     // EC2 Action that failed, e.g. "DeleteSubnet"

  [[nodiscard]] bool is(std::string_view aws_code) const { return code == aws_code; }
  // "*.NotFound" codes: the named resource does not exist (or is not yet visible).
  [[nodiscard]] bool isNotFound() const;
  // RequestLimitExceeded / Throttling...: the call may succeed later.
  [[nodiscard]] bool isThrottling() const;
  // Worth retrying with backoff: throttling, HTTP 5xx, or no HTTP response at all.
  [[nodiscard]] bool isRetryable() const;
  [[nodiscard]] std::string str() const;
  [[nodiscard]] Error toError() const { return Error{kind, str()}; }
  operator Error() const { return toError(); }  // NOLINT(google-explicit-constructor)
  // Lets FLB_TRY(awsCall()) return straight from a function whose return type is Result<U>/Status.
  template <class U>
  operator Result<U>() const {  // NOLINT(google-explicit-constructor)
    return toError();
  }
};

// Maps an AWS error code (+ HTTP status) to a floatlb ErrorCode.
ErrorCode classifyAwsCode(std::string_view aws_code, int http_status);
bool isThrottlingCode(std::string_view aws_code);

inline AwsError transportError(const Error& e, std::string action) {
  return AwsError{e.code, "", e.message, "", 0, std::move(action)};
}

template <class T>
class [[nodiscard]] AwsResult {
 public:
  AwsResult(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  AwsResult(AwsError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const AwsError& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  // Converts to the project-wide Result (drops the AWS detail into the message).
  Result<T> toResult() && {
    if (ok()) return std::move(*this).value();
    return error().toError();
  }

 private:
  std::variant<T, AwsError> v_;
};

template <>
class [[nodiscard]] AwsResult<void> {
 public:
  AwsResult() = default;
  AwsResult(AwsError error) : err_(std::move(error)), failed_(true) {}  // NOLINT

  [[nodiscard]] bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const AwsError& error() const {
    assert(!ok());
    return err_;
  }
  Status toResult() const {
    if (ok()) return okStatus();
    return err_.toError();
  }

 private:
  AwsError err_;
  bool failed_ = false;
};

using AwsStatus = AwsResult<void>;

}  // namespace floatlb::cloud::aws
