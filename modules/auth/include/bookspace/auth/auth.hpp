#pragma once

#include "app/module.hpp"

namespace bookspace::auth {

/// The auth module: accounts, Argon2id passwords, EdDSA access tokens (JWKS at
/// /.well-known/jwks.json), sessions with rotating refresh tokens. Installs the kernel's
/// Authenticator. See docs/modules/auth.md.
app::ModuleDescriptor auth_module();

/// Event types auth publishes (payloads in docs/modules/auth.md).
inline constexpr char const* user_registered_v1 = "auth.user_registered.v1";
inline constexpr char const* session_revoked_v1 = "auth.session_revoked.v1";

}  // namespace bookspace::auth
