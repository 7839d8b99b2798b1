#pragma once

// auth.* configuration: the keys (declare_config) and what the service takes from them.

#include "passwords.hpp"
#include "reset_mail.hpp"
#include "tokens.hpp"

#include <cstdint>

namespace bookspace::app {
class Config;
class ConfigSchema;
}  // namespace bookspace::app

namespace bookspace::auth {

struct AuthSettings {
  TokenSettings tokens;
  HashCost hash_cost;
  int refresh_ttl_days = 30;
  int reuse_grace_ms = 2000;       ///< a rotated token presented again within this is a race, not theft
  int reset_ttl_ms = 30 * 60'000;  ///< password-reset tokens
  ResetMailText reset_mail;
  /// Rate limits (per minute unless named otherwise).
  struct Limits {
    std::int64_t register_per_ip = 0, login_per_ip = 0, refresh_per_ip = 0, reset_per_ip = 0;
    std::int64_t reset_per_email_per_hour = 0;
    std::int64_t refresh_per_session = 0;
    int login_failures_per_email_and_ip = 0, login_per_email = 0;
  } limits;
};

AuthSettings settings_from(app::Config const& config);
void declare_config(app::ConfigSchema& schema);

}  // namespace bookspace::auth
