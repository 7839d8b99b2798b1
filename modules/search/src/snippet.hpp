#pragma once

// Snippets made here rather than by the engine where its own would change the text
// (PostgreSQL's ts_headline drops anything that looks like markup): a window of the text around
// the query's hits, hits between \x01 and \x02 (mark_snippet then escapes and marks).

#include "query.hpp"

#include <string>
#include <string_view>

namespace bookspace::search {

/// Lower-case ASCII letters and digits, Latin accented letters folded to their base letter
/// (é → e, ß → s); other characters unchanged. What hits are compared on.
std::string fold(std::string_view token);
/// fold() into `out` (cleared first): no allocation once `out` has grown.
void fold_into(std::string& out, std::string_view token);

/// About `words` words of `text` around the densest run of hits (positive terms; a prefix
/// term matches words starting so), "…" where it was cut; the first words when nothing
/// matches.
std::string window_snippet(std::string_view text, Query const& q, std::size_t words = 30);

/// `text` with every ASCII character other than letters, digits and white space replaced by a
/// space: the words a PostgreSQL parser then sees are the query's tokens (no file names, URLs
/// or tags read as one word).
std::string plain_words(std::string_view text);

}  // namespace bookspace::search
