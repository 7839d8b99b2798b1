#pragma once

// The events documents publishes (STYLE.md 15; core/event_contract.hpp), fields listed in
// docs/modules/documents.md. Every event carries `id` (the document), `actor_id` (who did it;
// null for the trash retention) and `readers`: who may read the document after the change —
// what search and realtime filter on without reading documents' tables.

#include "core/clock.hpp"

#include "core/event_contract.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::documents {

/// The whole document as of a change: search indexes it without a query of its own.
struct Snapshot {
  std::string id, owner_id;
  std::int64_t version = 0;
  std::string title, content;
  std::vector<std::string> tags;
  core::TimeMs created_at = 0, updated_at = 0;
  std::string actor_id;
  std::vector<std::string> readers;
};

struct Created : Snapshot {
  static constexpr std::string_view type = "documents.created.v1";
  boost::json::object to_json() const;
  static Created from_json(boost::json::object const& payload);
};

/// PATCH, or a version restore (then `restored_from_version` is set).
struct Updated : Snapshot {
  static constexpr std::string_view type = "documents.updated.v1";
  std::optional<std::int64_t> restored_from_version;
  boost::json::object to_json() const;
  static Updated from_json(boost::json::object const& payload);
};

/// Back from the trash, with its version and shares.
struct Restored : Snapshot {
  static constexpr std::string_view type = "documents.restored.v1";
  boost::json::object to_json() const;
  static Restored from_json(boost::json::object const& payload);
};

/// Moved to the trash: nobody may read it now (`readers` is empty); `former_readers` could.
struct Deleted {
  static constexpr std::string_view type = "documents.deleted.v1";
  std::string id, owner_id;
  core::TimeMs deleted_at = 0;
  std::string actor_id;
  std::vector<std::string> readers, former_readers;
  boost::json::object to_json() const;
  static Deleted from_json(boost::json::object const& payload);
};

/// Gone for good (DELETE /trash/{id}, or the retention: then `actor_id` is empty).
struct Purged {
  static constexpr std::string_view type = "documents.purged.v1";
  std::string id, owner_id;
  std::optional<std::string> actor_id;
  std::vector<std::string> readers;
  boost::json::object to_json() const;
  static Purged from_json(boost::json::object const& payload);
};

struct Shared {
  static constexpr std::string_view type = "documents.shared.v1";
  std::string id, owner_id, user_id, role;  ///< role: "viewer" | "editor"
  std::string actor_id;
  std::vector<std::string> readers;
  boost::json::object to_json() const;
  static Shared from_json(boost::json::object const& payload);
};

struct Unshared {
  static constexpr std::string_view type = "documents.unshared.v1";
  std::string id, owner_id, user_id;
  std::string actor_id;
  std::vector<std::string> readers;
  boost::json::object to_json() const;
  static Unshared from_json(boost::json::object const& payload);
};

struct CommentAdded {
  static constexpr std::string_view type = "documents.comment_added.v1";
  std::string id, comment_id, author_id, body;
  core::TimeMs created_at = 0;
  std::string actor_id;
  std::vector<std::string> readers;
  boost::json::object to_json() const;
  static CommentAdded from_json(boost::json::object const& payload);
};

// Inline, so that a module may consume these events without linking this one
// (bookspace_add_module(… EVENTS_FROM documents)).
namespace json = boost::json;
namespace p = core::payload;

namespace json = boost::json;
namespace p = core::payload;

namespace detail {

inline json::object snapshot_json(Snapshot const& s) {
  return {{"id", s.id},
          {"owner_id", s.owner_id},
          {"version", s.version},
          {"title", s.title},
          {"content", s.content},
          {"tags", p::array_of(s.tags)},
          {"created_at", core::format_rfc3339(s.created_at)},
          {"updated_at", core::format_rfc3339(s.updated_at)},
          {"actor_id", s.actor_id},
          {"readers", p::array_of(s.readers)}};
}

inline void snapshot_from(json::object const& o, Snapshot& s) {
  s.id = p::text(o, "id");
  s.owner_id = p::text(o, "owner_id");
  s.version = p::integer(o, "version");
  s.title = p::text(o, "title");
  s.content = p::text(o, "content");
  s.tags = p::texts(o, "tags");
  s.created_at = p::time(o, "created_at");
  s.updated_at = p::time(o, "updated_at");
  s.actor_id = p::text(o, "actor_id");
  s.readers = p::texts(o, "readers");
}

}  // namespace detail

