#include "store.hpp"

#include "core/clock.hpp"
#include "core/json_writer.hpp"
#include "core/prepared.hpp"
#include "core/sql.hpp"
#include "rules.hpp"

#include <soci/soci.h>
#include <boost/json.hpp>

#include <array>
#include <limits>

namespace bookspace::documents {

namespace json = boost::json;
using soci::into;
using soci::use;

namespace {

// --- documents and their versions ---------------------------------------------------------
constexpr std::string_view find_readable_sql =
    "SELECT d.title, d.content, d.tags, d.owner_id, d.version, d.created_at, d.updated_at, m.role"
    " FROM documents_members m JOIN documents_documents d ON d.id = m.document_id"
    " WHERE m.document_id = :id AND m.user_id = :user AND m.trashed = 0";
constexpr std::string_view role_sql =
    "SELECT role FROM documents_members WHERE document_id = :id AND user_id = :user AND trashed = 0";
constexpr std::string_view readers_sql =
    "SELECT user_id FROM documents_members WHERE document_id = :id AND trashed = 0 ORDER BY owned DESC, "
    "user_id";
constexpr std::string_view readable_ids_sql =
    "SELECT document_id FROM documents_members WHERE user_id = :user AND trashed = 0 AND document_id > :after"
    " ORDER BY document_id LIMIT :n";
constexpr std::string_view live_ids_sql =
    "SELECT id FROM documents_documents WHERE deleted_at IS NULL AND id > :after ORDER BY id LIMIT :n";
constexpr std::string_view find_live_sql =
    "SELECT title, content, tags, owner_id, version, created_at, updated_at FROM documents_documents"
    " WHERE id = :id AND deleted_at IS NULL";
constexpr std::string_view insert_document_sql =
    "INSERT INTO documents_documents (id, owner_id, title, content, tags, version, created_at, updated_at)"
    " VALUES (:id, :owner, :title, :content, :tags, :version, :created, :updated)";
constexpr std::string_view insert_owner_sql =
    "INSERT INTO documents_members (document_id, user_id, role, owned, created_at, updated_at, title_key,"
    " trashed) VALUES (:id, :owner, 'owner', 1, :created, :updated, :key, 0)";
constexpr std::string_view insert_version_sql =
    "INSERT INTO documents_versions (document_id, version, title, content, tags, author_id, created_at)"
    " VALUES (:id, :version, :title, :content, :tags, :author, :created)";
// The version check is part of the UPDATE: of two concurrent writers holding the same
// version, the second finds no row (PostgreSQL re-evaluates WHERE after the first commits;
// SQLite serializes writers) — no read-then-write window.
constexpr std::string_view update_document_sql =
    "UPDATE documents_documents SET title = :title, content = :content, tags = :tags, version = :version,"
    " updated_at = :updated WHERE id = :id AND version = :expected AND deleted_at IS NULL";
constexpr std::string_view update_member_keys_sql =
    "UPDATE documents_members SET updated_at = :updated, title_key = :key WHERE document_id = :id";
constexpr std::string_view insert_tag_sql =
    "INSERT INTO documents_tags (document_id, tag) VALUES (:id, :tag)";
constexpr std::string_view delete_tags_sql = "DELETE FROM documents_tags WHERE document_id = :id";
constexpr std::string_view trash_sql = "UPDATE documents_documents SET deleted_at = :at WHERE id = :id";
constexpr std::string_view untrash_sql = "UPDATE documents_documents SET deleted_at = NULL WHERE id = :id";
constexpr std::string_view members_trashed_sql =
    "UPDATE documents_members SET trashed = :trashed WHERE document_id = :id";
constexpr std::array<std::string_view, 5> purge_sql = {
    "DELETE FROM documents_comments WHERE document_id = :id",
    "DELETE FROM documents_tags WHERE document_id = :id",
    "DELETE FROM documents_members WHERE document_id = :id",
    "DELETE FROM documents_versions WHERE document_id = :id",
    "DELETE FROM documents_documents WHERE id = :id",
};

// --- lists: one index range each (see the indexes in migrations/documents) -------------------
constexpr std::string_view list_select_sql =
    "SELECT d.id, d.title, d.tags, d.owner_id, d.version, d.created_at, d.updated_at, m.role"
    " FROM documents_members m JOIN documents_documents d ON d.id = m.document_id"
    " WHERE m.user_id = :user AND m.trashed = 0";
constexpr std::string_view scope_owned_sql = " AND m.owned = 1";
constexpr std::string_view scope_shared_sql = " AND m.owned = 0";
// A scalar subquery, not EXISTS: PostgreSQL turns EXISTS into a join that hashes every
// document with the tag and sorts; this keeps the ordered index range and checks each row.
constexpr std::string_view tag_filter_sql =
    " AND (SELECT t.tag FROM documents_tags t WHERE t.document_id = m.document_id AND t.tag = :tag) IS NOT "
    "NULL";
constexpr std::string_view keyset_updated_desc_sql =
    " AND (m.updated_at, m.document_id) < (:key, :after) ORDER BY m.updated_at DESC, m.document_id DESC"
    " LIMIT :n";
constexpr std::string_view keyset_updated_asc_sql =
    " AND (m.updated_at, m.document_id) > (:key, :after) ORDER BY m.updated_at, m.document_id LIMIT :n";
constexpr std::string_view keyset_title_sql =
    " AND (m.title_key, m.document_id) > (:key, :after) ORDER BY m.title_key, m.document_id LIMIT :n";

constexpr std::string_view list_versions_sql =
    "SELECT version, title, author_id, created_at FROM documents_versions"
    " WHERE document_id = :id AND version < :before ORDER BY version DESC LIMIT :n";
constexpr std::string_view find_version_sql =
    "SELECT title, content, tags, author_id, created_at FROM documents_versions"
    " WHERE document_id = :id AND version = :version";

// --- shares ------------------------------------------------------------------------------
constexpr std::string_view list_shares_sql =
    "SELECT user_id, role, created_at FROM documents_members"
    " WHERE document_id = :id AND owned = 0 AND user_id > :after ORDER BY user_id LIMIT :n";
constexpr std::string_view find_share_sql =
    "SELECT role, created_at FROM documents_members WHERE document_id = :id AND user_id = :user";
constexpr std::string_view update_share_sql =
    "UPDATE documents_members SET role = :role WHERE document_id = :id AND user_id = :user AND owned = 0";
constexpr std::string_view insert_share_sql =
    "INSERT INTO documents_members (document_id, user_id, role, owned, created_at, updated_at, title_key,"
    " trashed) VALUES (:id, :user, :role, 0, :created, :updated, :key, 0)";
constexpr std::string_view delete_share_sql =
    "DELETE FROM documents_members WHERE document_id = :id AND user_id = :user AND owned = 0";

// --- comments ----------------------------------------------------------------------------
constexpr std::string_view list_comments_sql =
    "SELECT id, author_id, body, created_at FROM documents_comments"
    " WHERE document_id = :id AND id > :after ORDER BY id LIMIT :n";
constexpr std::string_view insert_comment_sql =
    "INSERT INTO documents_comments (id, document_id, author_id, body, created_at)"
    " VALUES (:id, :document, :author, :body, :created)";
constexpr std::string_view find_comment_sql =
    "SELECT author_id, body, created_at FROM documents_comments WHERE id = :id AND document_id = :document";
constexpr std::string_view delete_comment_sql = "DELETE FROM documents_comments WHERE id = :id";

// --- trash -------------------------------------------------------------------------------
constexpr std::string_view list_trash_sql =
    "SELECT id, title, deleted_at FROM documents_documents WHERE owner_id = :owner AND deleted_at IS NOT NULL"
    " AND (deleted_at, id) < (:key, :after) ORDER BY deleted_at DESC, id DESC LIMIT :n";
constexpr std::string_view find_trashed_sql =
    "SELECT title, content, tags, version, created_at, updated_at FROM documents_documents"
    " WHERE id = :id AND owner_id = :owner AND deleted_at IS NOT NULL";
constexpr std::string_view expired_trash_sql =
    "SELECT id, owner_id FROM documents_documents WHERE deleted_at IS NOT NULL AND deleted_at < :cutoff"
    " ORDER BY deleted_at LIMIT :n";

constexpr long long no_key_high = std::numeric_limits<long long>::max();

void insert_tags(soci::session& sql, std::string const& id, std::vector<std::string> const& tags) {
  for (auto const& tag : tags) core::execute(sql, insert_tag_sql, id, tag);
}

void insert_version(soci::session& sql, Document const& d, std::string const& author) {
  core::execute(sql, insert_version_sql, d.id, d.version, d.title, d.content, d.tags, author, d.updated_at);
}

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::owner:
      return "owner";
    case Role::editor:
      return "editor";
    case Role::viewer:
      return "viewer";
    case Role::none:
      break;
  }
  return "none";
}

