#include "signing_key.hpp"

#include "app/config.hpp"
#include "core/log.hpp"
#include "core/secret_file.hpp"

#include <filesystem>

namespace bookspace::auth {

std::string load_or_create_seed(app::Config const& config, std::string const& data_dir, core::Logger& log) {
  if (auto configured = config.str("auth.signing_key"); !configured.empty()) return configured;
  return core::load_or_create_secret(std::filesystem::path(data_dir) / "auth-signing-key", &KeyRing::new_seed,
                                     log, "token signing key");
}

KeyRing load_key_ring(app::Config const& config, std::string const& data_dir, core::Logger& log) {
  KeyRing ring;
  ring.add(KeyRing::from_seed(load_or_create_seed(config, data_dir, log)));
  for (auto const& pk : config.list("auth.previous_public_keys")) ring.add(KeyRing::from_public(pk));
  return ring;
}

}  // namespace bookspace::auth
