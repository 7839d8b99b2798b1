// PostgreSQL: search_entries.tsv = title (weight A) || tags (B) || body (C) in the text search
// configuration bookspace_search (simple, with unaccent when the server has it), a GIN index,
// ts_rank_cd for ranking. The text given to to_tsvector is plain_words() of the stored one, so
// PostgreSQL's parser sees the query's tokens (not file names, URLs or tags as single words);
// snippets are window_snippet() of the stored text (ts_headline would drop what looks like
// markup). The body's first 300,000 characters are indexed (a tsvector holds at most 1 MB).
// Reader tokens are lexemes of weight D in the same tsvector (the text has only A–C): a query is
// `text:ABC & 'token':D`, which the GIN index answers by intersecting the caller's short posting
// list with the words' long ones; ranking takes the text query alone.
#include "index.hpp"
#include "snippet.hpp"

#include "core/database.hpp"
#include "core/prepared.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>

#include <array>

namespace bookspace::search {

namespace {

using soci::into;
using soci::use;

/// Reader tokens as a tsvector literal of weight-D lexemes (tokens are letters and digits).
std::string reader_vector(std::vector<std::string> const& tokens) {
  std::string out;
  for (auto const& t : tokens) (out += out.empty() ? "'" : " '") += t + "':1D";
  return out;
}

constexpr std::string_view upsert_sql =
    "INSERT INTO search_entries (kind, ref_id, always_user, scope_id, title, tags, body, updated_at, "
    "marked_at,"
    " tsv) VALUES (:kind, :id, :always, :scope, :title, :tags, :body, :updated, :marked,"
    " setweight(to_tsvector('bookspace_search', :t2), 'A')"
    " || setweight(to_tsvector('bookspace_search', :g2), 'B')"
    " || setweight(to_tsvector('bookspace_search', left(:b2, 300000)), 'C')"
    " || CAST(:readers AS tsvector))"
    " ON CONFLICT (kind, ref_id) DO UPDATE SET always_user = excluded.always_user,"
    " scope_id = excluded.scope_id, title = excluded.title, tags = excluded.tags, body = excluded.body,"
    " updated_at = excluded.updated_at, marked_at = excluded.marked_at, tsv = excluded.tsv";
constexpr std::string_view body_of_sql =
    "SELECT body FROM search_entries WHERE kind = :kind AND ref_id = :id";
constexpr std::string_view sweep_sql = "DELETE FROM search_entries WHERE marked_at < :before";
constexpr std::string_view orphan_readers_sql =
    "DELETE FROM search_readers r WHERE NOT EXISTS"
    " (SELECT 1 FROM search_entries e WHERE e.kind = 'document' AND e.ref_id = r.document_id)";
constexpr std::string_view body_sql =
    "UPDATE search_entries SET body = :body,"
    " tsv = setweight(to_tsvector('bookspace_search', regexp_replace(title, '[!-/:-@\\[-`{-~]', ' ', 'g')), "
    "'A')"
    " || setweight(to_tsvector('bookspace_search', regexp_replace(tags, '[!-/:-@\\[-`{-~]', ' ', 'g')), 'B')"
    " || setweight(to_tsvector('bookspace_search', left(:b2, 300000)), 'C') || ts_filter(tsv, '{d}')"
    " WHERE kind = 'file' AND ref_id = :id";
constexpr std::string_view readers_sql =
    "UPDATE search_entries SET tsv = ts_filter(tsv, '{a,b,c}') || CAST(:readers AS tsvector) WHERE entry = "
    ":entry";
constexpr std::string_view delete_sql = "DELETE FROM search_entries WHERE kind = :kind AND ref_id = :id";

struct RankedVars {
  std::string query, reader;
  PageParams page;
  std::string kind, ref_id, title, text;
  double score = 0;
  long long updated_at = 0;
};

/// The ranked page's statement for each shape (a kind filter or not, after a cursor or not):
/// stable strings, so that each is prepared once per connection.
std::string_view ranked_text(bool kind, bool after) {
  static const std::array<std::string, 4> texts = [] {
    std::array<std::string, 4> out;
    for (bool k : {false, true}) {
      for (bool a : {false, true}) {
        std::string t =
            "WITH page AS (SELECT e.entry, e.kind, e.ref_id, e.title, ts_rank_cd(e.tsv, q.query) AS score,"
            " e.updated_at FROM search_entries e, (SELECT to_tsquery('bookspace_search', :q) AS query) q"
            " WHERE e.tsv @@ (q.query && CAST(:reader AS tsquery))";
        if (k) t += " AND e.kind = :kind";
        if (a)
          t += " AND (ts_rank_cd(e.tsv, q.query) < CAST(:s1 AS real) OR (ts_rank_cd(e.tsv, q.query) ="
               " CAST(:s2 AS real) AND e.ref_id > :after))";
        t += " ORDER BY score DESC, e.ref_id LIMIT :n)"
             " SELECT p.kind, p.ref_id, p.title, p.score, p.updated_at,"
             " CASE WHEN e.body = '' THEN e.title ELSE left(e.body, 100000) END"
             " FROM page p JOIN search_entries e ON e.entry = p.entry ORDER BY p.score DESC, p.ref_id";
        out[(k ? 2 : 0) + (a ? 1 : 0)] = std::move(t);
      }
    }
    return out;
  }();
  return texts[(kind ? 2 : 0) + (after ? 1 : 0)];
}

class PgIndex final : public SearchIndex {
 public:
  void upsert(core::Tx& tx, Entry const& e) override {
    const std::string kind(to_string(e.kind));
    soci::indicator always_ind = e.always_user ? soci::i_ok : soci::i_null;
    soci::indicator scope_ind = e.scope_id ? soci::i_ok : soci::i_null;
    const std::string always = e.always_user.value_or(""), scope = e.scope_id.value_or("");
    const std::string title = indexable(e.title), tags = indexable(e.tags);
    std::string body = indexable(e.body);
    if (e.keep_body) {
      soci::indicator ind = soci::i_null;
      body.clear();
      tx.sql << body_of_sql, use(kind), use(e.id), into(body, ind);
      if (!tx.sql.got_data() || ind != soci::i_ok) body.clear();
    }
    const std::string title_words = plain_words(title), tag_words = plain_words(tags),
                      body_words = plain_words(body),
                      readers = reader_vector(reader_tokens(tx.sql, e.scope_id, e.always_user));
    tx.sql << upsert_sql, use(kind), use(e.id), use(always, always_ind), use(scope, scope_ind), use(title),
        use(tags), use(body), use(e.updated_at), use(e.marked_at), use(title_words), use(tag_words),
        use(body_words), use(readers);
  }

