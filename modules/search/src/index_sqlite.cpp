// SQLite FTS5: search_fts (title, tags, body, readers; unicode61 without diacritics; prefix
// indexes of 2 and 3 characters) keyed by search_entries.entry; bm25 with title weighted 10,
// tags 4, body 1, readers 0. A query is `readers : "<caller's token>" AND {title tags body} :
// (…)`: FTS5 walks the caller's short reader doclist and seeks into the words' long ones, so a
// common word costs what the caller can read, not what the whole index holds.
#include "fts5_rank.hpp"
#include "index.hpp"

#include "core/database.hpp"
#include "core/prepared.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>

namespace bookspace::search {

namespace {

using soci::into;
using soci::use;

constexpr std::string_view upsert_sql =
    "INSERT INTO search_entries (kind, ref_id, always_user, scope_id, title, updated_at, marked_at)"
    " VALUES (:kind, :id, :always, :scope, :title, :updated, :marked)"
    " ON CONFLICT (kind, ref_id) DO UPDATE SET always_user = excluded.always_user,"
    " scope_id = excluded.scope_id, title = excluded.title, updated_at = excluded.updated_at,"
    " marked_at = excluded.marked_at RETURNING entry";
/// How long a phrase's document count is kept for ranking (fts5_rank.hpp).
constexpr std::chrono::seconds document_count_ttl{60};
constexpr std::string_view body_of_sql = "SELECT body FROM search_fts WHERE rowid = :entry";
constexpr std::string_view stale_sql = "SELECT entry FROM search_entries WHERE marked_at < :before";
constexpr std::string_view readers_sql = "UPDATE search_fts SET readers = :readers WHERE rowid = :entry";
constexpr std::string_view orphan_readers_sql =
    "DELETE FROM search_readers WHERE document_id NOT IN"
    " (SELECT ref_id FROM search_entries WHERE kind = 'document')";
constexpr std::string_view entry_sql = "SELECT entry FROM search_entries WHERE kind = :kind AND ref_id = :id";
constexpr std::string_view fts_delete_sql = "DELETE FROM search_fts WHERE rowid = :entry";
constexpr std::string_view fts_insert_sql =
    "INSERT INTO search_fts (rowid, title, tags, body, readers) VALUES (:entry, :title, :tags, :body, "
    ":readers)";
constexpr std::string_view fts_body_sql = "UPDATE search_fts SET body = :body WHERE rowid = :entry";
constexpr std::string_view delete_sql = "DELETE FROM search_entries WHERE entry = :entry";

std::string joined(std::vector<std::string> const& tokens) {
  std::string out;
  for (auto const& t : tokens) (out += out.empty() ? "" : " ") += t;
  return out;
}

/// The user's query on the text columns only (never the readers'), for the caller's readers.
std::string readable_match(Search const& s) {
  return "readers : \"" + reader_token(s.user) + "\" AND {title tags body} : (" + fts5_match(s.query) + ")";
}

struct RankedVars {
  std::array<long long, max_terms> counts{};
  std::string match;
  PageParams page;
  long long entry = 0, updated_at = 0;
  std::string kind, ref_id, title;
  double score = 0;
};

struct SnippetVars {
  std::string match, ids;
  long long entry = 0;
  std::string snippet;
  soci::indicator indicator = soci::i_null;
};

constexpr std::string_view snippets_sql =
    "SELECT rowid, snippet(search_fts, -1, char(1), char(2), '…', 24) FROM search_fts"
    " WHERE search_fts MATCH :q AND rowid IN (SELECT value FROM json_each(:ids))";

/// The ranked statement for `phrases` query phrases, with or without a kind and a page position:
/// one text per shape, made once (prepared statements are keyed by the text's address). The
/// phrases' document counts are parameters of bookspace_bm25 (fts5_rank.hpp); the ranked rows
/// are materialised before the page's keyset condition applies to them (pushed down into the
/// join, it would meet the rank function where FTS5 has no row).
std::string_view ranked_text(std::size_t phrases, bool kind, bool after) {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    for (std::size_t n = 1; n <= max_terms; ++n) {
      for (bool k : {false, true}) {
        for (bool a : {false, true}) {
          std::string t =
              "WITH ranked AS MATERIALIZED (SELECT e.entry, e.kind, e.ref_id, e.title,"
              " -bookspace_bm25(search_fts, 10.0, 4.0, 1.0, 0.0, 0";
          for (std::size_t i = 0; i < n; ++i) t += ", :c" + std::to_string(i);
          t += ") AS score, e.updated_at FROM search_fts JOIN search_entries e ON e.entry = search_fts.rowid"
               " WHERE search_fts MATCH :q";
          if (k) t += " AND e.kind = :kind";
          t += ") SELECT entry, kind, ref_id, title, score, updated_at FROM ranked";
          if (a) t += " WHERE score < CAST(:s1 AS REAL) OR (score = CAST(:s2 AS REAL) AND ref_id > :after)";
          t += " ORDER BY score DESC, ref_id LIMIT :n";
          out.push_back(std::move(t));
        }
      }
    }
    return out;
  }();
  const std::size_t n = std::clamp<std::size_t>(phrases, 1, max_terms);
  return texts[((n - 1) * 2 + (kind ? 1 : 0)) * 2 + (after ? 1 : 0)];
}

struct EntryVars {
  std::string kind, id;
  long long entry = 0;
};

std::optional<long long> entry_of(soci::session& sql, Kind kind, std::string const& id) {
  auto& q = core::prepared<EntryVars>(sql, entry_sql, [](soci::statement& st, EntryVars& v) {
    st.exchange(use(v.kind));
    st.exchange(use(v.id));
    st.exchange(into(v.entry));
  });
  q.vars.kind = to_string(kind);
  q.vars.id = id;
  if (!q.run()) return std::nullopt;
  return q.vars.entry;
}

struct UpsertVars {
  std::string kind, id, always, scope, title;
  soci::indicator always_ind = soci::i_null, scope_ind = soci::i_null;
  long long updated_at = 0, marked_at = 0;
  long long entry = 0;
};

struct BodyVars {
  long long entry = 0;
  std::string body;
  soci::indicator ind = soci::i_null;
};

class Fts5Index final : public SearchIndex {
 public:
  void upsert(core::Tx& tx, Entry const& e) override {
    auto& up = core::prepared<UpsertVars>(tx.sql, upsert_sql, [](soci::statement& st, UpsertVars& v) {
      st.exchange(use(v.kind));
      st.exchange(use(v.id));
      st.exchange(use(v.always, v.always_ind));
      st.exchange(use(v.scope, v.scope_ind));
      st.exchange(use(v.title));
      st.exchange(use(v.updated_at));
      st.exchange(use(v.marked_at));
      st.exchange(into(v.entry));
    });
    up.vars.kind = to_string(e.kind);
    up.vars.id = e.id;
    up.vars.always = e.always_user.value_or("");
    up.vars.always_ind = e.always_user ? soci::i_ok : soci::i_null;
    up.vars.scope = e.scope_id.value_or("");
    up.vars.scope_ind = e.scope_id ? soci::i_ok : soci::i_null;
    up.vars.title = e.title;
    up.vars.updated_at = e.updated_at;
    up.vars.marked_at = e.marked_at;
    up.run();
    const long long entry = up.vars.entry;
    std::string body = indexable(e.body);
    if (e.keep_body) {
      apply_held(tx.sql);  // the body as this transaction left it
      auto& q = core::prepared<BodyVars>(tx.sql, body_of_sql, [](soci::statement& st, BodyVars& v) {
        st.exchange(use(v.entry));
        st.exchange(into(v.body, v.ind));
      });
      q.vars.entry = entry;
      const bool found = q.run() && q.vars.ind == soci::i_ok;
      body = found ? q.vars.body : std::string();
    }
    write(tx, {FtsWrite::remove, entry, {}});
    write(tx, {FtsWrite::insert,
               entry,
               {indexable(e.title), indexable(e.tags), std::move(body),
                joined(reader_tokens(tx.sql, e.scope_id, e.always_user))}});
  }

