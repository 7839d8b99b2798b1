#include "fts5_rank.hpp"
#include "index.hpp"

#include "core/sql.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

using namespace bookspace;
using namespace bookspace::search;

namespace {

struct Ranked {
  long long row = 0;
  double builtin = 0, ours = 0;
};

std::vector<Ranked> both(soci::session& sql, std::string const& match, std::string const& counts) {
  std::vector<Ranked> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT rowid, bm25(t, 10.0, 4.0, 1.0, 0.0), bookspace_bm25(t, 10.0, 4.0, 1.0, 0.0, " +
                          counts + ") FROM t WHERE t MATCH :q",
       soci::use(match));
  for (auto const& r : rows) out.push_back({core::sql::get_int(r, 0), double_of(r, 1), double_of(r, 2)});
  return out;
}

}  // namespace

TEST_CASE("bookspace_bm25 given the true document counts is FTS5's bm25") {
  soci::session sql(soci::sqlite3, "db=:memory:");
  CHECK_THROWS(both(sql, "x", "0"));  // not registered yet
  CHECK(missing_fts5_rank(
      "sqlite3_statement_backend::prepare: no such function: bookspace_bm25 while preparing"));
  register_fts5_rank(sql);
  sql << "CREATE VIRTUAL TABLE t USING fts5(title, tags, body, readers)";
  const std::vector<std::vector<std::string>> rows = {
      {"budget plan", "money", "the budget is tight this year", "ra rb"},
      {"holiday", "", "a budget for the holiday, budget again and budget", "ra"},
      {"notes", "budget", "nothing to see here at all, just words and more words", "rb rc rd re"},
      {"budget", "", "", "ra"},
      {"other", "", "words without the term", "ra"},
  };
  for (auto const& r : rows)
    sql << "INSERT INTO t (title, tags, body, readers) VALUES (:a, :b, :c, :d)", soci::use(r[0]),
        soci::use(r[1]), soci::use(r[2]), soci::use(r[3]);
  // "budget" is in 4 rows, "words" in 2, "ra" in 4; phrase order: readers' first.
  auto ranked = both(sql, R"(readers : "ra" AND {title tags body} : ("budget"))", "4, 4");
  REQUIRE(ranked.size() == 3);
  for (auto const& r : ranked) CHECK(r.ours == doctest::Approx(r.builtin).epsilon(1e-12));
  ranked = both(sql, R"(readers : "rb" AND {title tags body} : (("budget") NOT ("words")))", "2, 4, 2");
  REQUIRE(ranked.size() == 1);
  CHECK(ranked[0].row == 1);
  CHECK(ranked[0].ours == doctest::Approx(ranked[0].builtin).epsilon(1e-12));
  // Stale counts move scores a little, never the set of rows.
  auto stale = both(sql, R"(readers : "ra" AND {title tags body} : ("budget"))", "4, 3");
  CHECK(stale.size() == 3);
}

TEST_CASE("document counts are kept for their ttl, then counted again") {
  DocumentCounts counts(std::chrono::hours(1), 2);
  std::atomic<int> calls = 0;
  auto count = [&] { return static_cast<std::int64_t>(++calls); };
  CHECK(counts.get("\"a\"", count) == 1);
  CHECK(counts.get("\"a\"", count) == 1);  // kept
  CHECK(counts.get("\"b\"", count) == 2);
  CHECK(counts.get("\"c\"", count) == 3);  // full: emptied, then kept
  CHECK(counts.get("\"a\"", count) == 4);
  DocumentCounts fleeting(std::chrono::milliseconds(0));
  CHECK(fleeting.get("\"a\"", count) == 5);
  CHECK(fleeting.get("\"a\"", count) == 6);
}
