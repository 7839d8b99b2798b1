#include "service.hpp"

#include "app/module.hpp"
#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/error.hpp"
#include "core/event_log.hpp"
#include "core/ids.hpp"
#include "rules.hpp"

#include <bookspace/auth/auth.hpp>

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

json::array to_array(std::vector<std::string> const& items) {
  json::array a;
  for (auto const& i : items) a.emplace_back(i);
  return a;
}

/// The payload of created/updated/restored: enough to index the document without reading it.
json::object document_payload(Document const& d, std::string_view actor,
                              std::vector<std::string> const& readers) {
  return {{"id", d.id},
          {"owner_id", d.owner_id},
          {"version", d.version},
          {"title", d.title},
          {"content", d.content},
          {"tags", json::parse(d.tags)},
          {"created_at", core::format_rfc3339(d.created_at)},
          {"updated_at", core::format_rfc3339(d.updated_at)},
          {"actor_id", actor},
          {"readers", to_array(readers)}};
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
  d.id = ctx_.ids.uuid_v7();
  d.owner_id = user;
  d.title = std::move(title);
  d.content = std::move(content);
  d.tags = tags_json(tags);
  d.version = 1;
  d.created_at = d.updated_at = ctx_.clock.now_ms();
  d.role = Role::owner;
  co_await ctx_.db.transaction([&](core::Tx& tx) {
    insert_document(tx.sql, d, tags);
    ctx_.events.publish(tx, created_v1, d.id, document_payload(d, user, {user}));
  });
  co_return d;
}

core::Awaitable<Document> Service::get(std::string id, std::string user) {
  auto found = co_await ctx_.db.run([&](soci::session& sql) { return find_readable(sql, id, user); });
  if (!found) throw not_found();
  co_return std::move(*found);
}

core::Awaitable<std::vector<Document>> Service::list(ListQuery query) {
  co_return co_await ctx_.db.run([&](soci::session& sql) { return list_documents(sql, query); });
}

core::Awaitable<Document> Service::update(std::string id, std::string user,
                                          std::optional<std::string> if_match, Changes changes) {
  const long long now = ctx_.clock.now_ms();
  co_return co_await ctx_.db.transaction([&](core::Tx& tx) {
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
    ctx_.events.publish(tx, updated_v1, id, document_payload(next, user, readers_of(tx.sql, id)));
    return next;
  });
}

core::Awaitable<Document> Service::restore_version(std::string id, std::string user,
                                                   std::optional<std::string> if_match, long long version) {
  const long long now = ctx_.clock.now_ms();
  co_return co_await ctx_.db.transaction([&](core::Tx& tx) {
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
    auto payload = document_payload(next, user, readers_of(tx.sql, id));
    payload["restored_from_version"] = version;
    ctx_.events.publish(tx, updated_v1, id, std::move(payload));
    return next;
  });
}

core::Awaitable<void> Service::trash(std::string id, std::string user) {
  const long long now = ctx_.clock.now_ms();
  co_await ctx_.db.transaction([&](core::Tx& tx) {
    require(tx.sql, id, user, Role::owner);
    auto former = readers_of(tx.sql, id);
    set_trashed(tx.sql, id, now);
    ctx_.events.publish(tx, deleted_v1, id,
                        {{"id", id},
                         {"owner_id", user},
                         {"deleted_at", core::format_rfc3339(now)},
                         {"actor_id", user},
                         {"readers", json::array()},
                         {"former_readers", to_array(former)}});
  });
}

core::Awaitable<std::vector<Version>> Service::versions(std::string id, std::string user, long long before,
                                                        int n) {
  co_return co_await ctx_.db.run([&](soci::session& sql) {
    require(sql, id, user, Role::viewer);
    return list_versions(sql, id, before, n);
  });
}

core::Awaitable<Version> Service::version(std::string id, std::string user, long long version) {
  auto found = co_await ctx_.db.run([&](soci::session& sql) {
    require(sql, id, user, Role::viewer);
    return find_version(sql, id, version);
  });
  if (!found) throw ApiError(ErrorCode::not_found, "No such version.");
  co_return std::move(*found);
}

core::Awaitable<std::vector<Share>> Service::shares(std::string id, std::string user, std::string after,
                                                    int n) {
  co_return co_await ctx_.db.run([&](soci::session& sql) {
    require(sql, id, user, Role::viewer);
    return list_shares(sql, id, after, n);
  });
}

