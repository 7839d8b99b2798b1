#pragma once

// The auth module's repository: every SQL statement on its tables, one function per operation.
// Callers own transactions (core::Tx); nothing here decides, publishes or hashes.

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace soci {
class session;
}

namespace bookspace::auth {

// Times are milliseconds since the epoch.

struct Account {
  std::string id, email, password_hash, display_name, role;
  bool disabled = false;
  long long created_at = 0, updated_at = 0;
};

std::optional<Account> find_account_by_email(soci::session& sql, std::string const& email);
std::optional<Account> find_account_by_id(soci::session& sql, std::string const& id);
void insert_account(soci::session& sql, Account const& a);
void update_password_hash(soci::session& sql, std::string const& account_id, std::string const& hash);
void update_account_flags(soci::session& sql, Account const& a);
void update_display_name(soci::session& sql, std::string const& account_id, std::string const& name,
                         long long now);

struct NewSession {
  std::string id, account_id, user_agent, ip, refresh_hash;
  long long created_at = 0, expires_at = 0;
};
/// The session row and its first refresh token.
void insert_session(soci::session& sql, NewSession const& s);

/// A refresh token with its session and account, as a refresh finds it.
struct RefreshState {
  std::string session_id;
  std::optional<long long> rotated_at, revoked_at;
  long long expires_at = 0;
  Account account;
};
std::optional<RefreshState> find_refresh(soci::session& sql, std::string const& token_hash);
/// Marks the token rotated; false when another refresh rotated it first.
bool rotate_refresh(soci::session& sql, std::string const& token_hash, long long now);
/// The session's next refresh token; the session counts as used now.
void insert_next_refresh(soci::session& sql, std::string const& session_id, std::string const& token_hash,
                         long long now);

/// Revokes a live session of the account; false when it was not one.
bool revoke_session(soci::session& sql, std::string const& account_id, std::string const& session_id,
                    long long now);
std::vector<std::string> live_session_ids(soci::session& sql, std::string const& account_id);
/// Sessions revoked after `since`: {id, revoked_at}.
std::vector<std::pair<std::string, long long>> revoked_since(soci::session& sql, long long since);

/// A keyset page of a list newest first: items created before (before_created_at, before_id).
struct ListPage {
  int limit = 20;
  long long before_created_at = std::numeric_limits<long long>::max();
  std::string before_id;
};

struct SessionInfo {
  std::string id;
  long long created_at = 0, last_used_at = 0;
  std::string user_agent, ip;
};
/// Live, unexpired sessions newest first; up to page.limit + 1.
std::vector<SessionInfo> list_sessions(soci::session& sql, std::string const& account_id, long long now,
                                       ListPage const& page);

struct ApiKeyInfo {
  std::string id, name;
  long long created_at = 0;
  std::optional<long long> expires_at;
};
void insert_api_key(soci::session& sql, ApiKeyInfo const& key, std::string const& account_id,
                    std::string const& key_hash);
/// Live keys newest first; up to page.limit + 1.
std::vector<ApiKeyInfo> list_api_keys(soci::session& sql, std::string const& account_id,
                                      ListPage const& page);
/// Revokes a live key of the account and returns its hash; nullopt when it was not one.
std::optional<std::string> revoke_api_key(soci::session& sql, std::string const& account_id,
                                          std::string const& id, long long now);

/// The account a live key belongs to, with the account's current role and state.
struct KeyRow {
  std::string account_id, role;
  bool disabled = false;
  std::optional<long long> expires_at;
};
std::optional<KeyRow> find_api_key(soci::session& sql, std::string const& key_hash);

/// A new reset token for the account; earlier unused ones stop working.
void replace_reset_token(soci::session& sql, std::string const& account_id, std::string const& token_hash,
                         long long now, long long expires_at);
/// The active account an unused, unexpired reset token belongs to.
std::optional<std::string> find_reset_account(soci::session& sql, std::string const& token_hash,
                                              long long now);
/// Marks the token used; false when it was used, superseded or expired meanwhile.
bool use_reset_token(soci::session& sql, std::string const& token_hash, long long now);

}  // namespace bookspace::auth
