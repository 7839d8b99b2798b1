#pragma once

#include "app/module.hpp"

#include <memory>

namespace bookspace::auth {

/// Auth in a process that does not run it (a split deployment): the kernel's Authenticator,
/// verifying access tokens with the keys of `auth.jwks_url` (fetched at start, again when a
/// token names an unknown kid, at most once a second) and refusing revoked sessions from the
/// shared event log (replayed from one token lifetime back). API keys are asked of the auth
/// process's internal route with `cluster.service_key`. Never reads auth's tables.
std::unique_ptr<app::Module> auth_stand_in(app::ModuleContext& ctx);

}  // namespace bookspace::auth
