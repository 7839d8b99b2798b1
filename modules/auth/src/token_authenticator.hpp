#pragma once

#include "auth_service.hpp"

#include "http/dispatcher.hpp"

#include <mutex>
#include <unordered_map>

namespace bookspace::auth {

/// The kernel's Authenticator for access tokens. Verified tokens are cached (bounded), so the
/// signature check is paid once per token; a revoked session is refused at once: revocations
/// reach the in-memory set on commit in this process and through an event-log watch in others.
class TokenAuthenticator final : public http::Authenticator {
 public:
  TokenAuthenticator(AuthService const& service, core::Clock const& clock, std::size_t capacity = 50'000);

  core::Awaitable<std::optional<http::Principal>> authenticate(std::string_view credential,
                                                               http::RequestContext const& ctx) override;
  std::optional<http::Principal> verify(std::string_view token);
  void revoked(std::string const& session_id, core::TimeMs at);

 private:
  struct Cached {
    http::Principal principal;
    core::TimeMs expires_at;
  };
  void forget_old(core::TimeMs now);

  AuthService const& service_;
  core::Clock const& clock_;
  std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Cached> cache_;
  std::unordered_map<std::string, core::TimeMs> revoked_;
};

}  // namespace bookspace::auth
