#pragma once

// The users module's repository: every SQL statement on users_profiles. Callers own
// transactions; nothing here decides access or publishes.

#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace bookspace::users {

/// Users' copy of an account (times in ms since the epoch).
struct Profile {
  std::string id, email, display_name, role;
  bool disabled = false;
  long long created_at = 0, updated_at = 0;
};

std::optional<Profile> find_profile(soci::session& sql, std::string const& id);
/// Inserts the profile unless one with its id exists (event consumers may run twice).
void insert_profile(soci::session& sql, Profile const& p);
void update_role_and_disabled(soci::session& sql, std::string const& id, std::string const& role,
                              bool disabled, long long updated_at);
void update_display_name(soci::session& sql, std::string const& id, std::string const& name,
                         long long updated_at);

/// Profiles by id (UUIDv7: creation order) after `after_id`; `pattern` a LIKE pattern (escape
/// `\`) matched against lower-cased email and display name, empty for all. Up to limit + 1.
std::vector<Profile> list_profiles(soci::session& sql, std::string const& after_id,
                                   std::string const& pattern, int limit);

}  // namespace bookspace::users
