#include "app/module.hpp"
#include "core/async.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "http/rate_limiter.hpp"

#include <doctest/doctest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <set>
#include <thread>

using namespace bookspace;

TEST_CASE("RFC 3339 times round-trip with milliseconds") {
  CHECK(core::format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(core::format_rfc3339(1795341600123) == "2026-11-22T10:00:00.123Z");
  CHECK(core::parse_rfc3339("2026-11-22T10:00:00.123Z") == 1795341600123);
  CHECK(core::parse_rfc3339("2026-11-22T11:00:00+01:00") == 1795341600000);
  CHECK(core::parse_rfc3339("2026-11-22T10:00:00Z") == 1795341600000);
  CHECK_FALSE(core::parse_rfc3339("2026-11-22 10:00:00Z"));
  CHECK_FALSE(core::parse_rfc3339("2026-13-22T10:00:00Z"));
  CHECK_FALSE(core::parse_rfc3339("2026-11-22T10:00:00"));
  CHECK_FALSE(core::parse_rfc3339("2026-11-22T10:00:00.Z"));
  CHECK_FALSE(core::parse_rfc3339("garbage"));
  // Days that do not exist in their month.
  CHECK_FALSE(core::parse_rfc3339("2026-02-30T10:00:00Z"));
  CHECK_FALSE(core::parse_rfc3339("2026-02-29T10:00:00Z"));
  CHECK_FALSE(core::parse_rfc3339("2026-04-31T10:00:00Z"));
  CHECK_FALSE(core::parse_rfc3339("1900-02-29T10:00:00Z"));
  CHECK(core::parse_rfc3339("2028-02-29T10:00:00Z"));
  CHECK(core::parse_rfc3339("2000-02-29T10:00:00Z"));
  CHECK(core::parse_rfc3339("2026-12-31T23:59:59Z"));
}

TEST_CASE("UUIDv7 ids are well-formed, versioned and increase") {
  core::ManualClock clock(1795341600000);
  core::RandomIdGenerator ids(clock);
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    std::string id = ids.uuid_v7();
    REQUIRE(core::looks_like_uuid(id));
    CHECK(id[14] == '7');
    CHECK((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
    CHECK(id > prev);
    prev = id;
    seen.insert(id);
    if (i % 1000 == 0) clock.advance(1);
  }
  CHECK(seen.size() == 5000);
  CHECK(ids.uuid_v7().substr(0, 8) == "01a202b2");  // the timestamp leads
}

TEST_CASE("request ids: a process prefix, then a counter in at least ten hex digits") {
  core::RequestIdGenerator ids;
  const std::string first = ids.next(), second = ids.next();
  REQUIRE(first.size() == 12 + 1 + 10);
  CHECK(first.substr(0, 13) == second.substr(0, 13));
  CHECK(first.substr(12) == "-0000000000");
  CHECK(second.substr(12) == "-0000000001");
  for (int i = 2; i < 300; ++i) (void)ids.next();
  CHECK(ids.next().substr(12) == "-000000012c");
}

TEST_CASE("token buckets allow a burst, refuse, then refill") {
  http::RateLimiter limiter;
  http::RateLimitPolicy policy{"login", 60, 3};  // one per second, burst of three
  auto t0 = http::RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) CHECK(limiter.take(policy, "1.2.3.4", t0).allowed);
  auto refused = limiter.take(policy, "1.2.3.4", t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_s == 1);
  CHECK(refused.remaining == 0);
  CHECK(limiter.take(policy, "5.6.7.8", t0).allowed);  // other keys have their own bucket
  CHECK(limiter.take(policy, "1.2.3.4", t0 + std::chrono::milliseconds(1100)).allowed);
  CHECK_FALSE(limiter.take(policy, "1.2.3.4", t0 + std::chrono::milliseconds(1200)).allowed);
}

TEST_CASE("the rate limiter's memory is bounded") {
  http::RateLimiter limiter(100);
  http::RateLimitPolicy policy{"p", 60, 5};
  auto t0 = http::RateLimiter::Clock::now();
  for (int i = 0; i < 1000; ++i) limiter.take(policy, "k" + std::to_string(i), t0);
  CHECK(limiter.size() <= 100);
}

TEST_CASE("module resolution: unknown names, missing dependencies, order") {
  std::vector<app::ModuleDescriptor> all = {
      {.name = "documents", .depends_on = {"auth"}},
      {.name = "auth"},
      {.name = "users", .depends_on = {"auth"}},
  };
  auto names = [](std::vector<app::ModuleDescriptor const*> const& v) {
    std::string out;
    for (auto const* d : v) out += std::string(d->name) + " ";
    return out;
  };
  CHECK(names(app::resolve_modules(all, {}, {})) == "auth documents users ");
  CHECK(names(app::resolve_modules(all, {"auth", "users"}, {})) == "auth users ");
  CHECK(names(app::resolve_modules(all, {}, {"documents", "users"})) == "auth ");
  CHECK_THROWS_WITH_AS(app::resolve_modules(all, {"nope"}, {}),
                       "unknown module 'nope'; valid modules: documents, auth, users", app::ModuleError);
  CHECK_THROWS_WITH_AS(app::resolve_modules(all, {"documents"}, {}),
                       "module 'documents' needs module 'auth', which is not enabled", app::ModuleError);
  CHECK_THROWS_AS(app::resolve_modules(all, {}, {"auth"}), app::ModuleError);
}

TEST_CASE("module resolution: a used module comes first when enabled and is never required") {
  std::vector<app::ModuleDescriptor> all = {
      {.name = "files", .uses = {"jobs"}},
      {.name = "jobs"},
  };
  auto names = [](std::vector<app::ModuleDescriptor const*> const& v) {
    std::string out;
    for (auto const* d : v) out += std::string(d->name) + " ";
    return out;
  };
  CHECK(names(app::resolve_modules(all, {}, {})) == "jobs files ");
  CHECK(names(app::resolve_modules(all, {"files"}, {})) == "files ");
}

TEST_CASE("module resolution: a missing dependency with a configured stand-in") {
  auto stand_in = [](app::ModuleContext&) -> std::unique_ptr<app::Module> { return nullptr; };
  std::vector<app::ModuleDescriptor> all = {
      {.name = "auth", .stand_in = +stand_in, .stand_in_key = "auth.remote"},
      {.name = "documents", .depends_on = {"auth"}},
      {.name = "files", .depends_on = {"auth", "documents"}},
  };
  app::ConfigSchema schema;
  schema.add({"auth.remote", app::ConfigType::string, "", ""});
  auto config = app::Config::defaults(schema);
  std::vector<app::ModuleDescriptor const*> stand_ins;
  // Not configured: the error names the key that would bring the stand-in.
  CHECK_THROWS_WITH_AS(app::resolve_modules(all, {"documents"}, {}, &config, &stand_ins),
                       "module 'documents' needs module 'auth', which is not enabled; enable it, or set "
                       "auth.remote to reach the process that runs it",
                       app::ModuleError);
  config.set("auth.remote", "http://a:8080");
  auto enabled = app::resolve_modules(all, {"documents", "files"}, {}, &config, &stand_ins);
  REQUIRE(enabled.size() == 2);
  CHECK(enabled[0]->name == "documents");
  CHECK(enabled[1]->name == "files");
  REQUIRE(stand_ins.size() == 1);  // once, however many modules need it
  CHECK(stand_ins[0]->name == "auth");
  // A module without a stand-in is still required.
  CHECK_THROWS_AS(app::resolve_modules(all, {"files"}, {}, &config, &stand_ins), app::ModuleError);
  // Enabled, the module itself runs and no stand-in is made.
  stand_ins.clear();
  CHECK(app::resolve_modules(all, {}, {}, &config, &stand_ins).size() == 3);
  CHECK(stand_ins.empty());
}

TEST_CASE("a full worker pool sheds work with overloaded instead of queueing it") {
  core::WorkerPool pool("cpu", 1, 1);
  boost::asio::io_context io;
  std::atomic<int> ok{0}, shed{0}, retry_after{0};
  for (int i = 0; i < 4; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> core::Awaitable<void> {
          try {
            co_await core::run_in(
                pool, [](std::size_t) { std::this_thread::sleep_for(std::chrono::milliseconds(100)); });
            ++ok;
          } catch (core::ApiError const& e) {
            CHECK(e.error().code == core::ErrorCode::overloaded);
            retry_after = e.error().retry_after_s;
            ++shed;
          }
        },
        [](std::exception_ptr e) { CHECK_FALSE(e); });
  }
  io.run();
  // At most one running and one queued; whether the worker took the first task off the queue
  // before the second arrived is up to the scheduler.
  CHECK(ok >= 1);
  CHECK(ok <= 2);
  CHECK(ok + shed == 4);
  CHECK(retry_after == 1);
  CHECK(pool.rejected() == static_cast<std::uint64_t>(shed.load()));
}

TEST_CASE("errors of the pool's work are rethrown in the coroutine") {
  core::WorkerPool pool("db", 2, 10);
  boost::asio::io_context io;
  bool caught = false;
  int value = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> core::Awaitable<void> {
        value = co_await core::run_in(pool, [](std::size_t) { return 41 + 1; });
        try {
          co_await core::run_in(pool, [](std::size_t) -> int { throw std::runtime_error("boom"); });
        } catch (std::runtime_error const& e) {
          caught = std::string(e.what()) == "boom";
        }
      },
      [](std::exception_ptr) {});
  io.run();
  CHECK(value == 42);
  CHECK(caught);
}
