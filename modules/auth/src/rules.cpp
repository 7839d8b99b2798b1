#include "rules.hpp"

#include "passwords.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <boost/json/value.hpp>

namespace bookspace::auth {

using core::ApiError;

std::string normalize_email(std::string_view raw) {
  auto email = core::normalize_email(raw);
  if (!email) {
    throw ApiError(core::Error::validation(
        "email", "must be an email address (ASCII before the @; the domain may be international)"));
  }
  return std::move(*email);
}

std::string display_name_or_default(std::string name, std::string const& email) {
  if (!name.empty()) return name;
  return email.substr(0, email.find('@'));
}

void check_name(std::string_view field, std::string const& name) {
  if (auto problem = core::name_problem(name, 1, 100))
    throw ApiError(core::Error::validation(std::string(field), *problem));
}

void check_new_password(std::string_view field, std::string_view password) {
  if (auto problem = password_problem(password))
    throw ApiError(core::Error::validation(std::string(field), *problem));
}

bool malformed_reset_token(std::string_view token) {
  return token.empty() || token.size() > 256;
}

int api_key_days(boost::json::value const* value) {
  if (!value || value->is_null()) return 0;
  if (!value->is_int64() || value->as_int64() < 1 || value->as_int64() > 3650)
    throw ApiError(core::Error::validation("expires_in_days", "must be an integer from 1 to 3650"));
  return static_cast<int>(value->as_int64());
}

std::optional<long long> api_key_expiry(long long now, int days) {
  if (days <= 0) return std::nullopt;
  return now + days * 86'400'000LL;
}

bool key_usable(KeyRow const& key, long long now) {
  return !key.disabled && (!key.expires_at || *key.expires_at > now);
}

RefreshVerdict judge_refresh(RefreshState const& state, long long now, int reuse_grace_ms) {
  if (state.revoked_at || state.expires_at <= now || state.account.disabled) return RefreshVerdict::invalid;
  if (!state.rotated_at) return RefreshVerdict::rotate;
  // A grace of 0 turns it off: even a reuse within the same millisecond is a reuse.
  if (reuse_grace_ms > 0 && now - *state.rotated_at <= reuse_grace_ms) return RefreshVerdict::concurrent;
  return RefreshVerdict::reused;
}

}  // namespace bookspace::auth