  bool set_body(core::Tx& tx, std::string const& file_id, std::string const& body) override {
    auto entry = entry_of(tx.sql, Kind::file, file_id);
    if (!entry) return false;
    write(tx, {FtsWrite::body, *entry, {indexable(body)}});
    return true;
  }

  void remove(core::Tx& tx, Kind kind, std::string const& id) override {
    auto entry = entry_of(tx.sql, kind, id);
    if (!entry) return;
    write(tx, {FtsWrite::remove, *entry, {}});
    tx.sql << delete_sql, use(*entry);
  }

  std::vector<Hit> search(soci::session& sql, Search const& s) override {
    try {
      return ranked_page(sql, s);
    } catch (soci::soci_error const& e) {
      if (!missing_fts5_rank(e.what())) throw;
    }
    register_fts5_rank(sql);  // the first search on this connection
    return ranked_page(sql, s);
  }

  bool has_body(soci::session& sql, Kind kind, std::string const& id) override {
    apply_held(sql);
    auto entry = entry_of(sql, kind, id);
    if (!entry) return false;
    std::string body;
    soci::indicator ind = soci::i_null;
    sql << body_of_sql, use(*entry), into(body, ind);
    return ind == soci::i_ok && !body.empty();
  }

  std::int64_t sweep(core::Tx& tx, long long before) override {
    std::vector<long long> stale;
    {
      soci::rowset<long long> rows = (tx.sql.prepare << stale_sql, use(before));
      for (auto e : rows) stale.push_back(e);
    }
    for (auto entry : stale) {
      write(tx, {FtsWrite::remove, entry, {}});
      tx.sql << delete_sql, use(entry);
    }
    tx.sql << orphan_readers_sql;
    return static_cast<std::int64_t>(stale.size());
  }

  std::int64_t disk_bytes(soci::session& sql) override {
    long long bytes = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT SUM(pgsize) FROM dbstat WHERE aggregate = TRUE AND name LIKE 'search\\_%' ESCAPE '\\'",
        into(bytes, ind);
    return ind == soci::i_ok ? bytes : 0;
  }