Role role_from_string(std::string_view text) {
  if (text == "owner") return Role::owner;
  if (text == "editor") return Role::editor;
  if (text == "viewer") return Role::viewer;
  return Role::none;
}

void write_json(core::JsonWriter& w, Document const& d, bool with_content) {
  w.begin_object().key("id").string(d.id).key("title").string(d.title);
  if (with_content) w.key("content").string(d.content);
  w.key("tags").raw(d.tags);  // written by tags_json(), never by a client
  w.key("owner_id").string(d.owner_id).key("version").integer(d.version);
  w.key("created_at").time(d.created_at).key("updated_at").time(d.updated_at);
  w.key("role").string(to_string(d.role)).end_object();
}

namespace {

/// The columns a document's reads select after its id (title, [content,] tags, owner, version,
/// times, the reader's role), bound into `d` and `role` in that order.
void bind_document(soci::statement& st, Document& d, std::string& role, bool with_content) {
  st.exchange(into(d.title));
  if (with_content) st.exchange(into(d.content));
  st.exchange(into(d.tags));
  st.exchange(into(d.owner_id));
  st.exchange(into(d.version));
  st.exchange(into(d.created_at));
  st.exchange(into(d.updated_at));
  st.exchange(into(role));
}

}  // namespace

std::optional<Document> find_readable(soci::session& sql, std::string const& id, std::string const& user) {
  // The hottest read of the module (every GET /documents/{id}): prepared once per connection.
  struct Vars {
    std::string id, user;
    Document d;
    std::string role;
  };
  auto& q = core::prepared<Vars>(sql, find_readable_sql, [](soci::statement& st, Vars& v) {
    st.exchange(use(v.id));
    st.exchange(use(v.user));
    bind_document(st, v.d, v.role, true);
  });
  q.vars.id = id;
  q.vars.user = user;
  if (!q.run()) return std::nullopt;
  Document d = q.vars.d;
  d.id = id;
  d.role = role_from_string(q.vars.role);
  return d;
}

