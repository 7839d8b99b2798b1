#pragma once

// The search index behind one interface, two engines chosen by the database: SQLite FTS5
// (index_sqlite.cpp) and PostgreSQL tsvector/GIN (index_postgres.cpp). Every statement on
// search_* lives in these two files. Writes run in the consumer's transaction (core::Tx), so
// the event offset moves with them; reads on a request's connection.

#include "query.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class row;
class session;
class statement;
}  // namespace soci
namespace bookspace::core {
class Tx;
enum class Dialect;
}  // namespace bookspace::core

namespace bookspace::search {

enum class Kind { document, file };
std::string_view to_string(Kind kind);

/// What is indexed of a document or a file. Who may find it: anyone reading `scope_id`'s
/// document (search_readers), plus `always_user` (a file's owner); a document has no
/// `always_user` — its owner is one of its readers while it is live. The engines index those
/// users as reader tokens beside the text (reader_token()), so a query intersects the caller's
/// token with the words inside the engine instead of joining every match with a reader table.
struct Entry {
  Kind kind = Kind::document;
  std::string id;
  std::optional<std::string> always_user;
  std::optional<std::string> scope_id;
  std::string title, tags, body;
  long long updated_at = 0;
  long long marked_at = 0;  ///< when written (ms): reindex sweeps what is older than its start
  bool keep_body = false;   ///< keep the body already indexed (a file's text) instead of `body`
};

struct Hit {
  Kind kind = Kind::document;
  std::string id, title;
  std::string snippet;  ///< raw, hits between \x01 and \x02 (mark_snippet makes it HTML)
  double score = 0;
  long long updated_at = 0;
};

/// A page position: after (score, id) in the order score descending, id ascending.
struct After {
  double score = 0;
  std::string id;
};

struct Search {
  Query query;
  std::string user;
  std::optional<Kind> kind;  ///< nullopt: all
  std::optional<After> after;
  int limit = 20;  ///< rows asked for (the caller asks one more than it shows)
};

class SearchIndex {
 public:
  virtual ~SearchIndex() = default;
  /// Inserts or replaces the entry (kind, id), readable by its scope's readers as they stand
  /// (set_readers() first when they change too).
  virtual void upsert(core::Tx& tx, Entry const& e) = 0;
  /// Sets a file's text if the file is indexed; false when it is not.
  virtual bool set_body(core::Tx& tx, std::string const& file_id, std::string const& body) = 0;
  virtual void remove(core::Tx& tx, Kind kind, std::string const& id) = 0;
  /// Who may read the document (and what is attached to it) from now on: search_readers, and
  /// when that changed, the reader tokens of every entry in the document's scope.
  void set_readers(core::Tx& tx, std::string const& document_id, std::vector<std::string> const& readers);
  virtual std::vector<Hit> search(soci::session& sql, Search const& s) = 0;
  /// Whether the entry exists with a non-empty body.
  virtual bool has_body(soci::session& sql, Kind kind, std::string const& id) = 0;
  /// Removes the entries written before `before` (ms) and readers of documents no longer
  /// indexed; returns how many entries went.
  virtual std::int64_t sweep(core::Tx& tx, long long before) = 0;
  /// Entries indexed (metrics): the same statement on both engines.
  std::int64_t size(soci::session& sql);
  /// Bytes the index takes on disk, its tables and indexes (metrics; reads every page on
  /// SQLite, so it runs seldom).
  virtual std::int64_t disk_bytes(soci::session& sql) = 0;
  /// Around a batch of the indexer (one transaction): the engine may hold writes back until
  /// end_batch() — SQLite's FTS5 writes a segment at every savepoint, and each upsert opens
  /// one, so its text writes wait for the batch's end and go in as one segment. end_batch() is
  /// also called when the batch failed (its writes are then rolled back with it).
  virtual void begin_batch(core::Tx&) {}
  virtual void end_batch(core::Tx&) {}

 protected:
  /// Replaces the reader tokens of one entry (its text stays).
  virtual void write_readers(core::Tx& tx, long long entry, std::vector<std::string> const& tokens) = 0;
};

std::unique_ptr<SearchIndex> sqlite_index();
std::unique_ptr<SearchIndex> postgres_index();

/// The keyset part of a ranked page's parameters, bound after the engine's own (its query and
/// permission filter), in this order: the kind when filtered, the cursor's score twice and its
/// id after a cursor, then the limit. The score goes as text with `score_digits` significant
/// digits, which the statement casts back to the very value (SQLite's double: 17; PostgreSQL's
/// float4: 9).
struct PageParams {
  std::string want_kind, after_score, after_id;
  int limit = 0;
  void set(Search const& s, int score_digits);
  void bind(soci::statement& st, bool kind, bool after);
};
/// The token standing for `user` among an entry's readers: `r` and the id's letters and digits,
/// lower-case (a UUID's 32 hex digits) — one word to both engines' tokenizers, and the
/// migrations build the same from SQL.
std::string reader_token(std::string_view user);
/// The reader tokens of an entry: the readers of `scope` (search_readers) and `always_user`.
std::vector<std::string> reader_tokens(soci::session& sql, std::optional<std::string> const& scope,
                                       std::optional<std::string> const& always_user);
/// "1,2,3" of entry keys, for an IN list (integers only: no user text).
std::string id_list(std::vector<long long> const& entries);

/// A numeric column as a double, whatever type the backend reports for it (SQLite types
/// expressions by their value).
double double_of(soci::row const& row, std::size_t column);

/// `raw` (hits between \x01 and \x02) as HTML: text escaped, hits in <mark>…</mark>.
std::string mark_snippet(std::string_view raw);
/// Control characters \x01 and \x02 mark hits in snippets: indexed text never holds them.
std::string indexable(std::string_view text);

}  // namespace bookspace::search
