#include "auth_service.hpp"

#include "core/database.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/sql.hpp"
#include "core/text.hpp"
#include "core/worker_pool.hpp"

#include <bookspace/auth/events.hpp>

#include <soci/soci.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>

namespace bookspace::auth {

namespace json = boost::json;
using core::ApiError;
using core::ErrorCode;

namespace {

constexpr std::string_view find_by_email_sql =
    "SELECT id, email, password_hash, display_name, role, disabled, created_at, updated_at"
    " FROM auth_accounts WHERE email = :email";
constexpr std::string_view insert_account_sql =
    "INSERT INTO auth_accounts (id, email, password_hash, display_name, role, disabled, created_at, "
    "updated_at)"
    " VALUES (:id, :email, :hash, :name, :role, 0, :now, :now2)";
constexpr std::string_view update_hash_sql = "UPDATE auth_accounts SET password_hash = :hash WHERE id = :id";
constexpr std::string_view insert_session_sql =
    "INSERT INTO auth_sessions (id, account_id, created_at, last_used_at, expires_at, user_agent, ip)"
    " VALUES (:id, :account, :now, :now2, :expires, :ua, :ip)";
constexpr std::string_view insert_refresh_sql =
    "INSERT INTO auth_refresh_tokens (token_hash, session_id, created_at) VALUES (:hash, :session, :now)";
constexpr std::string_view find_refresh_sql =
    "SELECT t.session_id, t.rotated_at, s.revoked_at, s.expires_at,"
    " a.id, a.email, a.password_hash, a.display_name, a.role, a.disabled, a.created_at, a.updated_at"
    " FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id"
    " JOIN auth_accounts a ON a.id = s.account_id WHERE t.token_hash = :hash";
constexpr std::string_view rotate_refresh_sql =
    "UPDATE auth_refresh_tokens SET rotated_at = :now WHERE token_hash = :hash AND rotated_at IS NULL";
constexpr std::string_view touch_session_sql = "UPDATE auth_sessions SET last_used_at = :now WHERE id = :id";
constexpr std::string_view revoke_session_sql =
    "UPDATE auth_sessions SET revoked_at = :now WHERE id = :id AND account_id = :account AND revoked_at IS "
    "NULL";
constexpr std::string_view find_by_id_sql =
    "SELECT id, email, password_hash, display_name, role, disabled, created_at, updated_at"
    " FROM auth_accounts WHERE id = :id";
constexpr std::string_view update_account_sql =
    "UPDATE auth_accounts SET role = :role, disabled = :disabled, updated_at = :now WHERE id = :id";
constexpr std::string_view live_sessions_sql =
    "SELECT id FROM auth_sessions WHERE account_id = :account AND revoked_at IS NULL";
constexpr std::string_view insert_key_sql =
    "INSERT INTO auth_api_keys (id, account_id, name, key_hash, created_at, expires_at)"
    " VALUES (:id, :account, :name, :hash, :now, :expires)";
// Keyset pages, newest first; (created_at, id) never changes, so pages neither skip nor repeat.
constexpr std::string_view list_keys_sql =
    "SELECT id, name, created_at, expires_at FROM auth_api_keys"
    " WHERE account_id = :account AND revoked_at IS NULL"
    " AND (created_at < :key1 OR (created_at = :key2 AND id < :after))"
    " ORDER BY created_at DESC, id DESC LIMIT :limit";
constexpr std::string_view find_key_hash_sql =
    "SELECT key_hash FROM auth_api_keys WHERE id = :id AND account_id = :account AND revoked_at IS NULL";
constexpr std::string_view revoke_key_sql =
    "UPDATE auth_api_keys SET revoked_at = :now WHERE id = :id AND account_id = :account AND revoked_at IS "
    "NULL";
constexpr std::string_view find_key_sql =
    "SELECT k.account_id, a.role, a.disabled, k.expires_at FROM auth_api_keys k"
    " JOIN auth_accounts a ON a.id = k.account_id WHERE k.key_hash = :hash AND k.revoked_at IS NULL";
constexpr std::string_view list_sessions_sql =
    "SELECT id, created_at, last_used_at, user_agent, ip FROM auth_sessions"
    " WHERE account_id = :account AND revoked_at IS NULL AND expires_at > :now"
    " AND (created_at < :key1 OR (created_at = :key2 AND id < :after))"
    " ORDER BY created_at DESC, id DESC LIMIT :limit";

constexpr std::string_view supersede_resets_sql =
    "UPDATE auth_password_resets SET used_at = :now WHERE account_id = :account AND used_at IS NULL";
constexpr std::string_view insert_reset_sql =
    "INSERT INTO auth_password_resets (token_hash, account_id, created_at, expires_at)"
    " VALUES (:hash, :account, :now, :expires)";
constexpr std::string_view find_reset_sql =
    "SELECT r.account_id FROM auth_password_resets r JOIN auth_accounts a ON a.id = r.account_id"
    " WHERE r.token_hash = :hash AND r.used_at IS NULL AND r.expires_at > :now AND a.disabled = 0";
constexpr std::string_view use_reset_sql =
    "UPDATE auth_password_resets SET used_at = :now"
    " WHERE token_hash = :hash AND used_at IS NULL AND expires_at > :now2";

Account read_account(soci::row const& row, std::size_t first) {
  namespace sql = core::sql;
  Account a;
  a.id = sql::get_text(row, first);
  a.email = sql::get_text(row, first + 1);
  a.password_hash = sql::get_text(row, first + 2);
  a.display_name = sql::get_text(row, first + 3);
  a.role = sql::get_text(row, first + 4);
  a.disabled = sql::get_int(row, first + 5) != 0;
  a.created_at = sql::get_int(row, first + 6);
  a.updated_at = sql::get_int(row, first + 7);
  return a;
}

/// The account `query` (find_by_email_sql or find_by_id_sql) selects with `key`.
std::optional<Account> find_account(soci::session& sql, std::string_view query, std::string const& key) {
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
  for (auto const& row : rows) return read_account(row, 0);
  return std::nullopt;
}

std::string new_refresh_token() {
  std::string raw(32, '\0');
  randombytes_buf(raw.data(), raw.size());
  return base64url_encode(raw);
}

/// Inserts a session and its first refresh token; returns {session id, refresh token}.
std::pair<std::string, std::string> create_session(core::Tx& tx, core::IdGenerator& ids,
                                                   std::string const& account_id, ClientInfo const& client,
                                                   long long now, long long expires) {
  std::string id = ids.uuid_v7();
  std::string token = new_refresh_token();
  std::string hash = sha256_hex(token);
  std::string ua = client.user_agent.substr(0, 256);
  std::string ip = client.ip;
  tx.sql << insert_session_sql, soci::use(id), soci::use(account_id), soci::use(now), soci::use(now),
      soci::use(expires), soci::use(ua), soci::use(ip);
  tx.sql << insert_refresh_sql, soci::use(hash), soci::use(id), soci::use(now);
  return {id, token};
}

ApiError invalid_credentials() {
  return ApiError(ErrorCode::invalid_credentials, "The email or password is not correct.");
}

ApiError invalid_reset_token() {
  return ApiError(core::Error::validation("token", "is invalid, used or expired; request a new one"));
}

ApiError invalid_refresh() {
  return ApiError(ErrorCode::unauthorized, "The refresh token is not valid.");
}

}  // namespace

std::string normalize_email(std::string_view raw) {
  auto email = core::normalize_email(raw);
  if (!email) {
    throw ApiError(core::Error::validation(
        "email", "must be an email address (ASCII before the @; the domain may be international)"));
  }
  return std::move(*email);
}

json::object Account::to_json() const {
  return {{"id", id},
          {"email", email},
          {"display_name", display_name},
          {"role", role},
          {"disabled", disabled},
          {"created_at", core::format_rfc3339(created_at)},
          {"updated_at", core::format_rfc3339(updated_at)}};
}

json::object Issued::to_json(int expires_in, bool with_user) const {
  json::object out{{"access_token", access_token},
                   {"refresh_token", refresh_token},
                   {"token_type", "Bearer"},
                   {"expires_in", expires_in}};
  if (with_user) out["user"] = account.to_json();
  return out;
}

AuthService::AuthService(core::Database& db, core::EventLog& events, core::WorkerPool& cpu,
                         core::Clock const& clock, core::IdGenerator& ids, core::Logger& log, KeyRing ring,
                         AuthSettings settings, core::Metrics& metrics)
    : db_(db),
      events_(events),
      cpu_(cpu),
      clock_(clock),
      ids_(ids),
      log_(log),
      ring_(std::move(ring)),
      settings_(settings),
      verifications_(
          metrics.counter("auth_password_verifications_total",
                          "Argon2id verifications at login (unknown emails verify a dummy hash).")),
      verify_seconds_(metrics.histogram("auth_password_verify_seconds",
                                        "Time one Argon2id verification takes on the CPU pool.")),
      dummy_hash_(hash_password(KeyRing::new_seed(), settings.hash_cost)) {}

Issued AuthService::issue(Account const& account, std::string session_id, std::string refresh_token) {
  const auto now = clock_.now_ms();
  AccessClaims claims{account.id,     session_id, account.role,
                      ids_.uuid_v7(), now,        now + settings_.tokens.lifetime_s * 1000LL};
  return Issued{issue_access_token(ring_, settings_.tokens, claims), std::move(refresh_token),
                std::move(session_id), account};
}

core::Awaitable<Issued> AuthService::register_account(std::string email, std::string password,
                                                      std::string display_name, ClientInfo client) {
  const HashCost cost = settings_.hash_cost;
  std::string hash = co_await core::run_in(cpu_, [&](std::size_t) { return hash_password(password, cost); });
  const long long now = clock_.now_ms();
  const long long expires = now + settings_.refresh_ttl_days * 86'400'000LL;
  Account account{ids_.uuid_v7(), email, hash, display_name, "member", false, now, now};
  auto [session_id, refresh] = co_await db_.transaction([&](core::Tx& tx) {
    if (find_account(tx.sql, find_by_email_sql, email))
      throw ApiError(ErrorCode::email_taken, "An account with this email exists.");
    tx.sql << insert_account_sql, soci::use(account.id), soci::use(account.email), soci::use(hash),
        soci::use(account.display_name), soci::use(account.role), soci::use(now), soci::use(now);
    auto session = create_session(tx, ids_, account.id, client, now, expires);
    core::publish(events_, tx, account.id,
                  UserRegistered{account.id, account.email, account.display_name, account.role, now});
    return session;
  });
  co_return issue(account, std::move(session_id), std::move(refresh));
}

core::Awaitable<Issued> AuthService::login(std::string email, std::string password, ClientInfo client) {
  core::shed_if_full(cpu_);  // a login flood beyond the hashing capacity costs no database trip
  auto found =
      co_await db_.run([&](soci::session& sql) { return find_account(sql, find_by_email_sql, email); });
  const std::string hash = found ? found->password_hash : dummy_hash_;
  const bool ok = co_await core::run_in(cpu_, [&](std::size_t) {
    verifications_.inc();
    const auto started = std::chrono::steady_clock::now();
    const bool match = verify_password(hash, password);
    verify_seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return match;
  });
  if (!found || !ok || found->disabled) throw invalid_credentials();
  Account account = *found;
  const HashCost cost = settings_.hash_cost;
  if (needs_rehash(account.password_hash, cost)) {
    std::string fresh =
        co_await core::run_in(cpu_, [&](std::size_t) { return hash_password(password, cost); });
    co_await db_.run(
        [&](soci::session& sql) { sql << update_hash_sql, soci::use(fresh), soci::use(account.id); });
  }
  const long long now = clock_.now_ms();
  const long long expires = now + settings_.refresh_ttl_days * 86'400'000LL;
  auto [session_id, refresh] = co_await db_.transaction(
      [&](core::Tx& tx) { return create_session(tx, ids_, account.id, client, now, expires); });
  co_return issue(account, std::move(session_id), std::move(refresh));
}

core::Awaitable<Issued> AuthService::refresh(std::string refresh_token) {
  enum class Outcome { rotated, invalid, reused };
  const std::string hash = sha256_hex(refresh_token);
  const long long now = clock_.now_ms();
  Outcome outcome = Outcome::invalid;
  Account account;
  std::string session_id, next_token;
  co_await db_.transaction([&](core::Tx& tx) {
    soci::rowset<soci::row> rows = (tx.sql.prepare << find_refresh_sql, soci::use(hash));
    std::optional<long long> rotated_at, revoked_at;
    long long expires_at = 0;
    bool found = false;
    for (auto const& row : rows) {
      found = true;
      session_id = core::sql::get_text(row, 0);
      rotated_at = core::sql::get_opt_int(row, 1);
      revoked_at = core::sql::get_opt_int(row, 2);
      expires_at = core::sql::get_int(row, 3);
      account = read_account(row, 4);
    }
    if (!found || revoked_at || expires_at <= now || account.disabled) return;
    if (refresh_throttle) {
      if (int wait_s = refresh_throttle(session_id); wait_s > 0) {
        core::Error error{ErrorCode::rate_limited, "Too many refreshes for this session.", {}};
        error.retry_after_s = wait_s;
        throw ApiError(std::move(error));
      }
    }
    if (rotated_at) {
      if (now - *rotated_at <= settings_.reuse_grace_ms) return;  // a concurrent refresh, not a replay
      revoke_in(tx, account.id, session_id, "refresh_token_reuse", now);
      outcome = Outcome::reused;
      return;
    }
    soci::statement rotate = (tx.sql.prepare << rotate_refresh_sql, soci::use(now), soci::use(hash));
    rotate.execute(true);
    if (rotate.get_affected_rows() != 1) return;  // lost a race with a concurrent refresh
    next_token = new_refresh_token();
    std::string next_hash = sha256_hex(next_token);
    tx.sql << insert_refresh_sql, soci::use(next_hash), soci::use(session_id), soci::use(now);
    tx.sql << touch_session_sql, soci::use(now), soci::use(session_id);
    outcome = Outcome::rotated;
  });
  if (outcome == Outcome::reused) {
    log_.warn("refresh token reused; session revoked", {{"session_id", session_id}, {"user_id", account.id}});
  }
  if (outcome != Outcome::rotated) throw invalid_refresh();
  co_return issue(account, std::move(session_id), std::move(next_token));
}

bool AuthService::revoke_in(core::Tx& tx, std::string const& account_id, std::string const& session_id,
                            std::string_view reason, long long now) {
  soci::statement st =
      (tx.sql.prepare << revoke_session_sql, soci::use(now), soci::use(session_id), soci::use(account_id));
  st.execute(true);
  if (st.get_affected_rows() != 1) return false;
  core::publish(events_, tx, session_id, SessionRevoked{session_id, account_id, std::string(reason)});
  tx.on_commit([this, session_id, now] {
    if (on_revoked) on_revoked(session_id, now);
  });
  return true;
}

void AuthService::revoke_all_in(core::Tx& tx, std::string const& account_id, std::string const& except,
                                std::string_view reason, long long now) {
  std::vector<std::string> live;
  soci::rowset<soci::row> rows = (tx.sql.prepare << live_sessions_sql, soci::use(account_id));
  for (auto const& row : rows) live.push_back(core::sql::get_text(row, 0));
  for (auto const& sid : live) {
    if (sid != except) revoke_in(tx, account_id, sid, reason, now);
  }
}

core::Awaitable<void> AuthService::revoke_session(std::string account_id, std::string session_id) {
  const long long now = clock_.now_ms();
  const bool revoked = co_await db_.transaction(
      [&](core::Tx& tx) { return revoke_in(tx, account_id, session_id, "logout", now); });
  if (!revoked) throw ApiError(ErrorCode::not_found, "No such session.");
}

core::Awaitable<std::vector<SessionInfo>> AuthService::sessions(std::string account_id, ListPage page) {
  const long long now = clock_.now_ms();
  co_return co_await db_.run([&](soci::session& sql) {
    std::vector<SessionInfo> items;
    const int limit = page.limit + 1;
    soci::rowset<soci::row> rows = (sql.prepare << list_sessions_sql, soci::use(account_id), soci::use(now),
                                    soci::use(page.before_created_at), soci::use(page.before_created_at),
                                    soci::use(page.before_id), soci::use(limit));
    for (auto const& row : rows) {
      items.push_back({core::sql::get_text(row, 0), core::sql::get_int(row, 1), core::sql::get_int(row, 2),
                       core::sql::get_text(row, 3), core::sql::get_text(row, 4)});
    }
    return items;
  });
}

core::Awaitable<void> AuthService::change_password(std::string account_id, std::string keep_session_id,
                                                   std::string current, std::string next) {
  core::shed_if_full(cpu_);
  auto account = co_await find(account_id);
  if (!account) throw ApiError(ErrorCode::unauthorized, "The account no longer exists.");
  const HashCost cost = settings_.hash_cost;
  const std::string stored = account->password_hash;
  const bool ok = co_await core::run_in(cpu_, [&](std::size_t) { return verify_password(stored, current); });
  if (!ok) throw ApiError(core::Error::validation("current_password", "is not correct"));
  std::string hash = co_await core::run_in(cpu_, [&](std::size_t) { return hash_password(next, cost); });
  const long long now = clock_.now_ms();
  co_await db_.transaction([&](core::Tx& tx) {
    tx.sql << update_hash_sql, soci::use(hash), soci::use(account_id);
    revoke_all_in(tx, account_id, keep_session_id, "password_changed", now);
  });
}

void AuthService::request_password_reset(std::string email) {
  // Nothing that depends on the account happens before the caller answers: the lookup, the
  // token and the mail run afterwards on the database pool, so an existing and an unknown
  // address cost the request the same work (no timing tells them apart).
  const bool queued = db_.submit("password reset", [this, email = std::move(email)](soci::session& sql) {
    const long long now = clock_.now_ms();
    const long long expires = now + settings_.reset_ttl_ms;
    core::run_transaction(sql, db_.dialect(), [&](core::Tx& tx) {
      auto account = find_account(tx.sql, find_by_email_sql, email);
      if (!account || account->disabled) return;
      std::string token = new_refresh_token();
      std::string hash = sha256_hex(token);
      tx.sql << supersede_resets_sql, soci::use(now), soci::use(account->id);
      tx.sql << insert_reset_sql, soci::use(hash), soci::use(account->id), soci::use(now), soci::use(expires);
      tx.on_commit([this, email, token] {
        if (on_reset_requested) on_reset_requested(email, token);
      });
    });
  });
  if (!queued) {
    core::Error error{ErrorCode::overloaded, "The server is busy; retry shortly.", {}};
    error.retry_after_s = 1;
    throw ApiError(std::move(error));
  }
}

core::Awaitable<void> AuthService::confirm_password_reset(std::string token, std::string new_password) {
  core::shed_if_full(cpu_);
  const std::string hash = sha256_hex(token);
  // Checked before hashing, so that guessing tokens costs the server no Argon2id work.
  const long long checked_at = clock_.now_ms();
  auto account_id = co_await db_.run([&](soci::session& sql) -> std::optional<std::string> {
    soci::rowset<soci::row> rows = (sql.prepare << find_reset_sql, soci::use(hash), soci::use(checked_at));
    for (auto const& row : rows) return core::sql::get_text(row, 0);
    return std::nullopt;
  });
  if (!account_id) throw invalid_reset_token();
  const HashCost cost = settings_.hash_cost;
  std::string fresh =
      co_await core::run_in(cpu_, [&](std::size_t) { return hash_password(new_password, cost); });
  const long long now = clock_.now_ms();
  co_await db_.transaction([&](core::Tx& tx) {
    soci::statement use = (tx.sql.prepare << use_reset_sql, soci::use(now), soci::use(hash), soci::use(now));
    use.execute(true);
    if (use.get_affected_rows() != 1) throw invalid_reset_token();  // redeemed meanwhile
    tx.sql << update_hash_sql, soci::use(fresh), soci::use(*account_id);
    revoke_all_in(tx, *account_id, "", "password_reset", now);
  });
  log_.info("password reset", {{"user_id", *account_id}});
}

core::Awaitable<std::optional<Account>> AuthService::find(std::string id) {
  co_return co_await db_.run([&](soci::session& sql) { return find_account(sql, find_by_id_sql, id); });
}

core::Awaitable<std::optional<Account>> AuthService::update(std::string id, std::optional<std::string> role,
                                                            std::optional<bool> disabled) {
  const long long now = clock_.now_ms();
  co_return co_await db_.transaction([&](core::Tx& tx) -> std::optional<Account> {
    auto account = find_account(tx.sql, find_by_id_sql, id);
    if (!account) return std::nullopt;
    if (role) account->role = *role;
    if (disabled) account->disabled = *disabled;
    account->updated_at = now;
    int flag = account->disabled ? 1 : 0;
    tx.sql << update_account_sql, soci::use(account->role), soci::use(flag), soci::use(now), soci::use(id);
    if (account->disabled) revoke_all_in(tx, id, "", "account_disabled", now);
    core::publish(events_, tx, id, AccountUpdated{id, account->role, account->disabled, now});
    return account;
  });
}

Account AuthService::create_account_blocking(soci::session& sql, std::string email, std::string password,
                                             std::string role, std::string display_name) {
  const long long now = clock_.now_ms();
  Account account{ids_.uuid_v7(),
                  email,
                  hash_password(password, settings_.hash_cost),
                  display_name,
                  role,
                  false,
                  now,
                  now};
  core::run_transaction(sql, db_.dialect(), [&](core::Tx& tx) {
    if (find_account(tx.sql, find_by_email_sql, email))
      throw ApiError(ErrorCode::email_taken, "An account with this email exists.");
    tx.sql << insert_account_sql, soci::use(account.id), soci::use(account.email),
        soci::use(account.password_hash), soci::use(account.display_name), soci::use(account.role),
        soci::use(now), soci::use(now);
    core::publish(events_, tx, account.id,
                  UserRegistered{account.id, account.email, account.display_name, account.role, now});
  });
  return account;
}

core::Awaitable<json::object> AuthService::create_api_key(std::string account_id, std::string name,
                                                          int expires_in_days) {
  const long long now = clock_.now_ms();
  std::string id = ids_.uuid_v7();
  std::string key = "bsk_" + new_refresh_token();
  std::string hash = sha256_hex(key);
  std::optional<long long> expires;
  if (expires_in_days > 0) expires = now + expires_in_days * 86'400'000LL;
  co_await db_.run([&](soci::session& sql) {
    soci::indicator ind = expires ? soci::i_ok : soci::i_null;
    long long expires_value = expires.value_or(0);
    sql << insert_key_sql, soci::use(id), soci::use(account_id), soci::use(name), soci::use(hash),
        soci::use(now), soci::use(expires_value, ind);
  });
  co_return json::object{
      {"id", id},
      {"name", name},
      {"key", key},
      {"created_at", core::format_rfc3339(now)},
      {"expires_at", expires ? json::value(core::format_rfc3339(*expires)) : json::value(nullptr)}};
}

core::Awaitable<std::vector<ApiKeyInfo>> AuthService::api_keys(std::string account_id, ListPage page) {
  co_return co_await db_.run([&](soci::session& sql) {
    std::vector<ApiKeyInfo> items;
    const int limit = page.limit + 1;
    soci::rowset<soci::row> rows =
        (sql.prepare << list_keys_sql, soci::use(account_id), soci::use(page.before_created_at),
         soci::use(page.before_created_at), soci::use(page.before_id), soci::use(limit));
    for (auto const& row : rows) {
      items.push_back({core::sql::get_text(row, 0), core::sql::get_text(row, 1), core::sql::get_int(row, 2),
                       core::sql::get_opt_int(row, 3)});
    }
    return items;
  });
}

core::Awaitable<void> AuthService::revoke_api_key(std::string account_id, std::string id) {
  const long long now = clock_.now_ms();
  const bool revoked = co_await db_.transaction([&](core::Tx& tx) {
    std::string hash;
    soci::indicator ind = soci::i_null;
    tx.sql << find_key_hash_sql, soci::use(id), soci::use(account_id), soci::into(hash, ind);
    if (!tx.sql.got_data()) return false;
    tx.sql << revoke_key_sql, soci::use(now), soci::use(id), soci::use(account_id);
    core::publish(events_, tx, id, ApiKeyRevoked{id, account_id, hash});
    tx.on_commit([this, hash] {
      if (on_key_revoked) on_key_revoked(hash);
    });
    return true;
  });
  if (!revoked) throw ApiError(ErrorCode::not_found, "No such API key.");
}

core::Awaitable<std::optional<AuthService::KeyOwner>> AuthService::find_api_key(std::string key) {
  std::string hash = sha256_hex(key);
  const long long now = clock_.now_ms();
  co_return co_await db_.run([&](soci::session& sql) -> std::optional<KeyOwner> {
    soci::rowset<soci::row> rows = (sql.prepare << find_key_sql, soci::use(hash));
    for (auto const& row : rows) {
      KeyOwner owner{core::sql::get_text(row, 0), core::sql::get_text(row, 1),
                     core::sql::get_opt_int(row, 3)};
      const bool disabled = core::sql::get_int(row, 2) != 0;
      if (disabled || (owner.expires_at && *owner.expires_at <= now)) return std::nullopt;
      return owner;
    }
    return std::nullopt;
  });
}

}  // namespace bookspace::auth
