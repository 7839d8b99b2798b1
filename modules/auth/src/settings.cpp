#include "settings.hpp"

#include "app/config.hpp"

#include <boost/json/value.hpp>

namespace bookspace::auth {

namespace json = boost::json;

AuthSettings settings_from(app::Config const& c) {
  AuthSettings s;
  s.tokens.issuer = c.str("auth.issuer");
  s.tokens.audience = c.str("auth.audience").empty() ? c.str("auth.issuer") : c.str("auth.audience");
  s.tokens.client_id = c.str("auth.issuer");
  s.tokens.lifetime_s = static_cast<int>(c.integer("auth.access_token_ttl_s"));
  s.refresh_ttl_days = static_cast<int>(c.integer("auth.refresh_token_ttl_days"));
  s.reuse_grace_ms = static_cast<int>(c.integer("auth.refresh_reuse_grace_ms"));
  s.reset_ttl_ms = static_cast<int>(c.integer("auth.password_reset_ttl_minutes") * 60'000);
  s.hash_cost.passes = static_cast<unsigned long long>(c.integer("auth.argon2_passes"));
  s.hash_cost.memory_bytes = static_cast<std::size_t>(c.integer("auth.argon2_memory_kib")) * 1024;
  s.reset_mail = {c.str("auth.password_reset_url"), c.integer("auth.password_reset_ttl_minutes")};
  s.limits.register_per_ip = c.integer("auth.register_per_ip_per_minute");
  s.limits.login_per_ip = c.integer("auth.login_per_ip_per_minute");
  s.limits.refresh_per_ip = c.integer("auth.refresh_per_ip_per_minute");
  s.limits.reset_per_ip = c.integer("auth.password_reset_per_ip_per_minute");
  s.limits.reset_per_email_per_hour = c.integer("auth.password_reset_per_email_per_hour");
  s.limits.refresh_per_session = c.integer("auth.refresh_per_session_per_minute");
  s.limits.login_failures_per_email_and_ip =
      static_cast<int>(c.integer("auth.login_failures_per_email_and_ip_per_minute"));
  s.limits.login_per_email = static_cast<int>(c.integer("auth.login_per_email_per_minute"));
  return s;
}

void declare_config(app::ConfigSchema& s) {
  app::ConfigKey key{"auth.signing_key", app::ConfigType::string, "",
                     "Ed25519 seed (32 bytes, base64url) signing access tokens; empty: generated once into "
                     "<data_dir>/auth-signing-key. Every instance of a cluster needs the same."};
  key.redact = [](std::string const&) { return std::string("***"); };
  key.validate = [](json::value const& v) -> std::optional<std::string> {
    if (v.as_string().empty()) return std::nullopt;
    try {
      KeyRing::from_seed(std::string(v.as_string()));
    } catch (std::exception const& e) {
      return std::string(e.what());
    }
    return std::nullopt;
  };
  s.add(std::move(key));
  s.add({"auth.previous_public_keys", app::ConfigType::string_list, json::array(),
         "Public keys (base64url) of retired signing keys: their tokens verify until they expire."});
  s.add({"auth.issuer", app::ConfigType::string, "bookspace",
         "iss of access tokens (and their client_id: BookSpace issues tokens to itself)."});
  s.add({"auth.audience", app::ConfigType::string, "",
         "aud of access tokens (RFC 9068), checked on every request; empty: the same as auth.issuer."});
  app::ConfigKey jwks_url{"auth.jwks_url", app::ConfigType::string, "",
                          "In a process that does not run auth but runs modules that need it: the JWKS of "
                          "the process that does (http://a:8080/.well-known/jwks.json). Tokens are verified "
                          "with its keys and revocations come from the event log."};
  jwks_url.validate = app::http_url_or_empty;
  s.add(std::move(jwks_url));
  s.add(app::integer_key("auth.access_token_ttl_s", 900, 5, 86400, "Access token lifetime."));
  s.add(app::integer_key("auth.refresh_token_ttl_days", 30, 1, 365, "Refresh token (session) lifetime."));
  s.add(app::integer_key(
      "auth.refresh_reuse_grace_ms", 2000, 0, 60000,
      "A rotated refresh token presented again within this is taken for a concurrent refresh (401) "
      "rather than theft (401 and the session revoked)."));
  s.add(app::integer_key("auth.argon2_memory_kib", 19456, 19456, 4194304,
                         "Argon2id memory (OWASP minimum 19 MiB)."));
  s.add(app::integer_key("auth.argon2_passes", 2, 2, 100, "Argon2id passes (OWASP minimum 2)."));
  s.add(app::integer_key("auth.login_per_ip_per_minute", 30, 1, 1000000, "Login attempts per client IP."));
  s.add(app::integer_key("auth.login_failures_per_email_and_ip_per_minute", 10, 1, 1000000,
                         "Failed logins for one email from one client address; then 429 for that pair."));
  s.add(
      app::integer_key("auth.login_per_email_per_minute", 100, 1, 1000000,
                       "Failed logins for one email from all addresses; past it only clients with no recent "
                       "failure for that email may still try (the owner is never locked out)."));
  s.add(app::integer_key("auth.register_per_ip_per_minute", 10, 1, 1000000, "Registrations per client IP."));
  s.add(app::integer_key("auth.refresh_per_ip_per_minute", 60, 1, 1000000, "Token refreshes per client IP."));
  s.add(app::integer_key("auth.refresh_per_session_per_minute", 10, 1, 1000000,
                         "Token refreshes per session."));
  s.add(app::integer_key("auth.password_reset_per_ip_per_minute", 10, 1, 1000000,
                         "Password-reset requests and confirmations per client IP."));
  s.add(app::integer_key("auth.password_reset_per_email_per_hour", 5, 1, 1000000,
                         "Password-reset requests per email address."));
  s.add(app::integer_key("auth.password_reset_ttl_minutes", 30, 5, 1440, "How long a reset token works."));
  app::ConfigKey reset_url{
      "auth.password_reset_url", app::ConfigType::string, "",
      "Link mailed for a password reset, {token} replaced by the token (e.g. "
      "https://app.example/reset?token={token}); empty: the mail carries the token itself."};
  reset_url.validate = [](json::value const& v) -> std::optional<std::string> {
    std::string_view s = v.as_string();
    if (s.empty() || s.find("{token}") != std::string_view::npos) return std::nullopt;
    return std::string("must contain {token}");
  };
  s.add(std::move(reset_url));
}

}  // namespace bookspace::auth