Role role_of(soci::session& sql, std::string const& id, std::string const& user) {
  std::string role;
  sql << role_sql, use(id), use(user), into(role);
  return sql.got_data() ? role_from_string(role) : Role::none;
}

std::vector<std::string> readers_of(soci::session& sql, std::string const& id) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows = (sql.prepare << readers_sql, use(id));
  for (auto const& user : rows) out.push_back(user);
  return out;
}

void insert_document(soci::session& sql, Document const& d, std::vector<std::string> const& tags) {
  core::execute(sql, insert_document_sql, d.id, d.owner_id, d.title, d.content, d.tags, d.version,
                d.created_at, d.updated_at);
  insert_version(sql, d, d.owner_id);
  const std::string key = title_key(d.title);
  core::execute(sql, insert_owner_sql, d.id, d.owner_id, d.created_at, d.updated_at, key);
  insert_tags(sql, d.id, tags);
}

bool update_document(soci::session& sql, Document const& next, long long expected,
                     std::optional<std::vector<std::string>> const& tags, std::string const& author) {
  if (core::execute(sql, update_document_sql, next.title, next.content, next.tags, next.version,
                    next.updated_at, next.id, expected) != 1)
    return false;
  insert_version(sql, next, author);
  const std::string key = title_key(next.title);
  core::execute(sql, update_member_keys_sql, next.updated_at, key, next.id);
  if (tags) {
    core::execute(sql, delete_tags_sql, next.id);
    insert_tags(sql, next.id, *tags);
  }
  return true;
}

void set_trashed(soci::session& sql, std::string const& id, std::optional<long long> deleted_at) {
  if (deleted_at) {
    core::execute(sql, trash_sql, *deleted_at, id);
  } else {
    core::execute(sql, untrash_sql, id);
  }
  int trashed = deleted_at ? 1 : 0;
  core::execute(sql, members_trashed_sql, trashed, id);
}

void purge_document(soci::session& sql, std::string const& id) {
  for (auto const& statement : purge_sql) core::execute(sql, statement, id);
}

std::string sort_key(Document const& d, Sort sort) {
  return sort == Sort::title ? title_key(d.title) : std::to_string(d.updated_at);
}

