#pragma once

// Where the token signing key comes from: auth.signing_key, or a seed generated once into
// <data_dir>/auth-signing-key (mode 0600) and reused on every start.

#include "tokens.hpp"

#include <string>

namespace bookspace::app {
class Config;
}
namespace bookspace::core {
class Logger;
}

namespace bookspace::auth {

/// The current signing key's seed (base64url), creating the key file on first use.
std::string load_or_create_seed(app::Config const& config, std::string const& data_dir, core::Logger& log);
/// The current key and auth.previous_public_keys (verify only).
KeyRing load_key_ring(app::Config const& config, std::string const& data_dir, core::Logger& log);

}  // namespace bookspace::auth
