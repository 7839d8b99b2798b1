#pragma once

#include "core/async.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bookspace::http {

/// A response as the idempotency store keeps it, to replay.
struct StoredResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// Remembers the responses to requests that carried an Idempotency-Key on routes with
/// RouteOptions::idempotent (API.md, Conventions). The kernel's app layer implements it over the
/// database, so every instance sees the same keys.
class IdempotencyStore {
 public:
  enum class Claim {
    fresh,     ///< first time: run the handler, then complete() or release()
    running,   ///< the first request is still running → 409
    mismatch,  ///< the key was used with another request → 422 idempotency_conflict
    replay,    ///< done before: `stored` is the response to replay
  };
  struct Outcome {
    Claim claim = Claim::fresh;
    StoredResponse stored;
    /// replay of a streamed request: the SHA-256 of the first body, which the new body must match.
    std::string body_digest;
  };

  virtual ~IdempotencyStore() = default;
  /// `scope` keeps callers apart (the principal); `fingerprint` identifies the request. A streamed
  /// request's fingerprint covers its method and target only: its body's digest is known at the
  /// end and given to complete().
  virtual core::Awaitable<Outcome> claim(std::string scope, std::string key, std::string fingerprint) = 0;
  virtual core::Awaitable<void> complete(std::string scope, std::string key, StoredResponse response,
                                         std::string body_digest = {}) = 0;
  /// Forgets a claim whose handler failed (5xx or an exception), so the client may retry.
  virtual core::Awaitable<void> release(std::string scope, std::string key) = 0;
};

/// A request with an Idempotency-Key on a RouteOptions::idempotent route: the key is claimed,
/// the route's handler runs and its answer is remembered — or the remembered answer is replayed,
/// or the reuse refused (409 while the first runs, 422 for another request under the same key).
/// A streamed body's digest is taken as the handler reads it. Throws ApiError for a bad key.
core::Awaitable<Response> run_idempotent(IdempotencyStore& store, Request& req, Route const& route,
                                         std::string_view key);

}  // namespace bookspace::http