  bool set_body(core::Tx& tx, std::string const& file_id, std::string const& body) override {
    const std::string text = indexable(body), words = plain_words(text);
    soci::statement st = (tx.sql.prepare << body_sql, use(text), use(words), use(file_id));
    st.execute(true);
    return st.get_affected_rows() == 1;
  }

  void remove(core::Tx& tx, Kind kind, std::string const& id) override {
    const std::string k(to_string(kind));
    tx.sql << delete_sql, use(k), use(id);
  }

  /// One statement, prepared once per connection and shape (ranked_text()): the page ranked
  /// and filtered by the caller's reader lexeme inside the index scan, with its texts joined
  /// for the snippets (one round trip, no parse or plan per search).
  std::vector<Hit> search(soci::session& sql, Search const& s) override {
    auto& q = core::prepared<RankedVars>(
        sql, ranked_text(s.kind.has_value(), s.after.has_value()),
        [kind = s.kind.has_value(), after = s.after.has_value()](soci::statement& st, RankedVars& v) {
          st.exchange(into(v.kind));
          st.exchange(into(v.ref_id));
          st.exchange(into(v.title));
          st.exchange(into(v.score));
          st.exchange(into(v.updated_at));
          st.exchange(into(v.text));
          st.exchange(use(v.query));
          st.exchange(use(v.reader));
          v.page.bind(st, kind, after);
        });
    q.vars.query = pg_tsquery(s.query, "ABC");
    q.vars.reader = "'" + reader_token(s.user) + "':D";
    q.vars.page.set(s, 9);  // float4 scores: 9 digits cast back to real give the very value
    std::vector<Hit> hits;
    q.run_each([&](RankedVars const& v) {
      hits.push_back({v.kind == "file" ? Kind::file : Kind::document, v.ref_id, v.title,
                      window_snippet(v.text, s.query), v.score, v.updated_at});
    });
    return hits;
  }

  bool has_body(soci::session& sql, Kind kind, std::string const& id) override {
    const std::string k(to_string(kind));
    std::string body;
    soci::indicator ind = soci::i_null;
    sql << body_of_sql, use(k), use(id), into(body, ind);
    return sql.got_data() && ind == soci::i_ok && !body.empty();
  }

  std::int64_t sweep(core::Tx& tx, long long before) override {
    soci::statement st = (tx.sql.prepare << sweep_sql, use(before));
    st.execute(true);
    const auto removed = static_cast<std::int64_t>(st.get_affected_rows());
    tx.sql << orphan_readers_sql;
    return removed;
  }

  std::int64_t disk_bytes(soci::session& sql) override {
    long long bytes = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c"
           " WHERE c.relkind = 'r' AND c.relname IN ('search_entries', 'search_readers')"
           " AND c.relnamespace = CAST(current_schema() AS regnamespace)",
        into(bytes, ind);
    return ind == soci::i_ok ? bytes : 0;
  }

 protected:
  void write_readers(core::Tx& tx, long long entry, std::vector<std::string> const& tokens) override {
    const std::string readers = reader_vector(tokens);
    tx.sql << readers_sql, use(readers), use(entry);
  }
};

}  // namespace

std::unique_ptr<SearchIndex> postgres_index() {
  return std::make_unique<PgIndex>();
}

}  // namespace bookspace::search