namespace {

/// The list statement of one (scope, tag filter, sort): 18 texts made once, so each has a stable
/// address and is prepared once per connection.
std::string_view list_sql(Scope scope, bool tag, Sort sort) {
  static const std::array<std::string, 18> texts = [] {
    std::array<std::string, 18> out;
    for (int sc = 0; sc < 3; ++sc) {
      for (int t = 0; t < 2; ++t) {
        for (int so = 0; so < 3; ++so) {
          std::string text(list_select_sql);
          if (sc == static_cast<int>(Scope::owned)) text += scope_owned_sql;
          if (sc == static_cast<int>(Scope::shared)) text += scope_shared_sql;
          if (t) text += tag_filter_sql;
          text += so == static_cast<int>(Sort::updated_desc)  ? keyset_updated_desc_sql
                  : so == static_cast<int>(Sort::updated_asc) ? keyset_updated_asc_sql
                                                              : keyset_title_sql;
          out[((static_cast<std::size_t>(sc) * 2 + static_cast<std::size_t>(t)) * 3) +
              static_cast<std::size_t>(so)] = std::move(text);
        }
      }
    }
    return out;
  }();
  return texts[((static_cast<std::size_t>(scope) * 2 + (tag ? 1 : 0)) * 3) + static_cast<std::size_t>(sort)];
}

}  // namespace

std::vector<std::string> readable_ids(soci::session& sql, std::string const& user,
                                      std::string const& after_id, int n) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows = (sql.prepare << readable_ids_sql, use(user), use(after_id), use(n));
  for (auto const& id : rows) out.push_back(id);
  return out;
}

std::vector<std::string> live_ids(soci::session& sql, std::string const& after_id, int n) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows = (sql.prepare << live_ids_sql, use(after_id), use(n));
  for (auto const& id : rows) out.push_back(id);
  return out;
}

std::optional<Document> find_live(soci::session& sql, std::string const& id) {
  soci::rowset<soci::row> rows = (sql.prepare << find_live_sql, use(id));
  for (auto const& r : rows) {
    namespace s = core::sql;
    Document d;
    d.id = id;
    d.title = s::get_text(r, 0);
    d.content = s::get_text(r, 1);
    d.tags = s::get_text(r, 2);
    d.owner_id = s::get_text(r, 3);
    d.version = s::get_int(r, 4);
    d.created_at = s::get_int(r, 5);
    d.updated_at = s::get_int(r, 6);
    return d;
  }
  return std::nullopt;
}

std::vector<Document> list_documents(soci::session& sql, ListQuery const& q) {
  struct Vars {
    std::string user, tag, after_id, key_text;
    long long key_number = 0;
    int n = 0;
    Document d;
    std::string role;
  };
  const bool tag = q.tag.has_value();
  const bool by_title = q.sort == Sort::title;
  auto& st =
      core::prepared<Vars>(sql, list_sql(q.scope, tag, q.sort), [tag, by_title](soci::statement& s, Vars& v) {
        s.exchange(use(v.user));
        if (tag) s.exchange(use(v.tag));
        if (by_title)
          s.exchange(use(v.key_text));
        else
          s.exchange(use(v.key_number));
        s.exchange(use(v.after_id));
        s.exchange(use(v.n));
        s.exchange(into(v.d.id));
        bind_document(s, v.d, v.role, false);
      });
  st.vars.user = q.user;
  st.vars.tag = q.tag.value_or("");
  st.vars.after_id = q.after_id;
  st.vars.n = q.limit + 1;
  if (by_title) {
    st.vars.key_text = q.after_key.value_or(std::string());
  } else {
    st.vars.key_number = q.sort == Sort::updated_desc ? no_key_high : -1;
    if (q.after_key) st.vars.key_number = std::stoll(*q.after_key);
  }
  std::vector<Document> out;
  out.reserve(static_cast<std::size_t>(st.vars.n));
  st.run_each([&out](Vars const& v) {
    Document d = v.d;
    d.role = role_from_string(v.role);
    out.push_back(std::move(d));
  });
  return out;
}

