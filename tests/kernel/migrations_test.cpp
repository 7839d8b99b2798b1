#include "core/migrations.hpp"
#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/prepared.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include <thread>

using namespace bookspace;
using testing::TestDatabase;

namespace {

const core::MigrationFile demo_files[] = {
    {"0001_things.sql",
     "CREATE TABLE demo_things (id TEXT PRIMARY KEY); CREATE INDEX demo_things_id ON demo_things (id);"},
    {"0002_more.sql", "ALTER TABLE demo_things ADD COLUMN n INTEGER"},
    {"0002_more.postgres.sql", "ALTER TABLE demo_things ADD COLUMN n BIGINT"},
};

/// A fresh database with one open connection.
struct Scratch {
  TestDatabase db;
  core::Logger log{core::LogLevel::off};
  core::SystemClock clock;
  core::DatabaseUrl url = core::parse_database_url(db.url());
  std::unique_ptr<core::Session> sql = core::open_session(url, {});

  std::vector<core::Migration> plan(std::span<const core::MigrationFile> files) const {
    return core::plan_migrations({{"demo", files}}, url.dialect);
  }
  core::MigrationStatus apply(std::vector<core::Migration> const& plan) {
    return core::apply_migrations(*sql, url.dialect, plan, clock, log);
  }
};

int count_rows(soci::session& sql, std::string const& table) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM " + table, soci::into(n);
  return n;
}

}  // namespace

TEST_CASE("migrations apply once, in order, with the dialect's variant") {
  TestDatabase db;
  core::Logger log(core::LogLevel::off);
  core::SystemClock clock;
  auto url = core::parse_database_url(db.url());
  std::unique_ptr<core::Session> sql = core::open_session(url, {});
  auto plan = core::plan_migrations({{"demo", demo_files}}, url.dialect);
  REQUIRE(plan.size() == 2);
  CHECK(plan[1].name ==
        (url.dialect == core::Dialect::postgresql ? "0002_more.postgres.sql" : "0002_more.sql"));

  auto first = core::apply_migrations(*sql, url.dialect, plan, clock, log);
  CHECK(first.applied_now.size() == 2);
  auto second = core::apply_migrations(*sql, url.dialect, plan, clock, log);
  CHECK(second.applied_now.empty());
  CHECK(second.already_applied == 2);
  CHECK(count_rows(*sql, "schema_migrations") == 2);
  *sql << "INSERT INTO demo_things (id, n) VALUES ('a', 1)";
  CHECK(core::pending_migrations(*sql, url.dialect, plan).empty());
}

TEST_CASE("a migration changed after it was applied refuses to start") {
  Scratch s;
  s.apply(s.plan(demo_files));

  const core::MigrationFile edited[] = {
      demo_files[0],
      {"0002_more.sql", "ALTER TABLE demo_things ADD COLUMN m INTEGER"},
      {"0002_more.postgres.sql", "ALTER TABLE demo_things ADD COLUMN m BIGINT"}};
  auto changed = s.plan(edited);
  CHECK_THROWS_WITH_AS(s.apply(changed), doctest::Contains("was changed after it was applied"),
                       core::MigrationError);
  CHECK_THROWS_AS(core::pending_migrations(*s.sql, s.url.dialect, changed), core::MigrationError);
}

TEST_CASE("a failing migration rolls back entirely and says which one") {
  Scratch s;
  const core::MigrationFile broken[] = {
      {"0001_half.sql", "CREATE TABLE demo_half (id TEXT); CREATE TABLE demo_half (id TEXT);"}};
  auto plan = s.plan(broken);
  CHECK_THROWS_WITH_AS(s.apply(plan), doctest::Contains("demo/0001_half.sql failed"), core::MigrationError);
  CHECK(core::pending_migrations(*s.sql, s.url.dialect, plan).size() == 1);
  // The first CREATE TABLE was rolled back with the second.
  const core::MigrationFile fixed[] = {{"0001_half.sql", "CREATE TABLE demo_half (id TEXT);"}};
  CHECK(s.apply(s.plan(fixed)).applied_now.size() == 1);
}

TEST_CASE("concurrent instances apply each migration exactly once") {
  TestDatabase db;
  core::Logger log(core::LogLevel::off);
  core::SystemClock clock;
  auto url = core::parse_database_url(db.url());
  auto plan = core::plan_migrations({{"demo", demo_files}}, url.dialect);
  std::atomic<int> applied{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        std::unique_ptr<core::Session> sql = core::open_session(url, {});
        applied +=
            static_cast<int>(core::apply_migrations(*sql, url.dialect, plan, clock, log).applied_now.size());
      } catch (std::exception const& e) {
        MESSAGE(std::string(e.what()));
        ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  CHECK(applied == 2);
}

TEST_CASE("badly named or incomplete migration sets are refused") {
  const core::MigrationFile bad_name[] = {{"1_x.sql", ""}};
  CHECK_THROWS_AS(core::plan_migrations({{"demo", bad_name}}, core::Dialect::sqlite), core::MigrationError);
  const core::MigrationFile gap[] = {{"0001_a.sql", ""}, {"0003_c.sql", ""}};
  CHECK_THROWS_WITH_AS(core::plan_migrations({{"demo", gap}}, core::Dialect::sqlite),
                       doctest::Contains("version 2 is missing"), core::MigrationError);
  const core::MigrationFile twice[] = {{"0001_a.sql", ""}, {"0001_b.sql", ""}};
  CHECK_THROWS_AS(core::plan_migrations({{"demo", twice}}, core::Dialect::sqlite), core::MigrationError);
}

TEST_CASE("database URLs") {
  CHECK(core::parse_database_url("sqlite:///var/lib/x.db").target == "/var/lib/x.db");
  CHECK(core::parse_database_url("sqlite://var/x.db").target == "var/x.db");
  CHECK(core::parse_database_url("postgresql://u:p@h:5432/db").dialect == core::Dialect::postgresql);
  CHECK_THROWS(core::parse_database_url("mysql://h/db"));
  CHECK_THROWS(core::parse_database_url("sqlite://"));
  CHECK(core::redact_database_url("postgresql://u:p@h/db") == "postgresql://u:***@h/db");
  CHECK(core::redact_database_url("postgresql://h/db") == "postgresql://h/db");
}

TEST_CASE("postgresql URLs become libpq keyword/value strings") {
  CHECK(core::libpq_conninfo("postgresql://app:p%40ss'w@db.local:5433/books?sslmode=require") ==
        "host='db.local' port='5433' user='app' password='p@ss\\'w' dbname='books' sslmode='require' "
        "options='-c client_min_messages=warning'");
  CHECK(core::libpq_conninfo("postgres://localhost/x?options=-c%20search_path%3Dapp") ==
        "host='localhost' dbname='x' options='-c search_path=app'");
}
