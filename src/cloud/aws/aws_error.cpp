#include "cloud/aws/aws_error.h"

namespace floatlb::cloud::aws {
namespace {
bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

bool isThrottlingCode(std::string_view c) {
  return c == "RequestLimitExceeded" || c == "Throttling" || c == "ThrottlingException" ||
         c == "ThrottledException" || c == "RequestThrottled" || c == "RequestThrottledException" ||
         c == "TooManyRequestsException" || c == "SlowDown" || c == "PriorRequestNotComplete" ||
         c == "EC2ThrottledException" || c == "BandwidthLimitExceeded";
}

ErrorCode classifyAwsCode(std::string_view c, int http_status) {
  if (isThrottlingCode(c)) return ErrorCode::kUnavailable;
  if (endsWith(c, ".NotFound") || endsWith(c, "NotFound")) return ErrorCode::kNotFound;
  if (c == "DependencyViolation" || c == "IncorrectState" || c == "InvalidSubnet.Conflict" ||
      endsWith(c, ".InUse") || c == "Resource.AlreadyAssociated" || c == "RouteAlreadyExists" ||
      c == "VpcCidrConflict" || c == "IdempotentParameterMismatch" || endsWith(c, ".Duplicate") ||
      c == "Gateway.NotAttached") {
    return ErrorCode::kConflict;
  }
  if (c == "AuthFailure" || c == "UnauthorizedOperation" || c == "Client.UnauthorizedOperation" ||
      c == "InvalidClientTokenId" || c == "SignatureDoesNotMatch" || c == "OptInRequired" || c == "Blocked") {
    return ErrorCode::kPermissionDenied;
  }
  if (endsWith(c, "LimitExceeded") || c == "InsufficientFreeAddressesInSubnet" ||
      c == "ResourceCountExceeded" || c == "InsufficientInstanceCapacity") {
    return ErrorCode::kResourceExhausted;
  }
  if (http_status >= 500 || http_status == 0) return ErrorCode::kUnavailable;
  return ErrorCode::kInvalidArgument;
}

bool AwsError::isNotFound() const { return endsWith(code, "NotFound"); }
bool AwsError::isThrottling() const { return isThrottlingCode(code); }

bool AwsError::isRetryable() const {
  if (isThrottling()) return true;
  if (httpStatus >= 500) return true;
  // No HTTP response at all: connection refused/reset, DNS, timeout.
  return httpStatus == 0 && code.empty() && (kind == ErrorCode::kUnavailable || kind == ErrorCode::kTimeout);
}

std::string AwsError::str() const {
  std::string s = action.empty() ? std::string("EC2") : "EC2 " + action;
  if (!code.empty()) s += ": " + code;
  if (!message.empty()) s += ": " + message;
  if (httpStatus != 0) s += " (HTTP " + std::to_string(httpStatus);
  if (!requestId.empty()) s += (httpStatus != 0 ? ", request " : " (request ") + requestId;
  if (httpStatus != 0 || !requestId.empty()) s += ")";
  return s;
}

}  // namespace floatlb::cloud::aws
