#include "core/error.hpp"

namespace bookspace::core {

namespace {
struct Info {
  std::string_view code;
  int status;
  std::string_view title;
};

Info info(ErrorCode code) {
  switch (code) {
    case ErrorCode::validation_failed:
      return {"validation_failed", 400, "Validation failed"};
    case ErrorCode::unauthorized:
      return {"unauthorized", 401, "Unauthorized"};
    case ErrorCode::forbidden:
      return {"forbidden", 403, "Forbidden"};
    case ErrorCode::not_found:
      return {"not_found", 404, "Not found"};
    case ErrorCode::method_not_allowed:
      return {"method_not_allowed", 405, "Method not allowed"};
    case ErrorCode::conflict:
      return {"conflict", 409, "Conflict"};
    case ErrorCode::email_taken:
      return {"email_taken", 409, "Email already registered"};
    case ErrorCode::invalid_credentials:
      return {"invalid_credentials", 401, "Invalid credentials"};
    case ErrorCode::precondition_failed:
      return {"precondition_failed", 412, "Precondition failed"};
    case ErrorCode::precondition_required:
      return {"precondition_required", 428, "Precondition required"};
    case ErrorCode::payload_too_large:
      return {"payload_too_large", 413, "Payload too large"};
    case ErrorCode::unsupported_media_type:
      return {"unsupported_media_type", 415, "Unsupported media type"};
    case ErrorCode::range_not_satisfiable:
      return {"range_not_satisfiable", 416, "Range not satisfiable"};
    case ErrorCode::rate_limited:
      return {"rate_limited", 429, "Too many requests"};
    case ErrorCode::quota_exceeded:
      return {"quota_exceeded", 507, "Quota exceeded"};
    case ErrorCode::overloaded:
      return {"overloaded", 503, "Overloaded"};
    case ErrorCode::idempotency_conflict:
      return {"idempotency_conflict", 422, "Idempotency key reused with a different request"};
    case ErrorCode::headers_too_large:
      return {"headers_too_large", 431, "Request header fields too large"};
    case ErrorCode::link_expired:
      return {"link_expired", 410, "Link expired"};
    case ErrorCode::email_unverified:
      return {"email_unverified", 403, "Email not verified"};
    case ErrorCode::insufficient_storage:
      return {"insufficient_storage", 507, "Insufficient storage"};
    case ErrorCode::internal:
      return {"internal", 500, "Internal server error"};
  }
  return {"internal", 500, "Internal server error"};
}
}  // namespace

std::string_view to_string(ErrorCode code) {
  return info(code).code;
}
int http_status(ErrorCode code) {
  return info(code).status;
}
std::string_view default_title(ErrorCode code) {
  return info(code).title;
}

}  // namespace bookspace::core
