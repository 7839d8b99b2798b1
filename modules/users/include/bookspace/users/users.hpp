#pragma once

#include "app/module.hpp"

namespace bookspace::users {

/// The users module: profiles (GET/PATCH /users/me, GET /users/{id}) and administration
/// (GET /users, PATCH /users/{id}). Depends on auth. See docs/modules/users.md.
app::ModuleDescriptor users_module();

/// The events users publishes: <bookspace/users/events.hpp>.

}  // namespace bookspace::users
