// Result<T>: the one error channel of floatlb. A fallible function returns either a value or an
// Error (code + human-readable message with context). No exceptions cross module boundaries.
// Errors become HTTP statuses in exactly one place: src/api (see docs/errors.md).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace floatlb {

enum class ErrorCode {
  kInvalidArgument,   // the caller's input is wrong (HTTP 400)
  kNotFound,          // the thing named does not exist (404)
  kAlreadyExists,     // an identical thing exists (409)
  kConflict,          // the request contradicts current state (409)
  kResourceExhausted, // a limit was reached (403/507-like; we use 403 as the reference does)
  kUnavailable,       // a dependency is not reachable right now; retrying may help (503)
  kTimeout,           // an operation did not finish in time (503/504)
  kPermissionDenied,  // not allowed (403)
  kIo,                // a syscall or file operation failed (500)
  kInternal,          // a bug or an impossible state (500)
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes context: Error{..., "bad port"}.wrap("rule 1.2.3.4:80") -> "rule 1.2.3.4:80: bad port"
  [[nodiscard]] Error wrap(const std::string& context) const {
    return Error{code, context + ": " + message};
  }
};

inline Error makeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

  template <class U>
  T valueOr(U&& fallback) const& { return ok() ? value() : static_cast<T>(std::forward<U>(fallback)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(!ok()); return *err_; }

 private:
  std::optional<Error> err_;
};

using Status = Result<void>;

inline Status okStatus() { return {}; }

}  // namespace floatlb

// Propagate an error from an expression returning Result<...>.
#define FLB_TRY(expr)                                \
  do {                                               \
    auto flb_try_r_ = (expr);                        \
    if (!flb_try_r_.ok()) return flb_try_r_.error(); \
  } while (0)

// Evaluate a Result<T> expression; on success bind its value to `lhs`, else return the error.
#define FLB_CONCAT_INNER(a, b) a##b
#define FLB_CONCAT(a, b) FLB_CONCAT_INNER(a, b)
#define FLB_ASSIGN_OR_RETURN(lhs, expr) \
  FLB_ASSIGN_OR_RETURN_IMPL(FLB_CONCAT(flb_r_, __LINE__), lhs, expr)
#define FLB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.error();              \
  lhs = std::move(tmp).value()
