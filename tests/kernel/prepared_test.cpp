#include "core/prepared.hpp"
#include "core/database.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

using namespace bookspace;

namespace {
constexpr std::string_view find_sql = "SELECT text FROM prepared_demo WHERE id = :id";
struct Find {
  int id = 0;
  std::string text;
};

std::optional<std::string> find(soci::session& sql, int id) {
  auto& q = core::prepared<Find>(sql, find_sql, [](soci::statement& st, Find& v) {
    st.exchange(soci::use(v.id));
    st.exchange(soci::into(v.text));
  });
  q.vars.id = id;
  if (!q.run()) return std::nullopt;
  return q.vars.text;
}
}  // namespace

TEST_CASE("a prepared statement is made once per connection, rebound, and never holds a stale snapshot") {
  testing::TestDatabase db;
  auto url = core::parse_database_url(db.url());
  auto reader = core::open_session(url, {});
  auto writer = core::open_session(url, {});
  *writer << "CREATE TABLE prepared_demo (id INTEGER PRIMARY KEY, text VARCHAR(100))";
  *writer << "INSERT INTO prepared_demo (id, text) VALUES (1, 'one')";

  CHECK(find(*reader, 1) == "one");
  CHECK(find(*reader, 2) == std::nullopt);
  CHECK(core::statement_cache(*reader).size() == 1);  // one statement, rebound each time

  // A row committed by another connection after the first run is seen by the next one: the
  // statement released its read transaction (SQLite's WAL snapshot) when it was done.
  *writer << "INSERT INTO prepared_demo (id, text) VALUES (2, 'two')";
  CHECK(find(*reader, 2) == "two");
  *writer << "UPDATE prepared_demo SET text = 'uno' WHERE id = 1";
  CHECK(find(*reader, 1) == "uno");
  CHECK(core::statement_cache(*reader).size() == 1);
  CHECK(core::statement_cache(*writer).size() == 0);  // the cache belongs to its connection
}
