#pragma once

// Events are contracts (STYLE.md 15). A module declares each event it publishes in its public
// header as a struct:
//
//   struct ProfileUpdated {
//     static constexpr std::string_view type = "users.profile_updated.v1";
//     std::string id, display_name;
//     TimeMs updated_at = 0;
//     boost::json::object to_json() const;
//     static ProfileUpdated from_json(boost::json::object const& payload);
//   };
//
// Publishers call core::publish(events, tx, aggregate_id, ProfileUpdated{…}); consumers call
// core::event_as<ProfileUpdated>(event). Nobody writes a type string or reads a payload field
// by hand, and a test round-trips every declared event (tests/app/event_contracts_test.cpp).

#include "core/clock.hpp"
#include "core/event_log.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::core {

template <class E>
concept EventContract = requires(E const& e, boost::json::object const& payload) {
  { E::type } -> std::convertible_to<std::string_view>;
  { e.to_json() } -> std::same_as<boost::json::object>;
  { E::from_json(payload) } -> std::same_as<E>;
};

/// Appends `event` inside `tx` (see EventLog::publish).
template <EventContract E>
std::string publish(EventLog& log, Tx& tx, std::string_view aggregate_id, E const& event) {
  return log.publish(tx, E::type, aggregate_id, event.to_json());
}

/// The event as an E, or nullopt when it is another type. Throws std::invalid_argument when the
/// type matches but the payload does not (a broken contract is a handler failure, retried and
/// visible in metrics, never a silently skipped event).
template <EventContract E>
std::optional<E> event_as(Event const& e) {
  if (e.type != E::type) return std::nullopt;
  if (!e.payload.is_object())
    throw std::invalid_argument(std::string(E::type) + ": payload is not an object");
  return E::from_json(e.payload.as_object());
}

/// The types of the contracts E…, for EventLog::subscribe and watch:
///   events.subscribe("auth.profiles", core::types_of<users::ProfileUpdated>(), handler);
template <EventContract... E>
EventLog::Types types_of() {
  return {std::string(E::type)...};
}

/// Readers for from_json: a missing or mistyped field throws std::invalid_argument naming it.
namespace payload {
std::string text(boost::json::object const& o, std::string_view key);
std::int64_t integer(boost::json::object const& o, std::string_view key);
bool boolean(boost::json::object const& o, std::string_view key);
/// An RFC 3339 time, as ms since the epoch.
TimeMs time(boost::json::object const& o, std::string_view key);
std::vector<std::string> texts(boost::json::object const& o, std::string_view key);
boost::json::array array_of(std::vector<std::string> const& items);
}  // namespace payload

}  // namespace bookspace::core
