#pragma once

// The search query language (API.md, Search), parsed once and turned into each engine's syntax
// without user text ever reaching it unquoted. Pure; unit-tested and fuzzed.
//
//   words            all must match
//   "exact phrase"   the words in this order
//   prefix*          words starting so (at least 2 characters before the *)
//   -word, -"phrase" must not match
//
// Any other character is literal text: it is split into tokens the way the engines split
// documents (runs of letters and digits; everything else separates), so `c++`, `')--`, `OR`
// or `NEAR(` are searched as the words they contain, never as operators.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::search {

struct Term {
  std::vector<std::string> tokens;  ///< lower-case; a phrase when more than one
  bool prefix = false;              ///< the last token is a prefix
  bool excluded = false;
};

struct Query {
  std::vector<Term> terms;  ///< at least one not excluded
};

inline constexpr std::size_t max_query_bytes = 1000;
inline constexpr std::size_t max_terms = 16;

/// Parses `text`. Throws ApiError(validation_failed on `q`) for an empty query, one longer than
/// max_query_bytes, invalid UTF-8, more than max_terms terms, a prefix shorter than 2
/// characters, or only exclusions. A term whose text holds no letter or digit is dropped; a
/// query left without any positive term matches nothing (nullopt).
std::optional<Query> parse_query(std::string_view text);

/// The tokens of `text` as the query sees them: runs of letters and digits (any non-ASCII
/// character counts as a letter), ASCII lower-cased.
std::vector<std::string> tokens_of(std::string_view text);

/// An FTS5 MATCH expression: every token in double quotes (a `"` inside doubled), phrases as
/// one quoted string, prefixes as `"tok"*`, exclusions with NOT.
std::string fts5_match(Query const& q);
/// The phrases of fts5_match(q) in the order FTS5 numbers them: the terms to find, then the
/// excluded ones.
std::vector<std::string> fts5_phrases(Query const& q);

/// A PostgreSQL tsquery text for to_tsquery(): every token single-quoted (`'` doubled,
/// backslashes escaped), phrases joined with <->, prefixes as `'tok':*`, exclusions with !,
/// terms with &. `weights` (letters A–D), when given, restricts every token to lexemes of those
/// weights: `'tok':ABC`, `'tok':*ABC`.
std::string pg_tsquery(Query const& q, std::string_view weights = {});

}  // namespace bookspace::search
