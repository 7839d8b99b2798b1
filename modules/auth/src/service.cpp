#include "service.hpp"

#include "rules.hpp"

#include "core/database.hpp"
#include "core/error.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/mailer.hpp"

#include <bookspace/jobs/jobs.hpp>
#include "core/metrics.hpp"
#include "core/worker_pool.hpp"

#include <bookspace/auth/events.hpp>

#include <sodium.h>

#include <chrono>

namespace bookspace::auth {

using core::ApiError;
using core::ErrorCode;

namespace {

ApiError invalid_credentials() {
  return ApiError(ErrorCode::invalid_credentials, "The email or password is not correct.");
}

ApiError invalid_reset_token() {
  return ApiError(core::Error::validation("token", "is invalid, used or expired; request a new one"));
}

ApiError invalid_refresh() {
  return ApiError(ErrorCode::unauthorized, "The refresh token is not valid.");
}

ApiError rate_limited(std::string detail, int retry_after_s) {
  core::Error error{ErrorCode::rate_limited, std::move(detail), {}};
  error.retry_after_s = retry_after_s;
  return ApiError(std::move(error));
}

}  // namespace

std::string new_secret() {
  std::string raw(32, '\0');
  randombytes_buf(raw.data(), raw.size());
  return base64url_encode(raw);
}

void add_account(core::Tx& tx, core::EventLog& events, Account const& a) {
  if (find_account_by_email(tx.sql, a.email))
    throw ApiError(ErrorCode::email_taken, "An account with this email exists.");
  insert_account(tx.sql, a);
  core::publish(events, tx, a.id, UserRegistered{a.id, a.email, a.display_name, a.role, a.created_at});
}

std::optional<KeyOwner> find_key_owner(soci::session& sql, std::string const& key, long long now) {
  auto row = find_api_key(sql, core::sha256_hex(key));
  if (!row || !key_usable(*row, now)) return std::nullopt;
  return KeyOwner{row->account_id, row->role, row->expires_at};
}

AuthService::AuthService(ServiceDeps deps, KeyRing ring, AuthSettings settings)
    : deps_(deps),
      ring_(std::move(ring)),
      settings_(std::move(settings)),
      verifications_(
          deps.metrics.counter("auth_password_verifications_total",
                               "Argon2id verifications at login (unknown emails verify a dummy hash).")),
      verify_seconds_(deps.metrics.histogram("auth_password_verify_seconds",
                                             "Time one Argon2id verification takes on the CPU pool.")),
      dummy_hash_(hash_password(KeyRing::new_seed(), settings_.hash_cost)) {}

Issued AuthService::issue(Account const& account, std::string session_id, std::string refresh_token) {
  const auto now = deps_.clock.now_ms();
  AccessClaims claims{account.id,          session_id, account.role,
                      deps_.ids.uuid_v7(), now,        now + settings_.tokens.lifetime_s * 1000LL};
  return Issued{issue_access_token(ring_, settings_.tokens, claims), std::move(refresh_token),
                std::move(session_id), account};
}

std::pair<std::string, std::string> AuthService::open_session(core::Tx& tx, std::string const& account_id,
                                                              ClientInfo const& client, long long now) {
  std::string token = new_secret();
  NewSession s{deps_.ids.uuid_v7(),
               account_id,
               client.user_agent.substr(0, 256),
               client.ip,
               core::sha256_hex(token),
               now,
               now + settings_.refresh_ttl_days * 86'400'000LL};
  insert_session(tx.sql, s);
  return {s.id, token};
}

core::Awaitable<bool> AuthService::verify(std::string hash, std::string password) {
  co_return co_await core::run_in(deps_.cpu, [&](std::size_t) {
    verifications_.inc();
    const auto started = std::chrono::steady_clock::now();
    const bool match = verify_password(hash, password);
    verify_seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return match;
  });
}

core::Awaitable<Issued> AuthService::register_account(std::string email, std::string password,
                                                      std::string display_name, ClientInfo client) {
  const HashCost cost = settings_.hash_cost;
  std::string hash =
      co_await core::run_in(deps_.cpu, [&](std::size_t) { return hash_password(password, cost); });
  const long long now = deps_.clock.now_ms();
  Account account{deps_.ids.uuid_v7(), email, hash, display_name, "member", false, now, now};
  auto [session_id, refresh] = co_await deps_.db.transaction([&](core::Tx& tx) {
    add_account(tx, deps_.events, account);
    return open_session(tx, account.id, client, now);
  });
  co_return issue(account, std::move(session_id), std::move(refresh));
}

core::Awaitable<Issued> AuthService::login(std::string email, std::string password, ClientInfo client) {
  core::shed_if_full(deps_.cpu);  // a login flood beyond the hashing capacity costs no database trip
  auto found = co_await deps_.db.run([&](soci::session& sql) { return find_account_by_email(sql, email); });
  const bool ok = co_await verify(found ? found->password_hash : dummy_hash_, password);
  if (!found || !ok || found->disabled) throw invalid_credentials();
  Account account = *found;
  const HashCost cost = settings_.hash_cost;
  if (needs_rehash(account.password_hash, cost)) {
    std::string fresh =
        co_await core::run_in(deps_.cpu, [&](std::size_t) { return hash_password(password, cost); });
    co_await deps_.db.run([&](soci::session& sql) { update_password_hash(sql, account.id, fresh); });
  }
  const long long now = deps_.clock.now_ms();
  auto [session_id, refresh] =
      co_await deps_.db.transaction([&](core::Tx& tx) { return open_session(tx, account.id, client, now); });
  co_return issue(account, std::move(session_id), std::move(refresh));
}

core::Awaitable<Issued> AuthService::refresh(std::string refresh_token) {
  const std::string hash = core::sha256_hex(refresh_token);
  const long long now = deps_.clock.now_ms();
  RefreshVerdict verdict = RefreshVerdict::invalid;
  RefreshState state;
  std::string next_token;
  co_await deps_.db.transaction([&](core::Tx& tx) {
    auto found = find_refresh(tx.sql, hash);
    if (!found) return;
    state = std::move(*found);
    verdict = judge_refresh(state, now, settings_.reuse_grace_ms);
    if (verdict == RefreshVerdict::invalid) return;
    if (int wait_s = deps_.refresh_limit.wait_s(state.session_id); wait_s > 0)
      throw rate_limited("Too many refreshes for this session.", wait_s);
    if (verdict == RefreshVerdict::reused) {
      revoke_in(tx, state.account.id, state.session_id, "refresh_token_reuse", now);
      return;
    }
    if (verdict != RefreshVerdict::rotate) return;
    if (!rotate_refresh(tx.sql, hash, now)) {  // lost a race with a concurrent refresh
      verdict = RefreshVerdict::concurrent;
      return;
    }
    next_token = new_secret();
    insert_next_refresh(tx.sql, state.session_id, core::sha256_hex(next_token), now);
  });
  if (verdict == RefreshVerdict::reused) {
    deps_.log.warn("refresh token reused; session revoked",
                   {{"session_id", state.session_id}, {"user_id", state.account.id}});
  }
  if (verdict != RefreshVerdict::rotate) throw invalid_refresh();
  co_return issue(state.account, std::move(state.session_id), std::move(next_token));
}

bool AuthService::revoke_in(core::Tx& tx, std::string const& account_id, std::string const& session_id,
                            std::string_view reason, long long now) {
  if (!auth::revoke_session(tx.sql, account_id, session_id, now)) return false;
  core::publish(deps_.events, tx, session_id, SessionRevoked{session_id, account_id, std::string(reason)});
  tx.on_commit(
      [&listener = deps_.revocations, session_id, now] { listener.session_revoked(session_id, now); });
  return true;
}

void AuthService::revoke_all_in(core::Tx& tx, std::string const& account_id, std::string const& except,
                                std::string_view reason, long long now) {
  for (auto const& sid : live_session_ids(tx.sql, account_id)) {
    if (sid != except) revoke_in(tx, account_id, sid, reason, now);
  }
}

core::Awaitable<void> AuthService::revoke_session(std::string account_id, std::string session_id) {
  const long long now = deps_.clock.now_ms();
  const bool revoked = co_await deps_.db.transaction(
      [&](core::Tx& tx) { return revoke_in(tx, account_id, session_id, "logout", now); });
  if (!revoked) throw ApiError(ErrorCode::not_found, "No such session.");
}

core::Awaitable<std::vector<SessionInfo>> AuthService::sessions(std::string account_id, ListPage page) {
  const long long now = deps_.clock.now_ms();
  co_return co_await deps_.db.run(
      [&](soci::session& sql) { return list_sessions(sql, account_id, now, page); });
}

core::Awaitable<void> AuthService::change_password(std::string account_id, std::string keep_session_id,
                                                   std::string current, std::string next) {
  core::shed_if_full(deps_.cpu);
  auto account = co_await find(account_id);
  if (!account) throw ApiError(ErrorCode::unauthorized, "The account no longer exists.");
  if (!co_await verify(account->password_hash, current))
    throw ApiError(core::Error::validation("current_password", "is not correct"));
  const HashCost cost = settings_.hash_cost;
  std::string hash = co_await core::run_in(deps_.cpu, [&](std::size_t) { return hash_password(next, cost); });
  const long long now = deps_.clock.now_ms();
  co_await deps_.db.transaction([&](core::Tx& tx) {
    update_password_hash(tx.sql, account_id, hash);
    revoke_all_in(tx, account_id, keep_session_id, "password_changed", now);
  });
}

void AuthService::request_password_reset(std::string email) {
  // Nothing that depends on the account happens before the caller answers: the lookup, the
  // token and the mail run afterwards on the database pool, so an existing and an unknown
  // address cost the request the same work (no timing tells them apart).
  const bool queued = deps_.db.submit("password reset", [this, email = std::move(email)](soci::session& sql) {
    const long long now = deps_.clock.now_ms();
    core::run_transaction(sql, deps_.db.dialect(), [&](core::Tx& tx) {
      auto account = find_account_by_email(tx.sql, email);
      if (!account || account->disabled) return;
      if (deps_.queue) {  // durable: the job makes the token and mails it, retried until it is taken
        deps_.queue->enqueue(tx, {std::string(reset_mail_job),
                                  {{"account_id", account->id}},
                                  "system",
                                  std::nullopt,
                                  std::nullopt,
                                  std::nullopt});
        return;
      }
      std::string token = new_secret();
      replace_reset_token(tx.sql, account->id, core::sha256_hex(token), now, now + settings_.reset_ttl_ms);
      tx.on_commit(
          [this, email, token] { deps_.mailer.send(reset_mail(settings_.reset_mail, email, token)); });
    });
  });
  if (!queued) {
    core::Error error{ErrorCode::overloaded, "The server is busy; retry shortly.", {}};
    error.retry_after_s = 1;
    throw ApiError(std::move(error));
  }
}

bool AuthService::send_reset_mail(soci::session& sql, std::string const& account_id, bool last_attempt) {
  auto account = find_account_by_id(sql, account_id);
  if (!account || account->disabled) return false;
  // A token of its own per attempt: one that never reached the user is replaced, not reused.
  const std::string token = new_secret();
  const long long now = deps_.clock.now_ms();
  core::run_transaction(sql, deps_.db.dialect(), [&](core::Tx& tx) {
    replace_reset_token(tx.sql, account->id, core::sha256_hex(token), now, now + settings_.reset_ttl_ms);
  });
  std::string error;
  if (!deps_.mailer.deliver_now(reset_mail(settings_.reset_mail, account->email, token), last_attempt, error))
    throw std::runtime_error("the reset mail was not delivered: " + error);
  return true;
}

core::Awaitable<void> AuthService::confirm_password_reset(std::string token, std::string new_password) {
  core::shed_if_full(deps_.cpu);
  const std::string hash = core::sha256_hex(token);
  // Checked before hashing, so that guessing tokens costs the server no Argon2id work.
  const long long checked_at = deps_.clock.now_ms();
  auto account_id =
      co_await deps_.db.run([&](soci::session& sql) { return find_reset_account(sql, hash, checked_at); });
  if (!account_id) throw invalid_reset_token();
  const HashCost cost = settings_.hash_cost;
  std::string fresh =
      co_await core::run_in(deps_.cpu, [&](std::size_t) { return hash_password(new_password, cost); });
  const long long now = deps_.clock.now_ms();
  co_await deps_.db.transaction([&](core::Tx& tx) {
    if (!use_reset_token(tx.sql, hash, now)) throw invalid_reset_token();  // redeemed meanwhile
    update_password_hash(tx.sql, *account_id, fresh);
    revoke_all_in(tx, *account_id, "", "password_reset", now);
  });
  deps_.log.info("password reset", {{"user_id", *account_id}});
}

core::Awaitable<std::optional<Account>> AuthService::find(std::string id) {
  co_return co_await deps_.db.run([&](soci::session& sql) { return find_account_by_id(sql, id); });
}

core::Awaitable<std::optional<Account>> AuthService::update(std::string id, std::optional<std::string> role,
                                                            std::optional<bool> disabled) {
  const long long now = deps_.clock.now_ms();
  co_return co_await deps_.db.transaction([&](core::Tx& tx) -> std::optional<Account> {
    auto account = find_account_by_id(tx.sql, id);
    if (!account) return std::nullopt;
    if (role) account->role = *role;
    if (disabled) account->disabled = *disabled;
    account->updated_at = now;
    update_account_flags(tx.sql, *account);
    if (account->disabled) revoke_all_in(tx, id, "", "account_disabled", now);
    core::publish(deps_.events, tx, id,
                  AccountUpdated{id, account->role, account->disabled, now, account->display_name});
    return account;
  });
}

core::Awaitable<std::optional<Account>> AuthService::rename(std::string id, std::string display_name) {
  const long long now = deps_.clock.now_ms();
  co_return co_await deps_.db.transaction([&](core::Tx& tx) -> std::optional<Account> {
    auto account = find_account_by_id(tx.sql, id);
    if (!account) return std::nullopt;
    account->display_name = display_name;
    account->updated_at = now;
    update_display_name(tx.sql, id, display_name, now);
    core::publish(deps_.events, tx, id,
                  AccountUpdated{id, account->role, account->disabled, now, account->display_name});
    return account;
  });
}

core::Awaitable<CreatedKey> AuthService::create_api_key(std::string account_id, std::string name,
                                                        int expires_in_days) {
  const long long now = deps_.clock.now_ms();
  CreatedKey created{{deps_.ids.uuid_v7(), std::move(name), now, api_key_expiry(now, expires_in_days)},
                     "bsk_" + new_secret()};
  const std::string hash = core::sha256_hex(created.key);
  co_await deps_.db.run([&](soci::session& sql) { insert_api_key(sql, created.info, account_id, hash); });
  co_return created;
}

core::Awaitable<std::vector<ApiKeyInfo>> AuthService::api_keys(std::string account_id, ListPage page) {
  co_return co_await deps_.db.run([&](soci::session& sql) { return list_api_keys(sql, account_id, page); });
}

core::Awaitable<void> AuthService::revoke_api_key(std::string account_id, std::string id) {
  const long long now = deps_.clock.now_ms();
  const bool revoked = co_await deps_.db.transaction([&](core::Tx& tx) {
    auto hash = auth::revoke_api_key(tx.sql, account_id, id, now);
    if (!hash) return false;
    core::publish(deps_.events, tx, id, ApiKeyRevoked{id, account_id, *hash});
    tx.on_commit([&listener = deps_.revocations, h = *hash] { listener.key_revoked(h); });
    return true;
  });
  if (!revoked) throw ApiError(ErrorCode::not_found, "No such API key.");
}

core::Awaitable<std::optional<KeyOwner>> AuthService::key_owner(std::string key) {
  const auto now = deps_.clock.now_ms();
  co_return co_await deps_.db.run([&](soci::session& sql) { return find_key_owner(sql, key, now); });
}

}  // namespace bookspace::auth
