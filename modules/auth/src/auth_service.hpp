#pragma once

#include "passwords.hpp"
#include "tokens.hpp"

#include "core/async.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace bookspace::core {
class Tx;
class Database;
class EventLog;
class IdGenerator;
class Logger;
class Counter;
class Histogram;
class Metrics;
class WorkerPool;
}  // namespace bookspace::core

namespace bookspace::auth {

struct AuthSettings {
  TokenSettings tokens;
  HashCost hash_cost;
  int refresh_ttl_days = 30;
  int reuse_grace_ms = 2000;       ///< a rotated token presented again within this is a race, not theft
  int reset_ttl_ms = 30 * 60'000;  ///< password-reset tokens
};

struct Account {
  std::string id, email, password_hash, display_name, role;
  bool disabled = false;
  core::TimeMs created_at = 0, updated_at = 0;
  boost::json::object to_json() const;  ///< the API's `User`
};

/// What a client gets after register, login and refresh.
struct Issued {
  std::string access_token;
  std::string refresh_token;
  std::string session_id;
  Account account;
  boost::json::object to_json(int expires_in, bool with_user) const;
};

/// A keyset page of a list newest first: items created before (before_created_at, before_id).
struct ListPage {
  int limit = 20;
  long long before_created_at = std::numeric_limits<long long>::max();
  std::string before_id;
};

struct SessionInfo {
  std::string id;
  core::TimeMs created_at = 0, last_used_at = 0;
  std::string user_agent, ip;
};

struct ApiKeyInfo {
  std::string id, name;
  core::TimeMs created_at = 0;
  std::optional<core::TimeMs> expires_at;
};

struct ClientInfo {
  std::string user_agent;
  std::string ip;
};

/// Accounts, sessions and tokens. Blocking work runs on the database and CPU pools.
class AuthService {
 public:
  AuthService(core::Database& db, core::EventLog& events, core::WorkerPool& cpu, core::Clock const& clock,
              core::IdGenerator& ids, core::Logger& log, KeyRing ring, AuthSettings settings,
              core::Metrics& metrics);

  core::Awaitable<Issued> register_account(std::string email, std::string password, std::string display_name,
                                           ClientInfo client);
  /// invalid_credentials for an unknown email, a wrong password or a disabled account alike;
  /// every path verifies one Argon2id hash (a dummy one when the email is unknown).
  core::Awaitable<Issued> login(std::string email, std::string password, ClientInfo client);
  core::Awaitable<Issued> refresh(std::string refresh_token);
  /// Asked before a refresh token of `session_id` is rotated: seconds to wait, 0 = go ahead
  /// (the per-session rate limit). Unset: no limit.
  std::function<int(std::string const& session_id)> refresh_throttle;

  /// Starts a password reset and returns at once, before anything about the account is known.
  /// Then, on the database pool: for an active account, a single-use token (valid reset_ttl_ms)
  /// supersedes any earlier one and on_reset_requested delivers it after commit; for an unknown
  /// or disabled email nothing happens. The caller cannot tell the difference, by answer or by
  /// time. Throws ApiError(overloaded) when the database queue is full.
  void request_password_reset(std::string email);
  std::function<void(std::string const& email, std::string const& token)> on_reset_requested;
  /// Redeems a reset token: the new password is stored and every session of the account is
  /// revoked. An unknown, used, superseded or expired token → 400 on field `token`.
  core::Awaitable<void> confirm_password_reset(std::string token, std::string new_password);
  core::Awaitable<void> revoke_session(std::string account_id, std::string session_id);
  /// Live sessions, newest first; up to page.limit + 1 (the extra one says a next page exists).
  core::Awaitable<std::vector<SessionInfo>> sessions(std::string account_id, ListPage page);
  core::Awaitable<std::optional<Account>> find(std::string id);

  /// Creates an API key (returned once, stored hashed); expires_in_days 0 = never.
  core::Awaitable<boost::json::object> create_api_key(std::string account_id, std::string name,
                                                      int expires_in_days);
  /// Live API keys, newest first; up to page.limit + 1.
  core::Awaitable<std::vector<ApiKeyInfo>> api_keys(std::string account_id, ListPage page);
  core::Awaitable<void> revoke_api_key(std::string account_id, std::string id);
  /// The principal an API key stands for, when it is valid now (not revoked or expired, and its
  /// account not disabled); the owner's current role.
  struct KeyOwner {
    std::string account_id, role;
    std::optional<core::TimeMs> expires_at;
  };
  core::Awaitable<std::optional<KeyOwner>> find_api_key(std::string key);
  /// Called after an API key revocation commits (here or, through the event log, elsewhere).
  std::function<void(std::string const& key_hash)> on_key_revoked;
  /// Verifies the current password, stores the new one and revokes every other session.
  core::Awaitable<void> change_password(std::string account_id, std::string keep_session_id,
                                        std::string current, std::string next);
  /// Role/disabled change; disabling revokes every live session. nullopt: no such account.
  core::Awaitable<std::optional<Account>> update(std::string id, std::optional<std::string> role,
                                                 std::optional<bool> disabled);
  /// Creates an account with the given role directly (the create-admin command).
  Account create_account_blocking(soci::session& sql, std::string email, std::string password,
                                  std::string role, std::string display_name);

  KeyRing const& keys() const { return ring_; }
  AuthSettings const& settings() const { return settings_; }
  /// Called after a revocation commits (here or, through the event log, elsewhere).
  std::function<void(std::string const& session_id, core::TimeMs at)> on_revoked;

 private:
  Issued issue(Account const& account, std::string session_id, std::string refresh_token);
  /// Revokes one live session in `tx`: event auth.session_revoked.v1, cache updated on commit.
  bool revoke_in(core::Tx& tx, std::string const& account_id, std::string const& session_id,
                 std::string_view reason, long long now);
  /// Revokes every live session of the account except `except`.
  void revoke_all_in(core::Tx& tx, std::string const& account_id, std::string const& except,
                     std::string_view reason, long long now);

  core::Database& db_;
  core::EventLog& events_;
  core::WorkerPool& cpu_;
  core::Clock const& clock_;
  core::IdGenerator& ids_;
  core::Logger& log_;
  KeyRing ring_;
  AuthSettings settings_;
  core::Counter& verifications_;
  core::Histogram& verify_seconds_;
  std::string dummy_hash_;
};

using core::sha256_hex;
/// Trimmed and lower-cased; throws ApiError(validation_failed) when it is not an address.
std::string normalize_email(std::string_view raw);

}  // namespace bookspace::auth
