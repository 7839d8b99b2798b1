#pragma once

// The events users publishes (STYLE.md 15; core/event_contract.hpp).

#include "core/clock.hpp"

#include "core/event_contract.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace bookspace::users {

/// A user changed their display name (PATCH /users/me); auth keeps its copy with it.
struct ProfileUpdated {
  static constexpr std::string_view type = "users.profile_updated.v1";
  std::string id, display_name;
  core::TimeMs updated_at = 0;
  boost::json::object to_json() const;
  static ProfileUpdated from_json(boost::json::object const& payload);
};

// Inline, so that a module may consume these events without linking this one
// (bookspace_add_module(… EVENTS_FROM users)).

inline boost::json::object ProfileUpdated::to_json() const {
  return {{"id", id}, {"display_name", display_name}, {"updated_at", core::format_rfc3339(updated_at)}};
}
inline ProfileUpdated ProfileUpdated::from_json(boost::json::object const& o) {
  namespace p = core::payload;
  return {p::text(o, "id"), p::text(o, "display_name"), p::time(o, "updated_at")};
}

}  // namespace bookspace::users