std::vector<Version> list_versions(soci::session& sql, std::string const& id, long long before, int n) {
  std::vector<Version> out;
  if (before <= 0) before = no_key_high;
  soci::rowset<soci::row> rows = (sql.prepare << list_versions_sql, use(id), use(before), use(n));
  for (auto const& row : rows) {
    namespace s = core::sql;
    Version v;
    v.version = s::get_int(row, 0);
    v.title = s::get_text(row, 1);
    v.author_id = s::get_text(row, 2);
    v.created_at = s::get_int(row, 3);
    out.push_back(std::move(v));
  }
  return out;
}

std::optional<Version> find_version(soci::session& sql, std::string const& id, long long version) {
  Version v;
  v.version = version;
  sql << find_version_sql, use(id), use(version), into(v.title), into(v.content), into(v.tags),
      into(v.author_id), into(v.created_at);
  if (!sql.got_data()) return std::nullopt;
  return v;
}

std::vector<Share> list_shares(soci::session& sql, std::string const& id, std::string const& after, int n) {
  std::vector<Share> out;
  soci::rowset<soci::row> rows = (sql.prepare << list_shares_sql, use(id), use(after), use(n));
  for (auto const& row : rows) {
    namespace s = core::sql;
    out.push_back({s::get_text(row, 0), role_from_string(s::get_text(row, 1)), s::get_int(row, 2)});
  }
  return out;
}

Share upsert_share(soci::session& sql, Document const& d, std::string const& user, Role role, long long now) {
  const std::string role_text(to_string(role));
  std::string existing;
  long long created = 0;
  sql << find_share_sql, use(d.id), use(user), into(existing), into(created);
  if (sql.got_data()) {
    core::execute(sql, update_share_sql, role_text, d.id, user);
    return {user, role, created};
  }
  const std::string key = title_key(d.title);
  core::execute(sql, insert_share_sql, d.id, user, role_text, now, d.updated_at, key);
  return {user, role, now};
}

bool delete_share(soci::session& sql, std::string const& id, std::string const& user) {
  return core::execute(sql, delete_share_sql, id, user) == 1;
}

std::vector<Comment> list_comments(soci::session& sql, std::string const& id, std::string const& after,
                                   int n) {
  std::vector<Comment> out;
  soci::rowset<soci::row> rows = (sql.prepare << list_comments_sql, use(id), use(after), use(n));
  for (auto const& row : rows) {
    namespace s = core::sql;
    out.push_back({s::get_text(row, 0), id, s::get_text(row, 1), s::get_text(row, 2), s::get_int(row, 3)});
  }
  return out;
}

void insert_comment(soci::session& sql, Comment const& c) {
  core::execute(sql, insert_comment_sql, c.id, c.document_id, c.author_id, c.body, c.created_at);
}

std::optional<Comment> find_comment(soci::session& sql, std::string const& document, std::string const& id) {
  Comment c{id, document, {}, {}, 0};
  sql << find_comment_sql, use(id), use(document), into(c.author_id), into(c.body), into(c.created_at);
  if (!sql.got_data()) return std::nullopt;
  return c;
}

void delete_comment(soci::session& sql, std::string const& id) {
  core::execute(sql, delete_comment_sql, id);
}

std::vector<Trashed> list_trash(soci::session& sql, std::string const& owner, std::optional<long long> key,
                                std::string const& after, int n) {
  std::vector<Trashed> out;
  const long long k = key.value_or(no_key_high);
  soci::rowset<soci::row> rows = (sql.prepare << list_trash_sql, use(owner), use(k), use(after), use(n));
  for (auto const& row : rows) {
    namespace s = core::sql;
    out.push_back({s::get_text(row, 0), s::get_text(row, 1), s::get_int(row, 2)});
  }
  return out;
}

std::optional<Document> find_trashed(soci::session& sql, std::string const& id, std::string const& owner) {
  Document d;
  sql << find_trashed_sql, use(id), use(owner), into(d.title), into(d.content), into(d.tags), into(d.version),
      into(d.created_at), into(d.updated_at);
  if (!sql.got_data()) return std::nullopt;
  d.id = id;
  d.owner_id = owner;
  d.role = Role::owner;
  return d;
}

std::vector<Expired> expired_trash(soci::session& sql, long long cutoff, int n) {
  std::vector<Expired> out;
  soci::rowset<soci::row> rows = (sql.prepare << expired_trash_sql, use(cutoff), use(n));
  for (auto const& row : rows) out.push_back({core::sql::get_text(row, 0), core::sql::get_text(row, 1)});
  return out;
}

}  // namespace bookspace::documents
