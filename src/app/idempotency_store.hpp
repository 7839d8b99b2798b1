#pragma once

#include "http/idempotency.hpp"

#include <atomic>

namespace bookspace::core {
class Clock;
class Database;
}  // namespace bookspace::core

namespace soci {
class session;
}

namespace bookspace::app {

/// http::IdempotencyStore over the `idempotency_keys` table, shared by every instance.
/// A claim inserts a 'running' row (INSERT … ON CONFLICT DO NOTHING decides between racing
/// requests, also across instances); complete() stores the response. Rows older than
/// `retention_ms` no longer count and are pruned; a 'running' row older than `stale_ms` (its
/// process died mid-request) is taken over by the next request with that key.
class DatabaseIdempotencyStore final : public http::IdempotencyStore {
 public:
  DatabaseIdempotencyStore(core::Database& db, core::Clock const& clock,
                           long long retention_ms = 24LL * 3600 * 1000,
                           long long stale_ms = 10LL * 60 * 1000);

  core::Awaitable<Outcome> claim(std::string scope, std::string key, std::string fingerprint) override;
  core::Awaitable<void> complete(std::string scope, std::string key, http::StoredResponse response,
                                 std::string body_digest = {}) override;
  core::Awaitable<void> release(std::string scope, std::string key) override;
  /// Deletes keys past the retention (a scheduler task, kernel.idempotency_prune); returns how many.
  std::size_t prune(soci::session& sql) const;

 private:
  core::Database& db_;
  core::Clock const& clock_;
  long long retention_ms_;
  long long stale_ms_;
};

}  // namespace bookspace::app
