// Result<T, E = Error>: the one result type of floatlb. A fallible function returns either a value or
// an error: by default an Error (code + human-readable message with context); modules that must keep
// a richer error use their own E (the EC2 client's aws::AwsError, vpcsim's sim::ApiError) through an
// alias (aws::AwsResult<T>, sim::Outcome<T>). FLB_TRY / FLB_ASSIGN_OR_RETURN work for any E, as long
// as the enclosing function's return type can be built from that E. No exceptions cross module
// boundaries.
// Errors become HTTP statuses in exactly one place: src/api (docs/conventions.md, "Error policy").
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace floatlb {

enum class ErrorCode {
  kInvalidArgument,    // the caller's input is wrong (HTTP 400)
  kNotFound,           // the thing named does not exist (404)
  kAlreadyExists,      // an identical thing exists (409)
  kConflict,           // the request contradicts current state (409)
  kResourceExhausted,  // a limit was reached (403/507-like; we use 403 as the reference does)
  kUnavailable,        // a dependency is not reachable right now; retrying may help (503)
  kTimeout,            // an operation did not finish in time (503/504)
  kPermissionDenied,   // not allowed (403)
  kIo,                 // a syscall or file operation failed (500)
  kInternal,           // a bug or an impossible state (500)
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Prefixes context: Error{..., "bad port"}.wrap("rule 1.2.3.4:80") -> "rule 1.2.3.4:80: bad port"
  [[nodiscard]] Error wrap(const std::string& context) const { return Error{code, context + ": " + message}; }
};

inline Error makeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

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
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

  template <class U>
  T valueOr(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  // Converts to the project-wide Result<T> when E converts to Error (e.g. AwsError).
  Result<T, Error> toResult() && requires std::is_convertible_v<const E&, Error> {
    if (ok()) return std::move(*this).value();
    return static_cast<Error>(error());
  }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() = default;
  Result(E error) : err_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const E& error() const {
    assert(!ok());
    return *err_;
  }

  Result<void, Error> toResult() const requires std::is_convertible_v<const E&, Error> {
    if (ok()) return {};
    return static_cast<Error>(*err_);
  }

 private:
  std::optional<E> err_;
};

using Status = Result<void>;

inline Status okStatus() { return {}; }

}  // namespace floatlb

// Propagate an error from an expression returning Result<..., E>.
#define FLB_TRY(expr)                                \
  do {                                               \
    auto flb_try_r_ = (expr);                        \
    if (!flb_try_r_.ok()) return flb_try_r_.error(); \
  } while (0)

// Evaluate a Result<T, E> expression; on success bind its value to `lhs`, else return the error.
#define FLB_CONCAT_INNER(a, b) a##b
#define FLB_CONCAT(a, b) FLB_CONCAT_INNER(a, b)
#define FLB_ASSIGN_OR_RETURN(lhs, expr) FLB_ASSIGN_OR_RETURN_IMPL(FLB_CONCAT(flb_r_, __LINE__), lhs, expr)
#define FLB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.error();              \
  lhs = std::move(tmp).value()
