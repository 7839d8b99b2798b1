#pragma once

// The auth module's decisions free of I/O (unit-tested in tests/rules_test.cpp).

#include "store.hpp"

#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace bookspace::auth {

/// Trimmed, lower-cased, the domain as IDNA A-labels; throws ApiError(validation_failed) on
/// field `email` when it is not an address.
std::string normalize_email(std::string_view raw);
/// A display name as given, or the address's local part when none was.
std::string display_name_or_default(std::string name, std::string const& email);
/// Throws ApiError(validation_failed) on `field` when `name` is not a 1–100 character name.
void check_name(std::string_view field, std::string const& name);
/// Throws ApiError(validation_failed) on `field` when `password` may not be a new password.
void check_new_password(std::string_view field, std::string_view password);
/// A reset token no issued token can look like (empty or over 256 bytes): refused without a lookup.
bool malformed_reset_token(std::string_view token);
/// `expires_in_days` of a new API key: absent or null → 0 (never), else 1–3650. Throws ApiError.
int api_key_days(boost::json::value const* value);
/// When a key created at `now` for `days` (0: never) expires.
std::optional<long long> api_key_expiry(long long now, int days);
/// A key row stands for its account now: the account is enabled and the key not expired.
bool key_usable(KeyRow const& key, long long now);

/// What a presented refresh token leads to.
enum class RefreshVerdict {
  rotate,      ///< valid: issue the next pair
  invalid,     ///< unknown, expired, revoked session or disabled account
  concurrent,  ///< rotated moments ago (within the grace): another refresh won; refused, no harm
  reused,      ///< rotated earlier: a replayed token, so the session is revoked
};
RefreshVerdict judge_refresh(RefreshState const& state, long long now, int reuse_grace_ms);

}  // namespace bookspace::auth
