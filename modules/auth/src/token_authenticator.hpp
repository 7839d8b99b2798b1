#pragma once

#include "core/ttl_cache.hpp"
#include "service.hpp"
#include "tokens.hpp"

#include "http/authenticator.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace bookspace::core {
class EventLog;
}

namespace bookspace::auth {

/// The kernel's Authenticator for access tokens. Verified tokens are cached (bounded), so the
/// signature check is paid once per token; a revoked session is refused at once: revocations
/// reach the in-memory set on commit in this process and through an event-log watch in others.
class TokenAuthenticator final : public http::Authenticator, public RevocationListener {
 public:
  /// Who owns an API key now (auth's tables, or the auth process when this one has none).
  using KeyLookup =
      std::function<core::Awaitable<std::optional<KeyOwner>>(std::string key, core::TimeMs now)>;

  /// `settings` outlives this.
  TokenAuthenticator(std::shared_ptr<KeyRing const> ring, KeyLookup lookup, TokenSettings const& settings,
                     core::Clock const& clock, std::size_t capacity = 50'000);

  core::Awaitable<std::optional<http::Principal>> authenticate(std::string_view credential,
                                                               http::RequestContext const& ctx) override;
  std::optional<http::Principal> verify(std::string_view token);
  void session_revoked(std::string const& session_id, long long at) override;
  /// API keys ("bsk_…"): looked up once, then cached for 30 s; forgotten at once when the key
  /// is revoked or its account changes (role, disabled).
  void key_revoked(std::string const& key_hash) override;
  void account_changed(std::string const& account_id);
  /// The keys tokens are verified with, replaced whole (auth's stand-in, after a JWKS fetch).
  void set_ring(std::shared_ptr<KeyRing const> ring);
  bool knows(std::string_view kid);

 private:
  void forget_old(core::TimeMs now);

  core::Awaitable<std::optional<http::Principal>> verify_key(std::string key);

  std::shared_ptr<KeyRing const> ring_;  ///< under mutex_
  KeyLookup lookup_;
  TokenSettings const& settings_;
  core::Clock const& clock_;
  std::mutex mutex_;
  /// Verified tokens until their expiry (+ leeway); revocations are checked on every hit.
  core::TtlCache<http::Principal, core::TimeMs> cache_;
  std::unordered_map<std::string, core::TimeMs> revoked_;  ///< under mutex_
  /// API keys by hash, for 30 s (or until the key expires, if sooner).
  core::TtlCache<http::Principal, core::TimeMs> keys_;
};

/// Every instance's revocations and account changes into `tokens` (an EventLog watch named
/// "auth.revocations"); `applied(session_id)` once a revoked session is refused here — a logout
/// waiting for this instance may answer. `replay_since`: EventLog::watch.
void watch_revocations(core::EventLog& events, TokenAuthenticator& tokens,
                       std::function<void(std::string const& session_id)> applied,
                       std::optional<core::TimeMs> replay_since = std::nullopt);

}  // namespace bookspace::auth