core::Awaitable<Share> Service::share(std::string id, std::string user, std::string with, Role role) {
  co_await ctx_.db.run([&](soci::session& sql) { require(sql, id, user, Role::owner); });
  if (with == user) throw ApiError(core::Error::validation("user_id", "the owner already has every right"));
  auto account = co_await accounts_.find(with);
  if (!account) throw ApiError(ErrorCode::not_found, "No such user.");
  const long long now = ctx_.clock.now_ms();
  co_return co_await ctx_.db.transaction([&](core::Tx& tx) {
    require(tx.sql, id, user, Role::owner);
    auto d = find_readable(tx.sql, id, user);
    auto share = upsert_share(tx.sql, *d, with, role, now);
    ctx_.events.publish(tx, shared_v1, id,
                        {{"id", id},
                         {"owner_id", user},
                         {"user_id", with},
                         {"role", to_string(role)},
                         {"actor_id", user},
                         {"readers", to_array(readers_of(tx.sql, id))}});
    return share;
  });
}

core::Awaitable<void> Service::unshare(std::string id, std::string user, std::string with) {
  co_await ctx_.db.transaction([&](core::Tx& tx) {
    require(tx.sql, id, user, Role::owner);
    if (!delete_share(tx.sql, id, with))
      throw ApiError(ErrorCode::not_found, "The document is not shared with them.");
    ctx_.events.publish(tx, unshared_v1, id,
                        {{"id", id},
                         {"owner_id", user},
                         {"user_id", with},
                         {"actor_id", user},
                         {"readers", to_array(readers_of(tx.sql, id))}});
  });
}

core::Awaitable<std::vector<Comment>> Service::comments(std::string id, std::string user, std::string after,
                                                        int n) {
  co_return co_await ctx_.db.run([&](soci::session& sql) {
    require(sql, id, user, Role::viewer);
    return list_comments(sql, id, after, n);
  });
}

core::Awaitable<Comment> Service::add_comment(std::string id, std::string user, std::string body) {
  Comment c{ctx_.ids.uuid_v7(), id, user, std::move(body), ctx_.clock.now_ms()};
  co_await ctx_.db.transaction([&](core::Tx& tx) {
    require(tx.sql, id, user, Role::viewer);
    insert_comment(tx.sql, c);
    ctx_.events.publish(tx, comment_added_v1, id,
                        {{"id", id},
                         {"comment_id", c.id},
                         {"author_id", user},
                         {"body", c.body},
                         {"created_at", core::format_rfc3339(c.created_at)},
                         {"actor_id", user},
                         {"readers", to_array(readers_of(tx.sql, id))}});
  });
  co_return c;
}

core::Awaitable<void> Service::delete_comment(std::string id, std::string user, std::string comment) {
  co_await ctx_.db.transaction([&](core::Tx& tx) {
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
  co_return co_await ctx_.db.run([&](soci::session& sql) { return list_trash(sql, user, key, after, n); });
}

core::Awaitable<Document> Service::untrash(std::string id, std::string user) {
  co_return co_await ctx_.db.transaction([&](core::Tx& tx) {
    auto d = find_trashed(tx.sql, id, user);
    if (!d) throw ApiError(ErrorCode::not_found, "No such document in your trash.");
    set_trashed(tx.sql, id, std::nullopt);
    ctx_.events.publish(tx, restored_v1, id, document_payload(*d, user, readers_of(tx.sql, id)));
    return std::move(*d);
  });
}

core::Awaitable<void> Service::purge(std::string id, std::string user) {
  co_await ctx_.db.transaction([&](core::Tx& tx) {
    if (!find_trashed(tx.sql, id, user))
      throw ApiError(ErrorCode::not_found, "No such document in your trash.");
    purge_document(tx.sql, id);
    ctx_.events.publish(tx, purged_v1, id,
                        {{"id", id}, {"owner_id", user}, {"actor_id", user}, {"readers", json::array()}});
  });
}

std::size_t Service::purge_expired(soci::session& sql, long long cutoff, int n) {
  std::size_t purged = 0;
  core::run_transaction(sql, ctx_.db.dialect(), [&](core::Tx& tx) {
    for (auto const& expired : expired_trash(tx.sql, cutoff, n)) {
      purge_document(tx.sql, expired.id);
      ctx_.events.publish(tx, purged_v1, expired.id,
                          {{"id", expired.id},
                           {"owner_id", expired.owner_id},
                           {"actor_id", nullptr},
                           {"readers", json::array()}});
      ++purged;
    }
  });
  return purged;
}

}  // namespace bookspace::documents
