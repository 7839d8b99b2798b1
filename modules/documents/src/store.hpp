#pragma once

// The documents module's repository: every SQL statement on its tables, one function per
// operation. Callers own transactions (core::Tx); nothing here decides access or publishes.

#include <bookspace/documents/documents.hpp>

#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}
namespace bookspace::core {
class JsonWriter;
}

namespace bookspace::documents {

struct Document {
  std::string id;
  std::string title;
  std::string content;  ///< empty in lists
  std::string tags;     ///< JSON array text
  std::string owner_id;
  long long version = 0;
  long long created_at = 0;
  long long updated_at = 0;
  Role role = Role::none;  ///< of the caller
};

/// API.md `Document`, written as JSON (the stored tags text copied as it is); lists leave
/// `content` out.
void write_json(core::JsonWriter& w, Document const& d, bool with_content = true);

/// The document as `user` sees it (live ones only); nullopt when they may not read it.
std::optional<Document> find_readable(soci::session& sql, std::string const& id, std::string const& user);
Role role_of(soci::session& sql, std::string const& id, std::string const& user);
/// Ids of the live documents `user` may read, in id order, after `after_id`, at most `n`.
std::vector<std::string> readable_ids(soci::session& sql, std::string const& user,
                                      std::string const& after_id, int n);
/// Ids of all live documents in id order after `after_id`, at most `n`.
std::vector<std::string> live_ids(soci::session& sql, std::string const& after_id, int n);
/// The live document (no user's view: `role` stays none); nullopt when trashed or gone.
std::optional<Document> find_live(soci::session& sql, std::string const& id);
/// Owner first, then shares by user id.
std::vector<std::string> readers_of(soci::session& sql, std::string const& id);

/// The document, its version row, the owner's member row and its tags.
void insert_document(soci::session& sql, Document const& d, std::vector<std::string> const& tags);
/// Moves the document to `next` (version = expected + 1) if it is still at `expected` and
/// live, writing the version row, tags and the members' sort keys. False when it was not.
bool update_document(soci::session& sql, Document const& next, long long expected,
                     std::optional<std::vector<std::string>> const& tags, std::string const& author);
void set_trashed(soci::session& sql, std::string const& id, std::optional<long long> deleted_at);
/// Removes the document with its versions, members, tags and comments.
void purge_document(soci::session& sql, std::string const& id);

enum class Sort { updated_desc, updated_asc, title };
enum class Scope { all, owned, shared };
struct ListQuery {
  std::string user;
  Sort sort = Sort::updated_desc;
  Scope scope = Scope::all;
  std::optional<std::string> tag;
  std::optional<std::string> after_key;  ///< keyset position (sort key, id), from the cursor
  std::string after_id;
  int limit = 20;
};
/// Up to limit + 1 documents (without content), so the caller knows whether more follow.
std::vector<Document> list_documents(soci::session& sql, ListQuery const& q);
/// The sort key of `d` for `sort`, as stored in cursors.
std::string sort_key(Document const& d, Sort sort);

struct Version {
  long long version = 0;
  std::string title, content, tags, author_id;
  long long created_at = 0;
};
std::vector<Version> list_versions(soci::session& sql, std::string const& id, long long before, int n);
std::optional<Version> find_version(soci::session& sql, std::string const& id, long long version);

struct Share {
  std::string user_id;
  Role role = Role::none;
  long long created_at = 0;
};
std::vector<Share> list_shares(soci::session& sql, std::string const& id, std::string const& after, int n);
/// Creates or changes a share; returns it as stored.
Share upsert_share(soci::session& sql, Document const& d, std::string const& user, Role role, long long now);
bool delete_share(soci::session& sql, std::string const& id, std::string const& user);

struct Comment {
  std::string id, document_id, author_id, body;
  long long created_at = 0;
};
std::vector<Comment> list_comments(soci::session& sql, std::string const& id, std::string const& after,
                                   int n);
void insert_comment(soci::session& sql, Comment const& c);
std::optional<Comment> find_comment(soci::session& sql, std::string const& document, std::string const& id);
void delete_comment(soci::session& sql, std::string const& id);

struct Trashed {
  std::string id, title;
  long long deleted_at = 0;
};
std::vector<Trashed> list_trash(soci::session& sql, std::string const& owner, std::optional<long long> key,
                                std::string const& after, int n);
/// A trashed document of `owner`, in full.
std::optional<Document> find_trashed(soci::session& sql, std::string const& id, std::string const& owner);
struct Expired {
  std::string id, owner_id;
};
/// Documents in the trash since before `cutoff`, oldest first.
std::vector<Expired> expired_trash(soci::session& sql, long long cutoff, int n);

}  // namespace bookspace::documents
