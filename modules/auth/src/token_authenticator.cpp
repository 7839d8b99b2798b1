#include "token_authenticator.hpp"

#include "core/event_contract.hpp"
#include "core/event_log.hpp"

#include <bookspace/auth/events.hpp>

namespace bookspace::auth {

TokenAuthenticator::TokenAuthenticator(std::shared_ptr<KeyRing const> ring, KeyLookup lookup,
                                       TokenSettings const& settings, core::Clock const& clock,
                                       std::size_t capacity)
    : ring_(std::move(ring)),
      lookup_(std::move(lookup)),
      settings_(settings),
      clock_(clock),
      cache_(capacity),
      keys_(capacity) {}

void TokenAuthenticator::set_ring(std::shared_ptr<KeyRing const> ring) {
  std::lock_guard lock(mutex_);
  ring_ = std::move(ring);
}

bool TokenAuthenticator::knows(std::string_view kid) {
  std::lock_guard lock(mutex_);
  return ring_->find(kid) != nullptr;
}

core::Awaitable<std::optional<http::Principal>> TokenAuthenticator::authenticate(
    std::string_view credential, http::RequestContext const&) {
  if (credential.starts_with("bsk_")) co_return co_await verify_key(std::string(credential));
  co_return verify(credential);
}

core::Awaitable<std::optional<http::Principal>> TokenAuthenticator::verify_key(std::string key) {
  constexpr core::TimeMs ttl = 30'000;
  const std::string hash = core::sha256_hex(key);
  const auto now = clock_.now_ms();
  if (auto cached = keys_.find(hash, now)) co_return cached;
  auto owner = co_await lookup_(key, now);
  if (!owner) co_return std::nullopt;
  http::Principal principal{owner->account_id, owner->role, "", owner->expires_at.value_or(0), hash};
  keys_.put(hash, principal, std::min<core::TimeMs>(now + ttl, owner->expires_at.value_or(now + ttl)), now);
  co_return principal;
}

void TokenAuthenticator::key_revoked(std::string const& key_hash) {
  keys_.erase(key_hash);
}

void TokenAuthenticator::account_changed(std::string const& account_id) {
  keys_.erase_if([&](http::Principal const& p) { return p.user_id == account_id; });
}

std::optional<http::Principal> TokenAuthenticator::verify(std::string_view token) {
  const auto now = clock_.now_ms();
  const auto leeway = settings_.leeway_s * 1000LL;
  if (auto cached = cache_.find(token, now)) {
    std::lock_guard lock(mutex_);
    if (!revoked_.contains(cached->session_id)) return cached;
    return std::nullopt;
  }
  std::shared_ptr<KeyRing const> ring;
  {
    std::lock_guard lock(mutex_);
    ring = ring_;
  }
  auto claims = verify_access_token(*ring, settings_, token, now);
  if (!claims) return std::nullopt;
  http::Principal principal{claims->subject, claims->role, claims->session_id, claims->expires_at, ""};
  std::lock_guard lock(mutex_);
  if (revoked_.contains(principal.session_id)) return std::nullopt;
  cache_.put(std::string(token), principal, claims->expires_at + leeway, now);
  return principal;
}

void TokenAuthenticator::session_revoked(std::string const& session_id, long long at) {
  std::lock_guard lock(mutex_);
  revoked_[session_id] = at;
  forget_old(clock_.now_ms());
}

void TokenAuthenticator::forget_old(core::TimeMs now) {
  // A revocation matters only while tokens of that session can still be valid.
  const auto horizon = (settings_.lifetime_s + settings_.leeway_s) * 1000LL;
  std::erase_if(revoked_, [&](auto const& kv) { return kv.second + horizon < now; });
}

void watch_revocations(core::EventLog& events, TokenAuthenticator& tokens,
                       std::function<void(std::string const& session_id)> applied,
                       std::optional<core::TimeMs> replay_since) {
  events.watch(
      "auth.revocations", core::types_of<ApiKeyRevoked, AccountUpdated, SessionRevoked>(),
      [&tokens, applied = std::move(applied)](core::Event const& e) {
        if (auto key = core::event_as<ApiKeyRevoked>(e)) {
          tokens.key_revoked(key->key_hash);
        } else if (auto account = core::event_as<AccountUpdated>(e)) {
          tokens.account_changed(account->id);
        } else if (auto session = core::event_as<SessionRevoked>(e)) {
          tokens.session_revoked(session->session_id, e.occurred_at);
          applied(session->session_id);
        }
      },
      replay_since);
}

}  // namespace bookspace::auth