inline json::object Created::to_json() const {
  return detail::snapshot_json(*this);
}
inline Created Created::from_json(json::object const& o) {
  Created e;
  detail::snapshot_from(o, e);
  return e;
}

inline json::object Updated::to_json() const {
  auto o = detail::snapshot_json(*this);
  if (restored_from_version) o["restored_from_version"] = *restored_from_version;
  return o;
}
inline Updated Updated::from_json(json::object const& o) {
  Updated e;
  detail::snapshot_from(o, e);
  if (o.contains("restored_from_version")) e.restored_from_version = p::integer(o, "restored_from_version");
  return e;
}

inline json::object Restored::to_json() const {
  return detail::snapshot_json(*this);
}
inline Restored Restored::from_json(json::object const& o) {
  Restored e;
  detail::snapshot_from(o, e);
  return e;
}

inline json::object Deleted::to_json() const {
  return {{"id", id},
          {"owner_id", owner_id},
          {"deleted_at", core::format_rfc3339(deleted_at)},
          {"actor_id", actor_id},
          {"readers", p::array_of(readers)},
          {"former_readers", p::array_of(former_readers)}};
}
inline Deleted Deleted::from_json(json::object const& o) {
  return {p::text(o, "id"),       p::text(o, "owner_id"), p::time(o, "deleted_at"),
          p::text(o, "actor_id"), p::texts(o, "readers"), p::texts(o, "former_readers")};
}

inline json::object Purged::to_json() const {
  return {{"id", id},
          {"owner_id", owner_id},
          {"actor_id", actor_id ? json::value(*actor_id) : json::value(nullptr)},
          {"readers", p::array_of(readers)}};
}
inline Purged Purged::from_json(json::object const& o) {
  Purged e{p::text(o, "id"), p::text(o, "owner_id"), std::nullopt, p::texts(o, "readers")};
  if (auto const* a = o.if_contains("actor_id"); a && !a->is_null()) e.actor_id = p::text(o, "actor_id");
  return e;
}

inline json::object Shared::to_json() const {
  return {{"id", id},     {"owner_id", owner_id}, {"user_id", user_id},
          {"role", role}, {"actor_id", actor_id}, {"readers", p::array_of(readers)}};
}
inline Shared Shared::from_json(json::object const& o) {
  return {p::text(o, "id"),   p::text(o, "owner_id"), p::text(o, "user_id"),
          p::text(o, "role"), p::text(o, "actor_id"), p::texts(o, "readers")};
}

inline json::object Unshared::to_json() const {
  return {{"id", id},
          {"owner_id", owner_id},
          {"user_id", user_id},
          {"actor_id", actor_id},
          {"readers", p::array_of(readers)}};
}
inline Unshared Unshared::from_json(json::object const& o) {
  return {p::text(o, "id"), p::text(o, "owner_id"), p::text(o, "user_id"), p::text(o, "actor_id"),
          p::texts(o, "readers")};
}

inline json::object CommentAdded::to_json() const {
  return {{"id", id},
          {"comment_id", comment_id},
          {"author_id", author_id},
          {"body", body},
          {"created_at", core::format_rfc3339(created_at)},
          {"actor_id", actor_id},
          {"readers", p::array_of(readers)}};
}
inline CommentAdded CommentAdded::from_json(json::object const& o) {
  return {p::text(o, "id"),         p::text(o, "comment_id"), p::text(o, "author_id"), p::text(o, "body"),
          p::time(o, "created_at"), p::text(o, "actor_id"),   p::texts(o, "readers")};
}

}  // namespace bookspace::documents
