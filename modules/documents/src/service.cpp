#include "service.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/error.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "rules.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/documents/events.hpp>

#include <soci/soci.h>
#include <boost/json.hpp>

namespace bookspace::documents {

namespace json = boost::json;
using core::ApiError;
using core::ErrorCode;

namespace {

ApiError not_found() {
  return ApiError(ErrorCode::not_found, "No such document.");
}

/// API.md's answers for a role too weak: unreadable → 404, readable → 403.
void check_role(Role role, Role needed) {
  if (role == Role::none) throw not_found();
  if (role < needed) {
    throw ApiError(ErrorCode::forbidden, needed == Role::owner
                                             ? "Only the owner may do this."
                                             : "Viewers may read, not change, this document.");
  }
}

/// The caller's role on the live document, at least `needed` (else check_role's error).
Role require(soci::session& sql, std::string const& id, std::string const& user, Role needed) {
  Role role = role_of(sql, id, user);
  check_role(role, needed);
  return role;
}

/// The document as events carry it (search indexes it from there).
template <class Event>
Event snapshot(Document const& d, std::string_view actor, std::vector<std::string> const& readers) {
  Event e;
  e.id = d.id;
  e.owner_id = d.owner_id;
  e.version = d.version;
  e.title = d.title;
  e.content = d.content;
  e.tags = tags_from_json(d.tags);
  e.created_at = d.created_at;
  e.updated_at = d.updated_at;
  e.actor_id = std::string(actor);
  e.readers = readers;
  return e;
}

void check_if_match(std::optional<std::string> const& if_match, long long version) {
  if (!if_match) {
    throw ApiError(ErrorCode::precondition_required,
                   "Send If-Match with the ETag you last read (\"" + std::to_string(version) + "\").");
  }
  if (!etag_matches(*if_match, version, false)) {
    throw ApiError(ErrorCode::precondition_failed, "The document changed since that version; read it again.");
  }
}

ApiError changed_meanwhile() {
  return ApiError(ErrorCode::precondition_failed, "The document changed since that version; read it again.");
}

}  // namespace

core::Awaitable<Document> Service::create(std::string user, std::string title, std::string content,
                                          std::vector<std::string> tags) {
  Document d;
  d.id = deps_.ids.uuid_v7();
  d.owner_id = user;
  d.title = std::move(title);
  d.content = std::move(content);
  d.tags = tags_json(tags);
  d.version = 1;
  d.created_at = d.updated_at = deps_.clock.now_ms();
  d.role = Role::owner;
  co_await deps_.db.transaction([&](core::Tx& tx) {
    insert_document(tx.sql, d, tags);
    core::publish(deps_.events, tx, d.id, snapshot<Created>(d, user, {user}));
  });
  co_return d;
}

core::Awaitable<Document> Service::get(std::string id, std::string user) {
  auto found = co_await deps_.db.run([&](soci::session& sql) { return find_readable(sql, id, user); });
  if (!found) throw not_found();
  co_return std::move(*found);
}

core::Awaitable<std::vector<Document>> Service::list(ListQuery query) {
  co_return co_await deps_.db.run([&](soci::session& sql) { return list_documents(sql, query); });
}

core::Awaitable<Document> Service::update(std::string id, std::string user,
                                          std::optional<std::string> if_match, Changes changes) {
  const long long now = deps_.clock.now_ms();
  co_return co_await deps_.db.transaction([&](core::Tx& tx) {
    auto current = find_readable(tx.sql, id, user);
    if (!current) throw not_found();
    check_role(current->role, Role::editor);
    check_if_match(if_match, current->version);
    Document next = *current;
    if (changes.title) next.title = *changes.title;
    if (changes.content) next.content = *changes.content;
    if (changes.tags) next.tags = tags_json(*changes.tags);
    next.version = current->version + 1;
    next.updated_at = now;
    if (!update_document(tx.sql, next, current->version, changes.tags, user)) throw changed_meanwhile();
    core::publish(deps_.events, tx, id, snapshot<Updated>(next, user, readers_of(tx.sql, id)));
    return next;
  });
}

core::Awaitable<Document> Service::restore_version(std::string id, std::string user,
                                                   std::optional<std::string> if_match, long long version) {
  const long long now = deps_.clock.now_ms();
  co_return co_await deps_.db.transaction([&](core::Tx& tx) {
    auto current = find_readable(tx.sql, id, user);
    if (!current) throw not_found();
    auto old = find_version(tx.sql, id, version);
    if (!old) throw ApiError(ErrorCode::not_found, "No such version.");
    check_role(current->role, Role::editor);
    check_if_match(if_match, current->version);
    Document next = *current;
    next.title = old->title;
    next.content = old->content;
    next.tags = old->tags;
    next.version = current->version + 1;
    next.updated_at = now;
    if (!update_document(tx.sql, next, current->version, tags_from_json(old->tags), user))
      throw changed_meanwhile();
    auto event = snapshot<Updated>(next, user, readers_of(tx.sql, id));
    event.restored_from_version = version;
    core::publish(deps_.events, tx, id, event);
    return next;
  });
}

core::Awaitable<void> Service::trash(std::string id, std::string user) {
  const long long now = deps_.clock.now_ms();
  co_await deps_.db.transaction([&](core::Tx& tx) {
    require(tx.sql, id, user, Role::owner);
    auto former = readers_of(tx.sql, id);
    set_trashed(tx.sql, id, now);
    core::publish(deps_.events, tx, id, Deleted{id, user, now, user, {}, std::move(former)});
  });
}

core::Awaitable<std::vector<Version>> Service::versions(std::string id, std::string user, long long before,
                                                        int n) {
  co_return co_await deps_.db.run([&](soci::session& sql) {
    require(sql, id, user, Role::viewer);
    return list_versions(sql, id, before, n);
  });
}

core::Awaitable<Version> Service::version(std::string id, std::string user, long long version) {
  auto found = co_await deps_.db.run([&](soci::session& sql) {
    require(sql, id, user, Role::viewer);
    return find_version(sql, id, version);
  });
  if (!found) throw ApiError(ErrorCode::not_found, "No such version.");
  co_return std::move(*found);
}

core::Awaitable<std::vector<Share>> Service::shares(std::string id, std::string user, std::string after,
                                                    int n) {
  co_return co_await deps_.db.run([&](soci::session& sql) {
    require(sql, id, user, Role::viewer);
    return list_shares(sql, id, after, n);
  });
}

core::Awaitable<Share> Service::share(std::string id, std::string user, std::string with, Role role) {
  co_await deps_.db.run([&](soci::session& sql) { require(sql, id, user, Role::owner); });
  if (with == user) throw ApiError(core::Error::validation("user_id", "the owner already has every right"));
  auto account = co_await deps_.accounts.find(with);
  if (!account) throw ApiError(ErrorCode::not_found, "No such user.");
  const long long now = deps_.clock.now_ms();
  co_return co_await deps_.db.transaction([&](core::Tx& tx) {
    require(tx.sql, id, user, Role::owner);
    auto d = find_readable(tx.sql, id, user);
    auto share = upsert_share(tx.sql, *d, with, role, now);
    core::publish(deps_.events, tx, id,
                  Shared{id, user, with, std::string(to_string(role)), user, readers_of(tx.sql, id)});
    return share;
  });
}

core::Awaitable<void> Service::unshare(std::string id, std::string user, std::string with) {
  co_await deps_.db.transaction([&](core::Tx& tx) {
    require(tx.sql, id, user, Role::owner);
    if (!delete_share(tx.sql, id, with))
      throw ApiError(ErrorCode::not_found, "The document is not shared with them.");
    core::publish(deps_.events, tx, id, Unshared{id, user, with, user, readers_of(tx.sql, id)});
  });
}

core::Awaitable<std::vector<Comment>> Service::comments(std::string id, std::string user, std::string after,
                                                        int n) {
  co_return co_await deps_.db.run([&](soci::session& sql) {
    require(sql, id, user, Role::viewer);
    return list_comments(sql, id, after, n);
  });
}

core::Awaitable<Comment> Service::add_comment(std::string id, std::string user, std::string body) {
  Comment c{deps_.ids.uuid_v7(), id, user, std::move(body), deps_.clock.now_ms()};
  co_await deps_.db.transaction([&](core::Tx& tx) {
    require(tx.sql, id, user, Role::viewer);
    insert_comment(tx.sql, c);
    core::publish(deps_.events, tx, id,
                  CommentAdded{id, c.id, user, c.body, c.created_at, user, readers_of(tx.sql, id)});
  });
  co_return c;
}

core::Awaitable<void> Service::delete_comment(std::string id, std::string user, std::string comment) {
  co_await deps_.db.transaction([&](core::Tx& tx) {
    Role role = require(tx.sql, id, user, Role::viewer);
    auto found = find_comment(tx.sql, id, comment);
    if (!found) throw ApiError(ErrorCode::not_found, "No such comment.");
    if (found->author_id != user && role != Role::owner) {
      throw ApiError(ErrorCode::forbidden, "Only its author or the document's owner may delete a comment.");
    }
    documents::delete_comment(tx.sql, comment);
  });
}

core::Awaitable<std::vector<Trashed>> Service::trash_list(std::string user, std::optional<long long> key,
                                                          std::string after, int n) {
  co_return co_await deps_.db.run([&](soci::session& sql) { return list_trash(sql, user, key, after, n); });
}

core::Awaitable<Document> Service::untrash(std::string id, std::string user) {
  co_return co_await deps_.db.transaction([&](core::Tx& tx) {
    auto d = find_trashed(tx.sql, id, user);
    if (!d) throw ApiError(ErrorCode::not_found, "No such document in your trash.");
    set_trashed(tx.sql, id, std::nullopt);
    core::publish(deps_.events, tx, id, snapshot<Restored>(*d, user, readers_of(tx.sql, id)));
    return std::move(*d);
  });
}

core::Awaitable<void> Service::purge(std::string id, std::string user) {
  co_await deps_.db.transaction([&](core::Tx& tx) {
    if (!find_trashed(tx.sql, id, user))
      throw ApiError(ErrorCode::not_found, "No such document in your trash.");
    purge_document(tx.sql, id);
    core::publish(deps_.events, tx, id, Purged{id, user, user, {}});
  });
}

std::size_t Service::purge_expired(soci::session& sql, long long cutoff, int n) {
  std::size_t purged = 0;
  core::run_transaction(sql, deps_.db.dialect(), [&](core::Tx& tx) {
    for (auto const& expired : expired_trash(tx.sql, cutoff, n)) {
      purge_document(tx.sql, expired.id);
      core::publish(deps_.events, tx, expired.id, Purged{expired.id, expired.owner_id, std::nullopt, {}});
      ++purged;
    }
  });
  return purged;
}

}  // namespace bookspace::documents
