// Fuzzes the search query parser and both engine renderings: never a crash; what it accepts
// renders into engine syntax whose every user token is quoted.
#include "query.hpp"

#include "core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace bookspace::search;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<char const*>(data), size);
  try {
    auto q = parse_query(text);
    if (!q) return 0;
    if (q->terms.empty() || q->terms.size() > max_terms) std::abort();
    bool positive = false;
    for (auto const& t : q->terms) {
      positive = positive || !t.excluded;
      for (auto const& token : t.tokens) {
        if (token.empty()) std::abort();
        for (char c : token)
          if (c == '"' || c == '\'' || c == '\\' || c == ' ' || c == '*' || c == '(' || c == ')')
            std::abort();
      }
    }
    if (!positive) std::abort();
    const auto fts = fts5_match(*q);
    const auto pg = pg_tsquery(*q, "ABC");
    if (fts.empty() || pg.empty()) std::abort();
    // One phrase per term, each in the expression (bookspace_bm25's counts follow this order).
    const auto phrases = fts5_phrases(*q);
    if (phrases.size() != q->terms.size() || phrases.size() > max_terms) std::abort();
    for (auto const& p : phrases)
      if (fts.find(p) == std::string::npos) std::abort();
  } catch (bookspace::core::ApiError const&) {
    // refused queries are fine
  }
  return 0;
}
