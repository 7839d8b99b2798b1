#include "store.hpp"

#include "core/sql.hpp"

#include <soci/soci.h>

namespace bookspace::auth {

using soci::into;
using soci::use;
namespace db = core::sql;

namespace {

// --- accounts ------------------------------------------------------------------------------
constexpr std::string_view find_by_email_sql =
    "SELECT id, email, password_hash, display_name, role, disabled, created_at, updated_at"
    " FROM auth_accounts WHERE email = :email";
constexpr std::string_view find_by_id_sql =
    "SELECT id, email, password_hash, display_name, role, disabled, created_at, updated_at"
    " FROM auth_accounts WHERE id = :id";
constexpr std::string_view insert_account_sql =
    "INSERT INTO auth_accounts (id, email, password_hash, display_name, role, disabled, created_at, "
    "updated_at) VALUES (:id, :email, :hash, :name, :role, :disabled, :created, :updated)";
constexpr std::string_view update_hash_sql = "UPDATE auth_accounts SET password_hash = :hash WHERE id = :id";
constexpr std::string_view update_flags_sql =
    "UPDATE auth_accounts SET role = :role, disabled = :disabled, updated_at = :now WHERE id = :id";
constexpr std::string_view update_display_name_sql =
    "UPDATE auth_accounts SET display_name = :name, updated_at = :now WHERE id = :id";

// --- sessions and refresh tokens -----------------------------------------------------------
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
constexpr std::string_view live_sessions_sql =
    "SELECT id FROM auth_sessions WHERE account_id = :account AND revoked_at IS NULL";
constexpr std::string_view revoked_since_sql =
    "SELECT id, revoked_at FROM auth_sessions WHERE revoked_at IS NOT NULL AND revoked_at > :since";
// Keyset pages, newest first; (created_at, id) never changes, so pages neither skip nor repeat.
constexpr std::string_view list_sessions_sql =
    "SELECT id, created_at, last_used_at, user_agent, ip FROM auth_sessions"
    " WHERE account_id = :account AND revoked_at IS NULL AND expires_at > :now"
    " AND (created_at < :key1 OR (created_at = :key2 AND id < :after))"
    " ORDER BY created_at DESC, id DESC LIMIT :limit";

// --- API keys ------------------------------------------------------------------------------
constexpr std::string_view insert_key_sql =
    "INSERT INTO auth_api_keys (id, account_id, name, key_hash, created_at, expires_at)"
    " VALUES (:id, :account, :name, :hash, :now, :expires)";
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

// --- password resets -----------------------------------------------------------------------
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
  return {db::get_text(row, first),     db::get_text(row, first + 1), db::get_text(row, first + 2),
          db::get_text(row, first + 3), db::get_text(row, first + 4), db::get_int(row, first + 5) != 0,
          db::get_int(row, first + 6),  db::get_int(row, first + 7)};
}

std::optional<Account> find_account(soci::session& sql, std::string_view query, std::string const& key) {
  soci::rowset<soci::row> rows = (sql.prepare << query, use(key));
  for (auto const& row : rows) return read_account(row, 0);
  return std::nullopt;
}

/// Runs a prepared UPDATE and says whether it changed exactly one row.
bool changed_one(soci::statement st) {
  st.execute(true);
  return st.get_affected_rows() == 1;
}

}  // namespace

std::optional<Account> find_account_by_email(soci::session& sql, std::string const& email) {
  return find_account(sql, find_by_email_sql, email);
}

std::optional<Account> find_account_by_id(soci::session& sql, std::string const& id) {
  return find_account(sql, find_by_id_sql, id);
}

void insert_account(soci::session& sql, Account const& a) {
  const int disabled = a.disabled ? 1 : 0;
  sql << insert_account_sql, use(a.id), use(a.email), use(a.password_hash), use(a.display_name), use(a.role),
      use(disabled), use(a.created_at), use(a.updated_at);
}

void update_password_hash(soci::session& sql, std::string const& account_id, std::string const& hash) {
  sql << update_hash_sql, use(hash), use(account_id);
}

void update_account_flags(soci::session& sql, Account const& a) {
  const int disabled = a.disabled ? 1 : 0;
  sql << update_flags_sql, use(a.role), use(disabled), use(a.updated_at), use(a.id);
}

void update_display_name(soci::session& sql, std::string const& account_id, std::string const& name,
                         long long now) {
  sql << update_display_name_sql, use(name), use(now), use(account_id);
}

void insert_session(soci::session& sql, NewSession const& s) {
  sql << insert_session_sql, use(s.id), use(s.account_id), use(s.created_at), use(s.created_at),
      use(s.expires_at), use(s.user_agent), use(s.ip);
  sql << insert_refresh_sql, use(s.refresh_hash), use(s.id), use(s.created_at);
}

