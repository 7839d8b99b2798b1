#pragma once

// bookspace_bm25: FTS5's Okapi BM25 (k1 = 1.2, b = 0.75, the same formula and weights as the
// built-in bm25()), except that each phrase's document count — the "n(q)" of its IDF — comes
// from the caller instead of a scan of the phrase's whole doclist on every query:
//
//   bookspace_bm25(search_fts, <one weight per column>, <one document count per phrase>)
//
// The built-in bm25() reads every row holding a query word to count them, once per query: for
// a word in every document that is most of the query's time, and it grows with the index, not
// with what the caller may read. The counts change slowly and the IDF takes their logarithm, so
// the caller keeps them for a while (DocumentCounts).

#include "core/ttl_cache.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace soci {
class session;
}

namespace bookspace::search {

/// Registers bookspace_bm25 on this SQLite connection (again is harmless).
void register_fts5_rank(soci::session& sql);

/// Whether `what` (a database error's text) says bookspace_bm25 is not registered on the
/// connection that ran the statement.
bool missing_fts5_rank(std::string const& what);

/// Document counts of FTS5 phrases, each kept for `ttl`; at most `capacity` phrases (the table
/// is emptied when full: a count costs one query to get again).
class DocumentCounts {
 public:
  explicit DocumentCounts(std::chrono::milliseconds ttl, std::size_t capacity = 10000)
      : ttl_(ttl), kept_(capacity) {}
  /// The count for `phrase`, from `count` when absent or older than the ttl.
  std::int64_t get(std::string const& phrase, std::function<std::int64_t()> const& count);

 private:
  const std::chrono::milliseconds ttl_;
  core::TtlCache<std::int64_t> kept_;
};

}  // namespace bookspace::search
