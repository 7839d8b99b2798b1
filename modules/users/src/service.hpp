#pragma once

// The users module's use cases: profiles and their administration, around the repository
// (store.hpp). Transport-free: routes.cpp turns HTTP into these calls.

#include "store.hpp"

#include "core/async.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bookspace::core {
class Clock;
class Database;
struct Event;
class EventLog;
class Tx;
}  // namespace bookspace::core
namespace bookspace::auth {
class Accounts;
}

namespace bookspace::users {

struct ServiceDeps {
  core::Database& db;
  core::EventLog& events;
  core::Clock const& clock;
  auth::Accounts& accounts;
};

/// Errors are ApiError (decision 0005): not_found, forbidden.
class Service {
 public:
  explicit Service(ServiceDeps deps) : deps_(deps) {}

  /// The user's own profile; right after registration the event may not have been applied
  /// yet, so it is then built from auth's account (and stored, as the consumer would).
  core::Awaitable<Profile> me(std::string id);
  /// Changes the display name: users.profile_updated.v1.
  core::Awaitable<Profile> rename(std::string id, std::string display_name);
  /// Anyone's profile (routes show others only id and name).
  core::Awaitable<Profile> find(std::string id);

  /// Admin only (the role as stored now, not as the token says): profiles by id after
  /// `after_id`, matching `pattern` (rules.hpp search_pattern); up to limit + 1.
  core::Awaitable<std::vector<Profile>> list(std::string admin_id, std::string after_id, std::string pattern,
                                             int limit);
  /// Admin only: changes role and/or disabled through auth (which revokes sessions).
  core::Awaitable<Profile> administer(std::string admin_id, std::string id, std::optional<std::string> role,
                                      std::optional<bool> disabled);

  /// The durable consumer of auth's account events: profiles follow accounts. Idempotent.
  static void follow_account(core::Tx& tx, core::Event const& event);

 private:
  core::Awaitable<void> require_admin(std::string const& id);

  ServiceDeps deps_;
};

}  // namespace bookspace::users
