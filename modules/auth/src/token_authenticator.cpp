#include "token_authenticator.hpp"

namespace bookspace::auth {

TokenAuthenticator::TokenAuthenticator(AuthService& service, core::Clock const& clock, std::size_t capacity)
    : service_(service), clock_(clock), capacity_(capacity) {}

core::Awaitable<std::optional<http::Principal>> TokenAuthenticator::authenticate(
    std::string_view credential, http::RequestContext const&) {
  if (credential.starts_with("bsk_")) co_return co_await verify_key(std::string(credential));
  co_return verify(credential);
}

core::Awaitable<std::optional<http::Principal>> TokenAuthenticator::verify_key(std::string key) {
  constexpr core::TimeMs ttl = 30'000;
  const std::string hash = sha256_hex(key);
  const auto now = clock_.now_ms();
  {
    std::lock_guard lock(mutex_);
    if (auto it = keys_.find(hash); it != keys_.end()) {
      auto const& c = it->second;
      if (c.cached_at + ttl > now && (!c.expires_at || *c.expires_at > now)) co_return c.principal;
      keys_.erase(it);
    }
  }
  auto owner = co_await service_.find_api_key(std::move(key));
  if (!owner) co_return std::nullopt;
  http::Principal principal{owner->account_id, owner->role, ""};
  std::lock_guard lock(mutex_);
  if (keys_.size() >= capacity_) keys_.clear();
  keys_[hash] = CachedKey{principal, now, owner->expires_at};
  co_return principal;
}

void TokenAuthenticator::key_revoked(std::string const& key_hash) {
  std::lock_guard lock(mutex_);
  keys_.erase(key_hash);
}

void TokenAuthenticator::account_changed(std::string const& account_id) {
  std::lock_guard lock(mutex_);
  std::erase_if(keys_, [&](auto const& kv) { return kv.second.principal.user_id == account_id; });
}

std::optional<http::Principal> TokenAuthenticator::verify(std::string_view token) {
  const auto now = clock_.now_ms();
  const auto leeway = service_.settings().tokens.leeway_s * 1000LL;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(std::string(token)); it != cache_.end()) {
      if (it->second.expires_at + leeway > now && !revoked_.contains(it->second.principal.session_id)) {
        return it->second.principal;
      }
      cache_.erase(it);
      return std::nullopt;
    }
  }
  auto claims = verify_access_token(service_.keys(), service_.settings().tokens, token, now);
  if (!claims) return std::nullopt;
  http::Principal principal{claims->subject, claims->role, claims->session_id};
  std::lock_guard lock(mutex_);
  if (revoked_.contains(principal.session_id)) return std::nullopt;
  if (cache_.size() >= capacity_) forget_old(now);
  cache_.emplace(std::string(token), Cached{principal, claims->expires_at});
  return principal;
}

void TokenAuthenticator::revoked(std::string const& session_id, core::TimeMs at) {
  std::lock_guard lock(mutex_);
  revoked_[session_id] = at;
  forget_old(clock_.now_ms());
}

void TokenAuthenticator::forget_old(core::TimeMs now) {
  // A revocation matters only while tokens of that session can still be valid.
  const auto horizon = (service_.settings().tokens.lifetime_s + service_.settings().tokens.leeway_s) * 1000LL;
  std::erase_if(revoked_, [&](auto const& kv) { return kv.second + horizon < now; });
  std::erase_if(cache_, [&](auto const& kv) { return kv.second.expires_at + horizon < now; });
  if (cache_.size() >= capacity_) cache_.clear();  // still full of live tokens: start over
}

}  // namespace bookspace::auth
