#include "service.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/error.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/auth/events.hpp>
#include <bookspace/users/events.hpp>

namespace bookspace::users {

using core::ApiError;
using core::ErrorCode;

namespace {

Profile from_account(auth::AccountInfo const& a) {
  return {a.id, a.email, a.display_name, a.role, a.disabled, a.created_at, a.updated_at};
}

ApiError no_such_user() {
  return ApiError(ErrorCode::not_found, "No such user.");
}

}  // namespace

core::Awaitable<Profile> Service::me(std::string id) {
  auto found = co_await deps_.db.run([&](soci::session& sql) { return find_profile(sql, id); });
  if (found) co_return *found;
  auto account = co_await deps_.accounts.find(id);
  if (!account) throw no_such_user();
  Profile p = from_account(*account);
  co_await deps_.db.run([&](soci::session& sql) { insert_profile(sql, p); });
  co_return p;
}

core::Awaitable<Profile> Service::rename(std::string id, std::string display_name) {
  co_await me(id);  // exists before it is changed
  // Auth owns the name (its token responses show it). Our copy follows its event too; writing it
  // now makes the answer read-your-writes, and users.profile_updated.v1 goes out with it.
  auto account = co_await deps_.accounts.rename(id, std::move(display_name));
  if (!account) throw no_such_user();
  co_return co_await deps_.db.transaction([&](core::Tx& tx) {
    update_display_name(tx.sql, id, account->display_name, account->updated_at);
    core::publish(deps_.events, tx, id, ProfileUpdated{id, account->display_name, account->updated_at});
    return *find_profile(tx.sql, id);
  });
}

core::Awaitable<Profile> Service::find(std::string id) {
  auto found = co_await deps_.db.run([&](soci::session& sql) { return find_profile(sql, id); });
  if (!found) throw no_such_user();
  co_return *found;
}

core::Awaitable<void> Service::require_admin(std::string const& id) {
  auto me_now = co_await me(id);
  if (me_now.role != "admin" || me_now.disabled) throw ApiError(ErrorCode::forbidden, "Administrators only.");
}

core::Awaitable<std::vector<Profile>> Service::list(std::string admin_id, std::string after_id,
                                                    std::string pattern, int limit) {
  co_await require_admin(admin_id);
  co_return co_await deps_.db.run(
      [&](soci::session& sql) { return list_profiles(sql, after_id, pattern, limit); });
}

core::Awaitable<Profile> Service::administer(std::string admin_id, std::string id,
                                             std::optional<std::string> role, std::optional<bool> disabled) {
  co_await require_admin(admin_id);
  auto account = co_await deps_.accounts.update(id, std::move(role), disabled);
  if (!account) throw no_such_user();
  // Our copy follows the event too; writing it now makes the answer read-your-writes.
  Profile p = from_account(*account);
  co_await deps_.db.run([&](soci::session& sql) {
    insert_profile(sql, p);
    update_role_and_disabled(sql, p.id, p.role, p.disabled, p.updated_at);
  });
  co_return co_await me(p.id);
}

void Service::follow_account(core::Tx& tx, core::Event const& e) {
  if (auto r = core::event_as<auth::UserRegistered>(e)) {
    insert_profile(tx.sql, {r->id, r->email, r->display_name, r->role, false, r->created_at, r->created_at});
  } else if (auto u = core::event_as<auth::AccountUpdated>(e)) {
    update_role_and_disabled(tx.sql, u->id, u->role, u->disabled, u->updated_at);
    if (u->display_name) update_display_name(tx.sql, u->id, *u->display_name, u->updated_at);
  }
}

}  // namespace bookspace::users
