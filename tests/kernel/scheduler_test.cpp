#include "core/scheduler.hpp"
#include "core/database.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include <atomic>
#include <thread>

using namespace bookspace;
using namespace std::chrono_literals;

namespace {
struct Rig {
  testing::TestDatabase tdb;
  testing::CapturedLog log;
  core::Metrics metrics;
  core::Database db{[&] {
                      core::DatabaseOptions o;
                      o.url = tdb.url();
                      o.pool_size = 1;
                      return o;
                    }(),
                    log.logger()};
  core::Scheduler scheduler{db, log.logger(), metrics};
  ~Rig() {
    scheduler.stop();
    db.stop();
  }
  bool metric_at_least(std::string const& series, double n) const {
    const std::string text = metrics.render();
    const auto at = text.find("\nbookspace_" + series + " ");
    return at != std::string::npos && std::stod(text.substr(at + series.size() + 12)) >= n;
  }
};
}  // namespace

TEST_CASE("periodic tasks run on the scheduler's own connection, again and again, and are counted") {
  Rig rig;
  std::atomic<int> runs{0};
  rig.scheduler.every({"test.tick", 20ms, 0.1, true, [&](soci::session& sql) {
                         int one = 0;
                         sql << "SELECT 1", soci::into(one);
                         runs += one;
                       }});
  rig.scheduler.start();
  CHECK(testing::eventually([&] { return runs.load() >= 3; }));
  CHECK(rig.metric_at_least("scheduler_task_runs_total{task=\"test.tick\"}", 3));
}

TEST_CASE("a failing task is logged, counted and retried; a delayed task runs once") {
  Rig rig;
  std::atomic<int> attempts{0}, once{0};
  rig.scheduler.every({"test.flaky", 10ms, 0, true, [&](soci::session&) {
                         if (++attempts < 3) throw std::runtime_error("not yet");
                       }});
  rig.scheduler.after("test.once", 10ms, [&](soci::session&) { ++once; });
  rig.scheduler.start();
  // Retries back off 1 s, then 2 s… capped at the interval (10 ms here): quick.
  CHECK(testing::eventually([&] { return attempts.load() >= 4; }));
  CHECK(rig.metric_at_least("scheduler_task_failures_total{task=\"test.flaky\"}", 2));
  CHECK(rig.log.contains("background task failed"));
  std::this_thread::sleep_for(100ms);
  CHECK(once.load() == 1);
}

TEST_CASE("cancel waits for a running task, which sees stopping() and ends early") {
  Rig rig;
  std::atomic<bool> inside{false};
  std::atomic<int> batches{0}, after_cancel{0};
  std::atomic<bool> cancelled{false};
  auto id = rig.scheduler.every({"test.long", 10ms, 0, true, [&](soci::session&) {
                                   inside = true;
                                   for (int i = 0; i < 500 && !rig.scheduler.stopping(); ++i) {
                                     ++batches;
                                     std::this_thread::sleep_for(2ms);
                                   }
                                   if (cancelled) ++after_cancel;
                                   inside = false;
                                 }});
  rig.scheduler.start();
  REQUIRE(testing::eventually([&] { return inside.load(); }));
  rig.scheduler.cancel(id);
  cancelled = true;
  CHECK_FALSE(inside.load());   // cancel returned only after the run ended
  CHECK(batches.load() < 500);  // and the run ended early
  std::this_thread::sleep_for(100ms);
  CHECK(after_cancel.load() == 0);  // never ran again
}
