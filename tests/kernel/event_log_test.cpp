#include "core/event_log.hpp"
#include "core/database.hpp"
#include "core/ids.hpp"
#include "core/migrations.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>
#include <bookspace/migrations/kernel.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace bookspace;
using testing::TestDatabase;

namespace {

/// A database with the kernel schema, an event log and io threads: one "process".
struct Node {
  explicit Node(std::string const& url, core::Clock const& clock, int poll_ms = 50)
      : db(options(url), log), ids(clock), events(db, clock, ids, log, event_options(poll_ms)) {
    auto plan = core::plan_migrations({{"kernel", migrations::kernel()}}, db.dialect());
    db.run_blocking([&](soci::session& sql) { core::apply_migrations(sql, db.dialect(), plan, clock, log); });
  }
  ~Node() { stop(); }

  static core::DatabaseOptions options(std::string const& url) {
    core::DatabaseOptions o;
    o.url = url;
    o.pool_size = 2;
    return o;
  }
  static core::EventLogOptions event_options(int poll_ms) {
    core::EventLogOptions o;
    o.poll_interval_ms = poll_ms;
    o.idle_advance_ms = 200;
    o.max_backoff_ms = 200;
    o.prune_interval_ms = 3'600'000;
    return o;
  }

  void start() {
    events.start(io);
    thread = std::thread([this] { io.run(); });
  }
  void stop() {
    if (!thread.joinable()) return;
    events.stop();
    work.reset();
    io.stop();
    thread.join();
    db.stop();
  }

  void publish(std::string const& aggregate, bool commit = true, std::string_view type = "test.happened.v1") {
    try {
      db.run_blocking([&](soci::session& sql) {
        core::run_transaction(sql, db.dialect(), [&](core::Tx& tx) {
          events.publish(tx, type, aggregate, {{"n", aggregate}});
          if (!commit) throw std::runtime_error("roll back");
        });
      });
    } catch (std::runtime_error const&) {
      CHECK_FALSE(commit);
    }
  }

  boost::asio::io_context io;  // first: it must outlive the event log's timers
  core::Logger log{core::LogLevel::off};
  core::Database db;
  core::RandomIdGenerator ids;
  core::EventLog events;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
};

struct Seen {
  std::mutex mutex;
  std::vector<std::string> aggregates;
  std::set<std::string> ids;
  void add(core::Event const& e) {
    std::lock_guard lock(mutex);
    aggregates.push_back(e.aggregate_id);
    ids.insert(e.id);
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return aggregates.size();
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex);
    return aggregates;
  }
};

}  // namespace

