// AwsError / AwsResult<T> (= Result<T, AwsError>): the error channel of the EC2 client. Unlike floatlb::Error
// it keeps the AWS error code string ("DependencyViolation", "InvalidNetworkInterfaceID.NotFound"), the
// request id and the HTTP status, so callers can branch on the exact AWS code. AwsError converts implicitly
// to floatlb::Error, so FLB_TRY / FLB_ASSIGN_OR_RETURN work inside functions returning Result<U>.
#pragma once

#include <string>
#include <string_view>
#include <utility>

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

// The project's Result with the AWS error kept (toResult() drops it into a floatlb::Error).
template <class T>
using AwsResult = Result<T, AwsError>;

using AwsStatus = AwsResult<void>;

}  // namespace floatlb::cloud::aws
