#pragma once

#include "app/module.hpp"
#include "core/async.hpp"

#include <optional>
#include <string>

namespace bookspace::auth {

/// The auth module: accounts, Argon2id passwords, EdDSA access tokens (JWKS at
/// /.well-known/jwks.json), sessions with rotating refresh tokens. Installs the kernel's
/// Authenticator. See docs/modules/auth.md.
app::ModuleDescriptor auth_module();

/// The events auth publishes: <bookspace/auth/events.hpp>.

/// What other modules may know of an account.
struct AccountInfo {
  std::string id, email, display_name, role;
  bool disabled = false;
  std::int64_t created_at = 0, updated_at = 0;  ///< ms since the epoch
};

/// Auth's public interface for other modules (found in the ServiceRegistry).
class Accounts {
 public:
  virtual ~Accounts() = default;
  virtual core::Awaitable<std::optional<AccountInfo>> find(std::string id) = 0;
  /// Changes role and/or disabled; disabling revokes every session of the account at once.
  /// Publishes auth.account_updated.v1. nullopt when there is no such account.
  virtual core::Awaitable<std::optional<AccountInfo>> update(std::string id, std::optional<std::string> role,
                                                             std::optional<bool> disabled) = 0;
  /// Changes the display name, which auth owns (its token responses show it; the users module
  /// edits it through this call). Publishes auth.account_updated.v1 with it. nullopt when there
  /// is no such account. The caller validates the name (users' rules).
  virtual core::Awaitable<std::optional<AccountInfo>> rename(std::string id, std::string display_name) = 0;
};

}  // namespace bookspace::auth
