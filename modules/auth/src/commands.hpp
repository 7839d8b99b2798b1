#pragma once

namespace bookspace::app {
struct CommandContext;
}

namespace bookspace::auth {

/// `bookspace users create-admin --email E`: the password is read from stdin (first line) or,
/// when stdin is empty, generated and printed once.
int create_admin(app::CommandContext& ctx);

}  // namespace bookspace::auth