std::optional<RefreshState> find_refresh(soci::session& sql, std::string const& token_hash) {
  soci::rowset<soci::row> rows = (sql.prepare << find_refresh_sql, use(token_hash));
  for (auto const& row : rows) {
    return RefreshState{db::get_text(row, 0), db::get_opt_int(row, 1), db::get_opt_int(row, 2),
                        db::get_int(row, 3), read_account(row, 4)};
  }
  return std::nullopt;
}

bool rotate_refresh(soci::session& sql, std::string const& token_hash, long long now) {
  return changed_one((sql.prepare << rotate_refresh_sql, use(now), use(token_hash)));
}

void insert_next_refresh(soci::session& sql, std::string const& session_id, std::string const& token_hash,
                         long long now) {
  sql << insert_refresh_sql, use(token_hash), use(session_id), use(now);
  sql << touch_session_sql, use(now), use(session_id);
}

bool revoke_session(soci::session& sql, std::string const& account_id, std::string const& session_id,
                    long long now) {
  return changed_one((sql.prepare << revoke_session_sql, use(now), use(session_id), use(account_id)));
}

std::vector<std::string> live_session_ids(soci::session& sql, std::string const& account_id) {
  std::vector<std::string> ids;
  soci::rowset<soci::row> rows = (sql.prepare << live_sessions_sql, use(account_id));
  for (auto const& row : rows) ids.push_back(db::get_text(row, 0));
  return ids;
}

std::vector<std::pair<std::string, long long>> revoked_since(soci::session& sql, long long since) {
  std::vector<std::pair<std::string, long long>> out;
  soci::rowset<soci::row> rows = (sql.prepare << revoked_since_sql, use(since));
  for (auto const& row : rows) out.emplace_back(db::get_text(row, 0), db::get_int(row, 1));
  return out;
}

std::vector<SessionInfo> list_sessions(soci::session& sql, std::string const& account_id, long long now,
                                       ListPage const& page) {
  const int limit = page.limit + 1;
  std::vector<SessionInfo> items;
  soci::rowset<soci::row> rows =
      (sql.prepare << list_sessions_sql, use(account_id), use(now), use(page.before_created_at),
       use(page.before_created_at), use(page.before_id), use(limit));
  for (auto const& row : rows) {
    items.push_back({db::get_text(row, 0), db::get_int(row, 1), db::get_int(row, 2), db::get_text(row, 3),
                     db::get_text(row, 4)});
  }
  return items;
}

void insert_api_key(soci::session& sql, ApiKeyInfo const& key, std::string const& account_id,
                    std::string const& key_hash) {
  soci::indicator ind = key.expires_at ? soci::i_ok : soci::i_null;
  long long expires = key.expires_at.value_or(0);
  sql << insert_key_sql, use(key.id), use(account_id), use(key.name), use(key_hash), use(key.created_at),
      use(expires, ind);
}

std::vector<ApiKeyInfo> list_api_keys(soci::session& sql, std::string const& account_id,
                                      ListPage const& page) {
  const int limit = page.limit + 1;
  std::vector<ApiKeyInfo> items;
  soci::rowset<soci::row> rows = (sql.prepare << list_keys_sql, use(account_id), use(page.before_created_at),
                                  use(page.before_created_at), use(page.before_id), use(limit));
  for (auto const& row : rows) {
    items.push_back(
        {db::get_text(row, 0), db::get_text(row, 1), db::get_int(row, 2), db::get_opt_int(row, 3)});
  }
  return items;
}

std::optional<std::string> revoke_api_key(soci::session& sql, std::string const& account_id,
                                          std::string const& id, long long now) {
  std::string hash;
  soci::indicator ind = soci::i_null;
  sql << find_key_hash_sql, use(id), use(account_id), into(hash, ind);
  if (!sql.got_data()) return std::nullopt;
  sql << revoke_key_sql, use(now), use(id), use(account_id);
  return hash;
}

std::optional<KeyRow> find_api_key(soci::session& sql, std::string const& key_hash) {
  soci::rowset<soci::row> rows = (sql.prepare << find_key_sql, use(key_hash));
  for (auto const& row : rows) {
    return KeyRow{db::get_text(row, 0), db::get_text(row, 1), db::get_int(row, 2) != 0,
                  db::get_opt_int(row, 3)};
  }
  return std::nullopt;
}

void replace_reset_token(soci::session& sql, std::string const& account_id, std::string const& token_hash,
                         long long now, long long expires_at) {
  sql << supersede_resets_sql, use(now), use(account_id);
  sql << insert_reset_sql, use(token_hash), use(account_id), use(now), use(expires_at);
}

std::optional<std::string> find_reset_account(soci::session& sql, std::string const& token_hash,
                                              long long now) {
  soci::rowset<soci::row> rows = (sql.prepare << find_reset_sql, use(token_hash), use(now));
  for (auto const& row : rows) return db::get_text(row, 0);
  return std::nullopt;
}

bool use_reset_token(soci::session& sql, std::string const& token_hash, long long now) {
  return changed_one((sql.prepare << use_reset_sql, use(now), use(token_hash), use(now)));
}

}  // namespace bookspace::auth
