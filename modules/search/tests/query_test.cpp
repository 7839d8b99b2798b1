#include "query.hpp"
#include "index.hpp"
#include "snippet.hpp"

#include "core/error.hpp"

#include <doctest/doctest.h>

using namespace bookspace::search;
using bookspace::core::ApiError;

namespace {

Query parsed(std::string_view text) {
  auto q = parse_query(text);
  REQUIRE(q);
  return *q;
}

}  // namespace

TEST_CASE("words, phrases, prefixes and exclusions") {
  auto q = parsed(R"(Alpha "exact Phrase" pre* -gone -"not this")");
  REQUIRE(q.terms.size() == 5);
  CHECK(q.terms[0].tokens == std::vector<std::string>{"alpha"});
  CHECK(q.terms[1].tokens == std::vector<std::string>{"exact", "phrase"});
  CHECK(q.terms[2].prefix);
  CHECK(q.terms[2].tokens == std::vector<std::string>{"pre"});
  CHECK(q.terms[3].excluded);
  CHECK(q.terms[4].excluded);
  CHECK(q.terms[4].tokens.size() == 2);
  CHECK(fts5_match(q) == R"(("alpha" AND "exact phrase" AND "pre"*) NOT ("gone" OR "not this"))");
  CHECK(fts5_phrases(q) == std::vector<std::string>{R"("alpha")", R"("exact phrase")", R"("pre"*)",
                                                    R"("gone")", R"("not this")"});
  CHECK(pg_tsquery(q) == "'alpha' & ('exact' <-> 'phrase') & 'pre':* & !'gone' & !('not' <-> 'this')");
}

TEST_CASE("operators and punctuation are literal text, never syntax") {
  CHECK(fts5_match(parsed("cats OR dogs")) == R"("cats" AND "or" AND "dogs")");
  CHECK(fts5_match(parsed("NEAR(a b)")) == R"("near a" AND "b")");  // `NEAR(a` is two words, side by side
  CHECK(fts5_match(parsed("c++ ')--")) == R"("c")");                // `')--` holds no word: dropped
  CHECK(fts5_match(parsed("o'brien")) == R"("o brien")");
  CHECK(pg_tsquery(parsed("o'brien")) == "('o' <-> 'brien')");
  CHECK(pg_tsquery(parsed("o'brien pre*"), "ABC") == "('o':ABC <-> 'brien':ABC) & 'pre':*ABC");
  CHECK(fts5_match(parsed("a*b")) == R"("a b")");
  CHECK_FALSE(parse_query("\"\"\"\" ***"));  // nothing to look for: no hits, not an error
  CHECK(fts5_match(parsed("caf\xC3\xA9")) == "\"caf\xC3\xA9\"");
  CHECK(fts5_match(parsed("\"unbalanced phrase")) == R"("unbalanced phrase")");
  CHECK(fts5_match(parsed("x -")) == R"("x")");
}

TEST_CASE("queries refused with 400") {
  CHECK_THROWS_AS(parse_query(""), ApiError);
  CHECK_THROWS_AS(parse_query("   "), ApiError);
  CHECK_THROWS_AS(parse_query("-only -exclusions"), ApiError);
  CHECK_THROWS_AS(parse_query("a*"), ApiError);  // a prefix of 1 character
  CHECK_THROWS_AS(parse_query(std::string(1001, 'a')), ApiError);
  CHECK_THROWS_AS(parse_query("bad \xFF utf8"), ApiError);
  std::string many;
  for (int i = 0; i < 17; ++i) many += "w" + std::to_string(i) + " ";
  CHECK_THROWS_AS(parse_query(many), ApiError);
  CHECK(parse_query("ab*"));
}

TEST_CASE("snippets: text escaped, hits marked, markers never come from the text") {
  CHECK(mark_snippet("a <b> & \x01hit\x02 \"q\"") == "a &lt;b&gt; &amp; <mark>hit</mark> &quot;q&quot;");
  CHECK(mark_snippet("\x01open") == "<mark>open</mark>");
  CHECK(mark_snippet("close\x02 \x02") == "close ");
  CHECK(indexable("x\x01y\x02z") == "x y z");
}

TEST_CASE("our own snippets: a window around the hits, accents folded, the text kept as it is") {
  CHECK(fold("Caf\xC3\xA9 STRA\xC3\x9F"
             "E \xC5\x81\xC3\xB3"
             "d\xC5\xBA") == "cafe strase lodz");
  auto q = *parse_query("budget tight");
  CHECK(window_snippet("The <b>budget</b> is tight.", q) ==
        "The <b>\x01"
        "budget\x02</b> is \x01tight\x02.");
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "filler" + std::to_string(i) + " ";
  long_text += "the budget here ";
  for (int i = 0; i < 100; ++i) long_text += "after" + std::to_string(i) + " ";
  auto snip = window_snippet(long_text, q, 12);
  CHECK(snip.starts_with("… "));
  CHECK(snip.ends_with(" …"));
  CHECK(snip.find("\x01"
                  "budget\x02") != std::string::npos);
  CHECK(window_snippet("un caf\xC3\xA9 noir", *parse_query("cafe")) ==
        "un \x01"
        "caf\xC3\xA9\x02 noir");
  CHECK(window_snippet("prefixes prefer", *parse_query("pref*")) == "\x01prefixes\x02 \x01prefer\x02");
  CHECK(window_snippet("no hit at all", q) == "no hit at all");
  CHECK(window_snippet("", q).empty());
  CHECK(plain_words("zanzibar-map.txt <b>x</b> a@b.c caf\xC3\xA9") ==
        "zanzibar map txt  b x  b  a b c caf\xC3\xA9");
}
