#pragma once

// The auth module's use cases: accounts, sessions, tokens, API keys and password resets,
// around the repository (store.hpp). Transport-free: routes.cpp turns HTTP into these calls.

#include "settings.hpp"
#include "store.hpp"
#include "tokens.hpp"

#include "core/async.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bookspace::core {
class Database;
class EventLog;
class IdGenerator;
class Logger;
class Clock;
class Counter;
class Histogram;
class Mailer;
class Metrics;
class Tx;
class WorkerPool;
}  // namespace bookspace::core

namespace bookspace::jobs {
class Queue;
}
namespace soci {
class session;
}

namespace bookspace::auth {

/// The job that mails a password reset when the jobs module runs: retried with its backoff
/// until the mail server takes the message, then dead-lettered (visible, redeliverable).
inline constexpr std::string_view reset_mail_job = "auth.send_reset_mail";
inline constexpr int reset_mail_attempts = 8;

/// Told after a revocation commits, so that tokens stop working at once (TokenAuthenticator).
class RevocationListener {
 public:
  virtual ~RevocationListener() = default;
  virtual void session_revoked(std::string const& session_id, long long at) = 0;
  virtual void key_revoked(std::string const& key_hash) = 0;
};

/// The per-session refresh limit: seconds to wait before `session_id` may refresh, 0 = now.
class RefreshLimit {
 public:
  virtual ~RefreshLimit() = default;
  virtual int wait_s(std::string const& session_id) = 0;
};

/// What a client gets after register, login and refresh.
struct Issued {
  std::string access_token;
  std::string refresh_token;
  std::string session_id;
  Account account;
};

struct ClientInfo {
  std::string user_agent;
  std::string ip;
};

/// A new API key: `key` is shown this once, only its hash is stored.
struct CreatedKey {
  ApiKeyInfo info;
  std::string key;
};

/// The principal an API key stands for now.
struct KeyOwner {
  std::string account_id, role;
  std::optional<long long> expires_at;
};

struct ServiceDeps {
  core::Database& db;
  core::EventLog& events;
  core::WorkerPool& cpu;  ///< Argon2id runs here, never on an io thread
  core::Clock const& clock;
  core::IdGenerator& ids;
  core::Logger& log;
  core::Metrics& metrics;
  core::Mailer& mailer;
  RevocationListener& revocations;
  RefreshLimit& refresh_limit;
  jobs::Queue* queue = nullptr;  ///< with the jobs module: reset mails are durable jobs
};

/// Errors are ApiError (decision 0005): invalid_credentials, email_taken, not_found…
class AuthService {
 public:
  AuthService(ServiceDeps deps, KeyRing ring, AuthSettings settings);

  core::Awaitable<Issued> register_account(std::string email, std::string password, std::string display_name,
                                           ClientInfo client);
  /// invalid_credentials for an unknown email, a wrong password or a disabled account alike;
  /// every path verifies one Argon2id hash (a dummy one when the email is unknown).
  core::Awaitable<Issued> login(std::string email, std::string password, ClientInfo client);
  /// Rotates the refresh token (rules.hpp judge_refresh); rate_limited past the session's limit.
  core::Awaitable<Issued> refresh(std::string refresh_token);

  /// Starts a password reset and returns at once, before anything about the account is known.
  /// Then, on the database pool: for an active account, a single-use token supersedes any
  /// earlier one and is mailed after commit; for an unknown or disabled email nothing happens.
  /// The caller cannot tell the difference, by answer or by time. Throws ApiError(overloaded)
  /// when the database queue is full.
  void request_password_reset(std::string email);
  /// The reset_mail_job's work (blocking, a job thread): a fresh token for the account, mailed.
  /// Throws when the mail server did not take it (the job is retried); false when the account
  /// is gone or disabled meanwhile.
  bool send_reset_mail(soci::session& sql, std::string const& account_id, bool last_attempt);
  /// Redeems a reset token: the new password is stored and every session of the account is
  /// revoked. An unknown, used, superseded or expired token → 400 on field `token`.
  core::Awaitable<void> confirm_password_reset(std::string token, std::string new_password);
  /// Verifies the current password, stores the new one and revokes every other session.
  core::Awaitable<void> change_password(std::string account_id, std::string keep_session_id,
                                        std::string current, std::string next);

  core::Awaitable<void> revoke_session(std::string account_id, std::string session_id);
  /// Live sessions, newest first; up to page.limit + 1 (the extra one says a next page exists).
  core::Awaitable<std::vector<SessionInfo>> sessions(std::string account_id, ListPage page);

  /// expires_in_days 0 = never.
  core::Awaitable<CreatedKey> create_api_key(std::string account_id, std::string name, int expires_in_days);
  /// Live API keys, newest first; up to page.limit + 1.
  core::Awaitable<std::vector<ApiKeyInfo>> api_keys(std::string account_id, ListPage page);
  core::Awaitable<void> revoke_api_key(std::string account_id, std::string id);

  core::Awaitable<std::optional<Account>> find(std::string id);
  /// Who owns a live API key now; nullopt for an unknown, revoked or expired key, or a disabled
  /// account.
  core::Awaitable<std::optional<KeyOwner>> key_owner(std::string key);
  /// Role/disabled change; disabling revokes every live session. nullopt: no such account.
  /// The display name; auth.account_updated.v1 carries it.
  core::Awaitable<std::optional<Account>> rename(std::string id, std::string display_name);
  core::Awaitable<std::optional<Account>> update(std::string id, std::optional<std::string> role,
                                                 std::optional<bool> disabled);

  KeyRing const& keys() const { return ring_; }
  AuthSettings const& settings() const { return settings_; }

 private:
  Issued issue(Account const& account, std::string session_id, std::string refresh_token);
  /// Inserts a session for the account; returns {session id, refresh token}.
  std::pair<std::string, std::string> open_session(core::Tx& tx, std::string const& account_id,
                                                   ClientInfo const& client, long long now);
  core::Awaitable<bool> verify(std::string hash, std::string password);
  /// Revokes one live session in `tx`: event auth.session_revoked.v1, listener told on commit.
  bool revoke_in(core::Tx& tx, std::string const& account_id, std::string const& session_id,
                 std::string_view reason, long long now);
  /// Revokes every live session of the account except `except`.
  void revoke_all_in(core::Tx& tx, std::string const& account_id, std::string const& except,
                     std::string_view reason, long long now);

  ServiceDeps deps_;
  KeyRing ring_;
  AuthSettings settings_;
  core::Counter& verifications_;
  core::Histogram& verify_seconds_;
  std::string dummy_hash_;
};

/// Inserts the account and publishes auth.user_registered.v1 in `tx`; ApiError(email_taken)
/// when the email has an account. Shared by register and `users create-admin`.
void add_account(core::Tx& tx, core::EventLog& events, Account const& account);
/// The API key a client presents ("bsk_…") as the principal it stands for, when usable now.
std::optional<KeyOwner> find_key_owner(soci::session& sql, std::string const& key, long long now);
/// 32 random bytes, base64url: refresh, reset and API-key secrets.
std::string new_secret();

}  // namespace bookspace::auth