TEST_CASE("committed events reach consumers in order; rolled-back ones never do") {
  TestDatabase tdb;
  // Declared before the nodes: destroyed after them, so no consumer can outlive them.
  Seen seen;
  core::SystemClock clock;
  Node node(tdb.url(), clock, 60'000);  // no polling: delivery must come from the commit wake-up
  node.events.subscribe("test.consumer", {}, [&](core::Tx&, core::Event const& e) { seen.add(e); });
  node.start();
  node.publish("a");
  node.publish("rolled-back", false);
  node.publish("b");
  node.publish("c");
  REQUIRE(testing::eventually([&] { return seen.size() >= 3; }, std::chrono::milliseconds(3000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(seen.all() == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("a consumer of some types sees only those, and its stored offset passes the others") {
  TestDatabase tdb;
  Seen seen, watched;
  core::SystemClock clock;
  Node node(tdb.url(), clock, 60'000);  // no polling: commit wake-ups and the idle advance only
  node.events.subscribe("test.typed", {"test.wanted.v1", "test.also.v1"},
                        [&](core::Tx&, core::Event const& e) { seen.add(e); });
  node.events.watch("test.typed_watch", {"test.also.v1"}, [&](core::Event const& e) { watched.add(e); });
  node.start();
  node.publish("w1", true, "test.wanted.v1");
  for (int i = 0; i < 5; ++i) node.publish("other" + std::to_string(i), true, "test.other.v1");
  node.publish("a1", true, "test.also.v1");
  node.publish("w2", true, "test.wanted.v1");
  REQUIRE(testing::eventually([&] { return seen.size() >= 3 && watched.size() >= 1; }));
  node.publish("other-last", true, "test.other.v1");  // wakes nobody; passed by the idle advance
  auto stored = [&] {
    return node.db.run_blocking([&](soci::session& sql) {
      long long seq = 0, head = 0;
      sql << "SELECT seq FROM event_offsets WHERE consumer = 'test.typed'", soci::into(seq);
      sql << "SELECT MAX(seq) FROM events", soci::into(head);
      return std::pair{seq, head};
    });
  };
  CHECK(testing::eventually([&] { return stored().first == stored().second; },
                            std::chrono::milliseconds(5000)));
  CHECK(seen.all() == std::vector<std::string>{"w1", "a1", "w2"});
  CHECK(watched.all() == std::vector<std::string>{"a1"});
}

TEST_CASE("a consumer resumes from its stored offset after a restart") {
  TestDatabase tdb;
  core::SystemClock clock;
  {
    Seen seen;  // before the node: destroyed after it
    Node node(tdb.url(), clock);
    node.events.subscribe("test.consumer", {}, [&](core::Tx&, core::Event const& e) { seen.add(e); });
    node.start();
    node.publish("one");
    REQUIRE(testing::eventually([&] { return seen.size() == 1; }));
    node.stop();
  }
  Seen seen;
  Node node(tdb.url(), clock);
  node.events.subscribe("test.consumer", {}, [&](core::Tx&, core::Event const& e) { seen.add(e); });
  node.publish("two");  // published while the consumer was not running
  node.start();
  REQUIRE(testing::eventually([&] { return seen.size() >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(seen.all() == std::vector<std::string>{"two"});
}

TEST_CASE("a failing handler is retried with backoff and its batch is not lost") {
  TestDatabase tdb;
  // Declared before the nodes: destroyed after them, so no consumer can outlive them.
  Seen seen;
  std::atomic<int> failures{0};
  core::SystemClock clock;
  Node node(tdb.url(), clock);
  node.events.subscribe("test.flaky", {}, [&](core::Tx& tx, core::Event const& e) {
    if (e.aggregate_id == "bad" && failures.fetch_add(1) < 3) throw std::runtime_error("not yet");
    long long seq = e.seq;
    tx.sql << "SELECT :s", soci::use(seq);  // handlers may use the transaction
    seen.add(e);
  });
  node.start();
  node.publish("good");
  node.publish("bad");
  node.publish("after");
  // A rolled-back batch redelivers "good" (at least once), so wait for "after" itself.
  auto has_after = [&] {
    auto all = seen.all();
    return std::find(all.begin(), all.end(), "after") != all.end();
  };
  REQUIRE(testing::eventually(has_after));
  CHECK(failures >= 4);
  CHECK(node.events.failures_total() >= 3);
  auto all = seen.all();
  CHECK(all.back() == "after");
  CHECK(std::count(all.begin(), all.end(), "bad") == 1);  // the failing one: seen once it succeeded
  // The handler runs before its offset commits: wait for the consumer to settle.
  auto settled = [&] {
    auto status = node.db.run_blocking([&](soci::session& sql) { return node.events.status(sql); });
    return status.size() == 1 && status[0].lag == 0 && status[0].failures == 0;
  };
  CHECK(testing::eventually(settled));
}

TEST_CASE("a consumer in a second process receives the first process's events") {
  TestDatabase tdb;
  // Declared before the nodes: destroyed after them, so no consumer can outlive them.
  Seen seen;
  core::SystemClock clock;
  Node publisher(tdb.url(), clock);
  Node consumer(tdb.url(), clock);
  consumer.events.subscribe("test.remote", {}, [&](core::Tx&, core::Event const& e) { seen.add(e); });
  publisher.start();
  consumer.start();
  for (int i = 0; i < 20; ++i) publisher.publish("e" + std::to_string(i));
  REQUIRE(testing::eventually([&] { return seen.size() >= 20; }));
  CHECK(seen.size() == 20);
  CHECK(seen.all().front() == "e0");
  CHECK(seen.all().back() == "e19");
}

TEST_CASE("two instances of one consumer share the work once in effect") {
  TestDatabase tdb;
  core::SystemClock clock;
  Node a(tdb.url(), clock), b(tdb.url(), clock);
  a.db.run_blocking([&](soci::session& sql) {
    core::exec_script(sql, a.db.dialect(), "CREATE TABLE test_seen (id TEXT PRIMARY KEY)");
  });
  // The handler writes in the consumer's transaction; a duplicate delivery would violate the key.
  auto handler = [](core::Tx& tx, core::Event const& e) {
    std::string id = e.id;
    tx.sql << "INSERT INTO test_seen (id) VALUES (:id)", soci::use(id);
  };
  a.events.subscribe("test.shared", {}, handler);
  b.events.subscribe("test.shared", {}, handler);
  a.start();
  b.start();
  for (int i = 0; i < 30; ++i) (i % 2 ? a : b).publish("x" + std::to_string(i));
  auto done = [&] {
    auto status = a.db.run_blocking([&](soci::session& sql) { return a.events.status(sql); });
    for (auto const& s : status) {
      if (s.consumer == "test.shared") return s.lag == 0 && s.failures == 0;
    }
    return false;
  };
  REQUIRE(testing::eventually(done));
  int rows = 0;
  a.db.run_blocking([&](soci::session& sql) { sql << "SELECT COUNT(*) FROM test_seen", soci::into(rows); });
  CHECK(rows == 30);
  CHECK(a.events.failures_total() + b.events.failures_total() == 0);
}

TEST_CASE("pruning keeps what a consumer has not processed and what is within retention") {
  TestDatabase tdb;
  // Declared before the nodes: destroyed after them, so no consumer can outlive them.
  Seen seen;
  core::ManualClock clock(1'000'000'000'000);
  Node node(tdb.url(), clock);
  node.events.subscribe("test.consumer", {}, [&](core::Tx&, core::Event const& e) { seen.add(e); });
  node.start();
  node.publish("old");
  REQUIRE(testing::eventually([&] { return seen.size() == 1; }));
  node.stop();
  clock.advance(200LL * 3'600'000);  // beyond the 168 h retention
  Node later(tdb.url(), clock);      // no consumer running: "unseen" stays unprocessed
  later.publish("recent");
  auto pruned = later.db.run_blocking([&](soci::session& sql) { return later.events.prune(sql); });
  CHECK(pruned == 1);  // "old": processed and expired. "recent": within retention.
  int left = 0;
  later.db.run_blocking([&](soci::session& sql) { sql << "SELECT COUNT(*) FROM events", soci::into(left); });
  CHECK(left == 1);
}

TEST_CASE("a watch tails the log from its start, across processes, without an offset row") {
  TestDatabase tdb;
  // Declared before the nodes: destroyed after them, so no consumer can outlive them.
  Seen seen;
  std::atomic<int> failures{0};
  core::SystemClock clock;
  Node publisher(tdb.url(), clock);
  publisher.start();
  publisher.publish("before");  // committed before the watcher starts: not seen
  Node watcher(tdb.url(), clock);
  watcher.events.watch("test.cache", {}, [&](core::Event const& e) {
    if (e.aggregate_id == "flaky" && failures.fetch_add(1) == 0) throw std::runtime_error("once");
    seen.add(e);
  });
  watcher.start();
  publisher.publish("one");
  publisher.publish("flaky");
  publisher.publish("two");
  REQUIRE(testing::eventually([&] { return seen.size() >= 3; }));
  CHECK(seen.all() == std::vector<std::string>{"one", "flaky", "two"});
  auto status = watcher.db.run_blocking([&](soci::session& sql) { return watcher.events.status(sql); });
  for (auto const& s : status) CHECK(s.consumer != "test.cache");
}

TEST_CASE("a watch with a replay point first hands over the events since then, within start()") {
  TestDatabase tdb;
  Seen seen;
  core::ManualClock clock(1'000'000);
  Node publisher(tdb.url(), clock);
  publisher.publish("too old");
  clock.advance(5'000);
  publisher.publish("recent", true, "test.revoked.v1");
  publisher.publish("recent, other type");
  publisher.publish("recent, rolled back", false, "test.revoked.v1");
  Node watcher(tdb.url(), clock);
  watcher.events.watch(
      "test.replay", {"test.revoked.v1"}, [&](core::Event const& e) { seen.add(e); }, clock.now_ms() - 1'000);
  watcher.start();
  CHECK(seen.all() == std::vector<std::string>{"recent"});  // no waiting: start() delivered it
  publisher.publish("later", true, "test.revoked.v1");
  REQUIRE(testing::eventually([&] { return seen.size() >= 2; }));
  CHECK(seen.all() == std::vector<std::string>{"recent", "later"});
}

TEST_CASE("an idle watch reads nothing while idle, then tails from where the log is") {
  TestDatabase tdb;
  Seen seen;
  std::atomic<bool> idle{true};
  core::SystemClock clock;
  Node node(tdb.url(), clock);
  node.events.watch(
      "test.live", {}, [&](core::Event const& e) { seen.add(e); }, [&] { return idle.load(); });
  node.start();
  node.publish("local, while idle");  // skipped by the committed seq, without a read
  Node other(tdb.url(), clock);
  other.start();
  other.publish("elsewhere, while idle");  // skipped by a poll's head read
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(seen.size() == 0);
  idle = false;
  node.publish("after");
  REQUIRE(testing::eventually([&] { return seen.size() >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(seen.all() == std::vector<std::string>{"after"});
}

TEST_CASE("a gathering consumer takes what came in its window as one batch, between begin and end") {
  TestDatabase tdb;
  std::mutex mutex;
  std::vector<std::string> calls;
  auto note = [&](std::string what) {
    std::lock_guard lock(mutex);
    calls.push_back(std::move(what));
  };
  auto count = [&](std::string const& what) {
    std::lock_guard lock(mutex);
    return std::count(calls.begin(), calls.end(), what);
  };
  std::atomic<int> failures{0};
  core::SystemClock clock;
  Node node(tdb.url(), clock, 60'000);  // no polling: each round follows a commit's wake-up
  node.events.subscribe("test.gather", {},
                        [&](core::Tx&, core::Event const& e) {
                          if (e.aggregate_id == "flaky" && failures.fetch_add(1) == 0)
                            throw std::runtime_error("once");
                          note(e.aggregate_id);
                        },
                        {.gather = std::chrono::milliseconds(1000),
                         .begin = [&](core::Tx&) { note("begin"); },
                         .end = [&](core::Tx&) { note("end"); }});
  node.start();
  // Let start-up wake-ups pass (PostgreSQL: the listener's first connection wakes everyone), so
  // that the first commit below is what opens the window.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  node.publish("a");
  node.publish("b");
  node.publish("c");
  REQUIRE(testing::eventually([&] { return count("c") == 1; }, std::chrono::milliseconds(5000)));
  {
    std::lock_guard lock(mutex);
    CHECK(calls == std::vector<std::string>{"begin", "a", "b", "c", "end"});
  }
  // A failing batch still ends (its transaction is rolled back), and the retry is whole.
  node.publish("flaky");
  REQUIRE(testing::eventually([&] { return count("flaky") == 1; }, std::chrono::milliseconds(5000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(count("begin") == count("end"));
  CHECK(count("begin") >= 3);
}
