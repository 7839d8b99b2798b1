#pragma once

// The events auth publishes (STYLE.md 15; core/event_contract.hpp). Listed with their fields in
// docs/modules/auth.md.

#include "core/clock.hpp"

#include "core/event_contract.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace bookspace::auth {

/// An account was created (register, or `users create-admin`).
struct UserRegistered {
  static constexpr std::string_view type = "auth.user_registered.v1";
  std::string id, email, display_name, role;
  core::TimeMs created_at = 0;
  boost::json::object to_json() const;
  static UserRegistered from_json(boost::json::object const& payload);
};

/// An administrator changed an account's role or disabled flag.
struct AccountUpdated {
  static constexpr std::string_view type = "auth.account_updated.v1";
  std::string id, role;
  bool disabled = false;
  core::TimeMs updated_at = 0;
  /// The display name (auth owns it; users renames through auth::Accounts). Absent from events
  /// published before it was added.
  std::optional<std::string> display_name;
  boost::json::object to_json() const;
  static AccountUpdated from_json(boost::json::object const& payload);
};

/// A session ended early (logout, password change or reset, disable, reuse detection); its
/// access tokens stop working everywhere.
struct SessionRevoked {
  static constexpr std::string_view type = "auth.session_revoked.v1";
  std::string session_id, account_id, reason;
  boost::json::object to_json() const;
  static SessionRevoked from_json(boost::json::object const& payload);
};

/// An API key was revoked; `key_hash` (SHA-256 hex) lets every instance drop it from its cache.
struct ApiKeyRevoked {
  static constexpr std::string_view type = "auth.api_key_revoked.v1";
  std::string id, account_id, key_hash;
  boost::json::object to_json() const;
  static ApiKeyRevoked from_json(boost::json::object const& payload);
};

// Inline, so that a module may consume these events without linking this one
// (bookspace_add_module(… EVENTS_FROM auth)).
namespace json = boost::json;
namespace p = core::payload;

namespace json = boost::json;
namespace p = core::payload;

inline json::object UserRegistered::to_json() const {
  return {{"id", id},
          {"email", email},
          {"display_name", display_name},
          {"role", role},
          {"created_at", core::format_rfc3339(created_at)}};
}
inline UserRegistered UserRegistered::from_json(json::object const& o) {
  return {p::text(o, "id"), p::text(o, "email"), p::text(o, "display_name"), p::text(o, "role"),
          p::time(o, "created_at")};
}

inline json::object AccountUpdated::to_json() const {
  json::object o{
      {"id", id}, {"role", role}, {"disabled", disabled}, {"updated_at", core::format_rfc3339(updated_at)}};
  if (display_name) o["display_name"] = *display_name;
  return o;
}
inline AccountUpdated AccountUpdated::from_json(json::object const& o) {
  AccountUpdated e{
      p::text(o, "id"), p::text(o, "role"), p::boolean(o, "disabled"), p::time(o, "updated_at"), {}};
  if (o.contains("display_name")) e.display_name = p::text(o, "display_name");
  return e;
}

inline json::object SessionRevoked::to_json() const {
  return {{"session_id", session_id}, {"account_id", account_id}, {"reason", reason}};
}
inline SessionRevoked SessionRevoked::from_json(json::object const& o) {
  return {p::text(o, "session_id"), p::text(o, "account_id"), p::text(o, "reason")};
}

inline json::object ApiKeyRevoked::to_json() const {
  return {{"id", id}, {"account_id", account_id}, {"key_hash", key_hash}};
}
inline ApiKeyRevoked ApiKeyRevoked::from_json(json::object const& o) {
  return {p::text(o, "id"), p::text(o, "account_id"), p::text(o, "key_hash")};
}

}  // namespace bookspace::auth
