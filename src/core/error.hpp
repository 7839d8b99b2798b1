#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::core {

/// The `code` values of API.md's problem+json bodies. Each maps to one HTTP status.
enum class ErrorCode {
  validation_failed,
  unauthorized,
  forbidden,
  not_found,
  method_not_allowed,
  conflict,
  email_taken,
  invalid_credentials,
  precondition_failed,
  precondition_required,
  payload_too_large,
  unsupported_media_type,
  range_not_satisfiable,
  rate_limited,
  quota_exceeded,
  overloaded,
  idempotency_conflict,
  headers_too_large,
  link_expired,          ///< 410: a signed file link past its expiry
  email_unverified,      ///< 403: the route needs a verified email (auth.require_verified_email)
  insufficient_storage,  ///< 507: the disk is full
  internal,
};

std::string_view to_string(ErrorCode code);
int http_status(ErrorCode code);
std::string_view default_title(ErrorCode code);

struct FieldError {
  std::string field;
  std::string message;
};

/// An expected failure, carried as a value (or thrown as ApiError where unwinding is simpler).
struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string detail;
  std::vector<FieldError> errors;
  int retry_after_s = 0;  ///< > 0: sent as Retry-After

  static Error validation(std::string field, std::string message) {
    return {
        ErrorCode::validation_failed, "The request is invalid.", {{std::move(field), std::move(message)}}};
  }
};

/// Thrown by code that cannot return an Error value (deep helpers, parsers); the HTTP layer
/// maps it to problem+json exactly as it maps an Error value.
class ApiError : public std::runtime_error {
 public:
  explicit ApiError(Error error)
      : std::runtime_error(std::string(to_string(error.code)) + ": " + error.detail),
        error_(std::move(error)) {}
  ApiError(ErrorCode code, std::string detail) : ApiError(Error{code, std::move(detail), {}}) {}
  Error const& error() const { return error_; }

 private:
  Error error_;
};

}  // namespace bookspace::core