  void begin_batch(core::Tx& tx) override {
    held_.clear();
    batch_ = &tx.sql;
  }
  void end_batch(core::Tx& tx) override {
    batch_ = nullptr;
    apply(tx.sql);
  }

 protected:
  void write_readers(core::Tx& tx, long long entry, std::vector<std::string> const& tokens) override {
    write(tx, {FtsWrite::readers, entry, {joined(tokens)}});
  }

 private:
  /// One write to search_fts, held back during a batch (begin_batch()).
  struct FtsWrite {
    enum Op { remove, insert, body, readers } op;
    long long entry;
    std::vector<std::string> values;  // insert: title, tags, body, readers; body, readers: the text
  };

  void write(core::Tx& tx, FtsWrite w) {
    if (batch_.load() == &tx.sql) {
      held_.push_back(std::move(w));
      return;
    }
    run(tx.sql, w);
  }
  /// Before a read of search_fts in a batch: what the batch wrote so far.
  void apply_held(soci::session& sql) {
    if (batch_.load() == &sql) apply(sql);
  }
  void apply(soci::session& sql) {
    auto writes = std::move(held_);
    held_.clear();
    for (auto const& w : writes) run(sql, w);
  }
  static void run(soci::session& sql, FtsWrite const& w) {
    switch (w.op) {
      case FtsWrite::remove:
        core::execute(sql, fts_delete_sql, w.entry);
        break;
      case FtsWrite::insert:
        core::execute(sql, fts_insert_sql, w.entry, w.values[0], w.values[1], w.values[2], w.values[3]);
        break;
      case FtsWrite::body:
        core::execute(sql, fts_body_sql, w.values[0], w.entry);
        break;
      case FtsWrite::readers:
        core::execute(sql, readers_sql, w.values[0], w.entry);
        break;
    }
  }

  /// The connection whose batch holds writes back (the indexer's, on the writer's thread);
  /// other connections (a reindex, searches) write and read straight through.
  std::atomic<soci::session*> batch_{nullptr};
  std::vector<FtsWrite> held_;
  /// Ranked and filtered inside the query (a page of n is n readable hits); snippets only for
  /// the page, in a second statement. Both are prepared once per connection (ranked_text()).
  std::vector<Hit> ranked_page(soci::session& sql, Search const& s) {
    const auto phrases = fts5_phrases(s.query);
    auto& q =
        core::prepared<RankedVars>(sql, ranked_text(phrases.size(), s.kind.has_value(), s.after.has_value()),
                                   [n = phrases.size(), kind = s.kind.has_value(),
                                    after = s.after.has_value()](soci::statement& st, RankedVars& v) {
                                     st.exchange(into(v.entry));
                                     st.exchange(into(v.kind));
                                     st.exchange(into(v.ref_id));
                                     st.exchange(into(v.title));
                                     st.exchange(into(v.score));
                                     st.exchange(into(v.updated_at));
                                     for (std::size_t i = 0; i < n; ++i) st.exchange(use(v.counts[i]));
                                     st.exchange(use(v.match));
                                     v.page.bind(st, kind, after);
                                   });
    // Phrase 0 is the reader token (weight 0: its count does not matter), then the query's.
    for (std::size_t i = 0; i < phrases.size(); ++i) {
      q.vars.counts[i] = counts_.get(phrases[i], [&] {
        long long n = 0;
        const std::string match = "{title tags body} : " + phrases[i];
        sql << "SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH :q", use(match), into(n);
        return static_cast<std::int64_t>(n);
      });
    }
    q.vars.match = readable_match(s);
    q.vars.page.set(s, 17);
    std::vector<Hit> hits;
    std::vector<long long> entries;
    q.run_each([&](RankedVars const& v) {
      entries.push_back(v.entry);
      hits.push_back(
          {v.kind == "file" ? Kind::file : Kind::document, v.ref_id, v.title, "", v.score, v.updated_at});
    });
    if (hits.empty()) return hits;
    auto& snip = core::prepared<SnippetVars>(sql, snippets_sql, [](soci::statement& st, SnippetVars& v) {
      st.exchange(into(v.entry));
      st.exchange(into(v.snippet, v.indicator));
      st.exchange(use(v.match));
      st.exchange(use(v.ids));
    });
    snip.vars.match = "{title tags body} : (" + fts5_match(s.query) + ")";
    snip.vars.ids = "[" + id_list(entries) + "]";  // a JSON array of integers
    snip.run_each([&](SnippetVars const& v) {
      for (std::size_t i = 0; i < entries.size(); ++i)
        if (entries[i] == v.entry && v.indicator == soci::i_ok) hits[i].snippet = v.snippet;
    });
    return hits;
  }

  DocumentCounts counts_{document_count_ttl};
};

}  // namespace

std::unique_ptr<SearchIndex> sqlite_index() {
  return std::make_unique<Fts5Index>();
}

}  // namespace bookspace::search
