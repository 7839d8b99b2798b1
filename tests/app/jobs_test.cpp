// The jobs module through the real Application and its API, on SQLite and PostgreSQL, with the
// test-only job types of tests/support/probe_jobs.hpp.
#include "auth_helpers.hpp"
#include "core/database.hpp"
#include "core/metrics.hpp"
#include "probe_jobs.hpp"
#include "test_app.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/jobs/jobs.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <soci/soci.h>

#include <set>
#include <thread>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;

namespace {

std::vector<app::ModuleDescriptor> jobs_modules() {
  return {auth::auth_module(), jobs::jobs_module(), probe_jobs_module()};
}

TestApp::Tweak fast_jobs(std::function<void(app::Config&)> more = {}) {
  return generous([more](app::Config& c) {
    c.set("jobs.backoff_base_ms", 50);
    c.set("jobs.backoff_cap_ms", 200);
    c.set("jobs.poll_interval_ms", 50);
    if (more) more(c);
  });
}

struct User {
  std::string id, token;
};

User sign_up(HttpClient& c, std::string const& email) {
  auto r = register_user(c, email);
  REQUIRE(r.status == 201);
  return {std::string(r.json().at("user").at("id").as_string()), str(r, "access_token")};
}

User admin(TestApp& app, HttpClient& c, std::string const& email) {
  auto u = sign_up(c, email);
  app.execute_sql("UPDATE auth_accounts SET role = 'admin' WHERE id = '" + u.id + "'");
  auto login = c.post_json("/api/v1/auth/login", {{"email", email}, {"password", "correct horse battery"}});
  REQUIRE(login.status == 200);
  return {u.id, str(login, "access_token")};
}

HttpResponse submit(HttpClient& c, User const& u, json::object body,
                    std::map<std::string, std::string> extra = {}) {
  auto headers = bearer(u.token);
  headers.insert(extra.begin(), extra.end());
  return c.post_json("/api/v1/jobs", body, headers);
}

json::object job(HttpClient& c, User const& u, std::string const& id) {
  auto r = c.get("/api/v1/jobs/" + id, bearer(u.token));
  REQUIRE(r.status == 200);
  return r.json().as_object();
}

bool reaches(HttpClient& c, User const& u, std::string const& id, std::string_view status) {
  return eventually([&] { return job(c, u, id).at("status").as_string() == status; });
}

}  // namespace

TEST_CASE("jobs API: enqueue, run, read; ownership; admins see all; filters and cursors") {
  TestApp app(fast_jobs(), jobs_modules());
  auto c = app.client();
  auto ann = sign_up(c, "ann@example.com");
  auto bob = sign_up(c, "bob@example.com");
  auto root = admin(app, c, "root@example.com");

  auto r = submit(c, ann, {{"type", "probe.record"}, {"payload", {{"n", 1}}}});
  REQUIRE(r.status == 202);
  const std::string id = str(r, "id");
  CHECK(r.json().at("status") == "queued");
  CHECK(r.json().at("owner_id").as_string() == ann.id);
  CHECK(r.json().at("max_attempts") == 5);
  REQUIRE(reaches(c, ann, id, "succeeded"));
  auto done = job(c, ann, id);
  CHECK(done.at("result").at("recorded").as_string() == id);
  CHECK(done.at("attempts") == 1);
  CHECK(done.at("progress") == 100);
  CHECK(done.at("last_error").is_null());
  CHECK(done.at("finished_at").is_string());
  CHECK(app.query_strings("SELECT payload FROM probe_jobs_effects WHERE job_id = '" + id + "'") ==
        std::vector<std::string>{R"({"n":1})"});

  // Someone else's job does not exist for them; an admin sees it.
  CHECK(c.get("/api/v1/jobs/" + id, bearer(bob.token)).status == 404);
  CHECK(c.post_json("/api/v1/jobs/" + id + "/cancel", json::object{}, bearer(bob.token)).status == 404);
  CHECK(c.get("/api/v1/jobs/" + id, bearer(root.token)).status == 200);
  CHECK(c.get("/api/v1/jobs/nope", bearer(ann.token)).status == 404);
  CHECK(c.get("/api/v1/jobs/" + id).status == 401);

  // Lists: own jobs; admin all, or one owner's; status and type filters; keyset pages.
  for (int i = 0; i < 4; ++i) REQUIRE(submit(c, bob, {{"type", "probe.noop"}}).status == 202);
  auto later = submit(c, bob, {{"type", "probe.noop"}, {"run_at", "2999-01-01T00:00:00.000Z"}});
  REQUIRE(later.status == 202);
  CHECK(later.json().at("run_at") == "2999-01-01T00:00:00.000Z");
  auto own = c.get("/api/v1/jobs?limit=100", bearer(ann.token)).json();
  CHECK(own.at("items").as_array().size() == 1);
  auto all = c.get("/api/v1/jobs?limit=100", bearer(root.token)).json();
  CHECK(all.at("items").as_array().size() == 6);
  auto bobs = c.get("/api/v1/jobs?limit=100&owner_id=" + bob.id, bearer(root.token)).json();
  CHECK(bobs.at("items").as_array().size() == 5);
  // A member's owner_id filter cannot widen the view.
  CHECK(c.get("/api/v1/jobs?owner_id=" + bob.id, bearer(ann.token)).json().at("items").as_array().size() ==
        0);
  REQUIRE(eventually([&] {
    return c.get("/api/v1/jobs?status=succeeded", bearer(bob.token)).json().at("items").as_array().size() ==
           4;
  }));
  auto queued = c.get("/api/v1/jobs?status=queued", bearer(bob.token)).json();
  REQUIRE(queued.at("items").as_array().size() == 1);
  CHECK(queued.at("items").at(0).at("id") == later.json().at("id"));
  CHECK(c.get("/api/v1/jobs?type=probe.record", bearer(root.token)).json().at("items").as_array().size() ==
        1);
  std::set<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto p = c.get("/api/v1/jobs?limit=2" + (cursor.empty() ? std::string() : "&cursor=" + cursor),
                   bearer(bob.token));
    REQUIRE(p.status == 200);
    auto body = p.json();
    for (auto const& item : body.at("items").as_array())
      CHECK(seen.insert(std::string(item.at("id").as_string())).second);
    if (body.at("next_cursor").is_null()) break;
    cursor = std::string(body.at("next_cursor").as_string());
  }
  CHECK(seen.size() == 5);
  CHECK(c.get("/api/v1/jobs?cursor=garbage", bearer(bob.token)).status == 400);
  CHECK(c.get("/api/v1/jobs?status=done", bearer(bob.token)).status == 400);
  CHECK(c.get("/api/v1/jobs?limit=0", bearer(bob.token)).status == 400);
}

TEST_CASE("jobs API: bad input is a 400, admin-only types a 403, Idempotency-Key replays") {
  TestApp app(fast_jobs(), jobs_modules());
  auto c = app.client();
  auto ann = sign_up(c, "ann@example.com");
  auto field_of = [](HttpResponse const& r) {
    return std::string(r.json().at("errors").at(0).at("field").as_string());
  };
  auto unknown = submit(c, ann, {{"type", "nope.nothing"}});
  CHECK(unknown.status == 400);
  CHECK(field_of(unknown) == "type");
  auto not_object = submit(c, ann, {{"type", "probe.noop"}, {"payload", json::array{1, 2}}});
  CHECK(not_object.status == 400);
  CHECK(field_of(not_object) == "payload");
  CHECK(submit(c, ann, {{"type", "probe.noop"}, {"payload", "text"}}).status == 400);
  CHECK(submit(c, ann, {{"type", "probe.noop"}, {"max_attempts", 0}}).status == 400);
  CHECK(submit(c, ann, {{"type", "probe.noop"}, {"max_attempts", 1000000000}}).status == 400);
  CHECK(submit(c, ann, {{"type", "probe.noop"}, {"max_attempts", "3"}}).status == 400);
  auto bad_time = submit(c, ann, {{"type", "probe.noop"}, {"run_at", "tomorrow"}});
  CHECK(bad_time.status == 400);
  CHECK(field_of(bad_time) == "run_at");
  CHECK(submit(c, ann, {{"type", "probe.noop"}, {"id", "x"}}).status == 400);
  CHECK(submit(c, ann, {{"payload", json::object{}}}).status == 400);
  CHECK(submit(c, ann, {{"type", 7}}).status == 400);
  CHECK(c.request("POST", "/api/v1/jobs", "{",
                  {{"Authorization", "Bearer " + ann.token}, {"Content-Type", "application/json"}})
            .status == 400);
  CHECK(
      submit(c, ann, {{"type", "probe.noop"}, {"payload", {{"big", std::string(70 * 1024, 'x')}}}}).status ==
      413);
  auto admin_only = submit(c, ann, {{"type", "probe.admin"}});
  CHECK(admin_only.status == 403);
  CHECK(admin_only.json().at("code") == "forbidden");
  CHECK(app.query_strings("SELECT id FROM jobs_jobs").empty());

  auto root = admin(app, c, "root@example.com");
  CHECK(submit(c, root, {{"type", "probe.admin"}}).status == 202);

  auto first =
      submit(c, ann, {{"type", "probe.noop"}, {"payload", {{"k", 1}}}}, {{"Idempotency-Key", "job-1"}});
  REQUIRE(first.status == 202);
  auto replay =
      submit(c, ann, {{"type", "probe.noop"}, {"payload", {{"k", 1}}}}, {{"Idempotency-Key", "job-1"}});
  CHECK(replay.status == 202);
  CHECK(replay.headers["idempotent-replayed"] == "true");
  CHECK(str(replay, "id") == str(first, "id"));
  auto other =
      submit(c, ann, {{"type", "probe.noop"}, {"payload", {{"k", 2}}}}, {{"Idempotency-Key", "job-1"}});
  CHECK(other.status == 422);
  CHECK(app.query_strings("SELECT id FROM jobs_jobs WHERE type = 'probe.noop'").size() == 1);
}

TEST_CASE("an always-failing job backs off, ends failed with its history; retry queues it again") {
  TestApp app(fast_jobs(), jobs_modules());
  auto c = app.client();
  auto ann = sign_up(c, "ann@example.com");
  auto r = submit(c, ann, {{"type", "probe.fail"}});
  REQUIRE(r.status == 202);
  const std::string id = str(r, "id");
  CHECK(r.json().at("max_attempts") == 3);  // the type's default
  REQUIRE(reaches(c, ann, id, "failed"));
  auto failed = job(c, ann, id);
  CHECK(failed.at("attempts") == 3);
  CHECK(failed.at("last_error") == "probe failure");

  // The history: three attempts, each failed; every retry waited at most the backoff ceiling
  // for its attempt (full jitter: base 50 ms doubling, cap 200 ms) after the previous ended.
  auto rows = app.query_strings(
      "SELECT CAST(attempt AS TEXT) || ' ' || CAST(started_at AS TEXT) || ' ' || CAST(finished_at AS TEXT) "
      "|| ' ' "
      "|| outcome FROM jobs_attempts WHERE job_id = '" +
      id + "' ORDER BY attempt");
  REQUIRE(rows.size() == 3);
  long long previous_end = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::istringstream in(rows[i]);
    long long attempt = 0, started = 0, finished = 0;
    std::string outcome;
    in >> attempt >> started >> finished >> outcome;
    CHECK(attempt == static_cast<long long>(i + 1));
    CHECK(outcome == "failed");
    if (i > 0) {
      const long long ceiling = std::min(200LL, 50LL << (i - 1));
      CHECK(started >= previous_end);
      // The stored run_at is within the ceiling; the claim follows it (poll 50 ms, plus slack).
      CHECK(started - previous_end <= ceiling + 1000);
    }
    previous_end = finished;
  }

  // The same history through the API, in pages.
  auto page1 = c.get("/api/v1/jobs/" + id + "/attempts?limit=2", bearer(ann.token));
  REQUIRE(page1.status == 200);
  auto p1 = page1.json();
  REQUIRE(p1.at("items").as_array().size() == 2);
  CHECK(p1.at("items").at(0).at("attempt") == 1);
  CHECK(p1.at("items").at(0).at("outcome") == "failed");
  CHECK(p1.at("items").at(0).at("error") == "probe failure");
  CHECK(p1.at("items").at(0).at("worker").as_string().size() > 0);
  auto page2 = c.get(
      "/api/v1/jobs/" + id + "/attempts?limit=2&cursor=" + std::string(p1.at("next_cursor").as_string()),
      bearer(ann.token));
  CHECK(page2.json().at("items").as_array().size() == 1);
  CHECK(page2.json().at("next_cursor").is_null());
  CHECK(c.get("/api/v1/jobs/" + id + "/attempts", bearer(sign_up(c, "eve@example.com").token)).status == 404);

  auto retried = c.post_json("/api/v1/jobs/" + id + "/retry", json::object{}, bearer(ann.token));
  REQUIRE(retried.status == 200);
  CHECK(retried.json().at("status") == "queued");
  CHECK(retried.json().at("attempts") == 0);
  REQUIRE(reaches(c, ann, id, "failed"));
  CHECK(app.query_strings("SELECT attempt FROM jobs_attempts WHERE job_id = '" + id + "'").size() == 6);
  // Retry of a job that is not failed or cancelled: 409.
  auto ok = submit(c, ann, {{"type", "probe.noop"}});
  REQUIRE(reaches(c, ann, str(ok, "id"), "succeeded"));
  CHECK(c.post_json("/api/v1/jobs/" + str(ok, "id") + "/retry", json::object{}, bearer(ann.token)).status ==
        409);
}

TEST_CASE("cancel: queued at once, running when the handler checks, ended → 409; timeouts fail") {
  TestApp app(fast_jobs(), jobs_modules());
  auto c = app.client();
  auto ann = sign_up(c, "ann@example.com");
  auto later = submit(c, ann, {{"type", "probe.record"}, {"run_at", "2999-01-01T00:00:00.000Z"}});
  auto cancelled =
      c.post_json("/api/v1/jobs/" + str(later, "id") + "/cancel", json::object{}, bearer(ann.token));
  REQUIRE(cancelled.status == 200);
  CHECK(cancelled.json().at("status") == "cancelled");
  CHECK(
      c.post_json("/api/v1/jobs/" + str(later, "id") + "/cancel", json::object{}, bearer(ann.token)).status ==
      409);

  auto slow = submit(c, ann, {{"type", "probe.record"}, {"payload", {{"sleep_ms", 20000}}}});
  const std::string id = str(slow, "id");
  REQUIRE(reaches(c, ann, id, "running"));
  auto asked = c.post_json("/api/v1/jobs/" + id + "/cancel", json::object{}, bearer(ann.token));
  REQUIRE(asked.status == 200);
  CHECK(asked.json().at("cancel_requested") == true);
  REQUIRE(reaches(c, ann, id, "cancelled"));
  CHECK(app.query_strings("SELECT job_id FROM probe_jobs_effects WHERE job_id = '" + id + "'").empty());
  // Cancelled can be retried; then it runs to the end.
  auto again = c.post_json("/api/v1/jobs/" + id + "/retry", json::object{}, bearer(ann.token));
  CHECK(again.status == 200);
  CHECK(c.post_json("/api/v1/jobs/" + id + "/cancel", json::object{}, bearer(ann.token)).status == 200);

  // probe.slow times out after 200 ms (one attempt): failed, timed_out in the history.
  auto timed = submit(c, ann, {{"type", "probe.slow"}, {"payload", {{"sleep_ms", 20000}}}});
  REQUIRE(reaches(c, ann, str(timed, "id"), "failed"));
  CHECK(std::string(job(c, ann, str(timed, "id")).at("last_error").as_string()).find("timed out") == 0);
  CHECK(app.query_strings("SELECT outcome FROM jobs_attempts WHERE job_id = '" + str(timed, "id") + "'") ==
        std::vector<std::string>{"timed_out"});
}

TEST_CASE("enqueue inside a transaction: rolled back never runs, committed runs") {
  TestApp app(fast_jobs(), jobs_modules());
  auto& db = app.db();
  auto* queue = app.app().services().find<jobs::Queue>();
  REQUIRE(queue != nullptr);
  auto enqueue = [&](std::string key, bool commit, std::string type = "probe.record") {
    db.run_blocking([&](soci::session& sql) {
      try {
        core::run_transaction(sql, db.dialect(), [&](core::Tx& tx) {
          queue->enqueue(tx, {type, {{"key", key}}, "system", {}, {}, {}});
          if (!commit) throw std::runtime_error("roll back");
        });
      } catch (std::runtime_error const&) {
      }
    });
  };
  enqueue("rolled-back", false);
  enqueue("committed", true);
  REQUIRE(eventually([&] { return app.query_strings("SELECT job_id FROM probe_jobs_effects").size() == 1; }));
  CHECK(app.query_strings("SELECT payload FROM probe_jobs_effects") ==
        std::vector<std::string>{R"({"key":"committed"})"});
  CHECK(app.query_strings("SELECT id FROM jobs_jobs").size() == 1);
  CHECK_THROWS_AS(enqueue("x", true, "no.such.type"), std::invalid_argument);
}

TEST_CASE("two Applications on one database run 1,000 jobs: each once in effect, never two at a time") {
  TestApp one(fast_jobs(), jobs_modules());
  const std::string url = one.database().url();
  TestApp two(fast_jobs([url](app::Config& c) { c.set("database.url", json::string(url)); }), jobs_modules());
  auto& db = one.db();
  auto* queue = one.app().services().find<jobs::Queue>();
  db.run_blocking([&](soci::session& sql) {
    core::run_transaction(sql, db.dialect(), [&](core::Tx& tx) {
      for (int i = 0; i < 1000; ++i) queue->enqueue(tx, {"probe.record", {{"i", i}}, "system", {}, {}, {}});
    });
  });
  REQUIRE(eventually(
      [&] { return one.query_strings("SELECT id FROM jobs_jobs WHERE status = 'succeeded'").size() == 1000; },
      std::chrono::seconds(60)));
  CHECK(one.query_strings("SELECT job_id FROM probe_jobs_effects").size() == 1000);
  // Every execution, and no two executions of one job overlapping in time.
  auto overlaps = one.query_strings(
      "SELECT a.job_id FROM probe_jobs_runs a JOIN probe_jobs_runs b ON a.job_id = b.job_id AND a.run_id < "
      "b.run_id"
      " AND a.started_us < COALESCE(b.finished_us, 9000000000000000) AND b.started_us < "
      "COALESCE(a.finished_us, "
      "9000000000000000)");
  CHECK(overlaps.empty());
  CHECK(one.query_strings("SELECT run_id FROM probe_jobs_runs").size() == 1000);
  // Both instances took part.
  CHECK(one.query_strings("SELECT DISTINCT worker FROM jobs_attempts").size() == 2);
}

TEST_CASE("progress shows while a job runs; ending publishes its event; metrics count it; retention prunes") {
  TestApp app(fast_jobs([](app::Config& c) {
                c.set("jobs.retention_days", 0);
                c.set("jobs.failed_retention_days", 36500);
                c.set("jobs.prune_interval_s", 1);
              }),
              jobs_modules());
  auto c = app.client();
  auto ann = sign_up(c, "ann@example.com");
  const std::string id =
      str(submit(c, ann, {{"type", "probe.record"}, {"payload", {{"sleep_ms", 1500}}}}), "id");
  REQUIRE(eventually([&] {
    auto j = job(c, ann, id);
    return j.at("status") == "running" && j.at("progress") == 50;
  }));
  REQUIRE(reaches(c, ann, id, "succeeded"));
  const std::string failed = str(submit(c, ann, {{"type", "probe.fail"}, {"max_attempts", 1}}), "id");
  REQUIRE(reaches(c, ann, failed, "failed"));
  CHECK(app.query_strings("SELECT type FROM events WHERE aggregate_id = '" + id + "'") ==
        std::vector<std::string>{"jobs.succeeded.v1"});
  CHECK(app.query_strings("SELECT type FROM events WHERE aggregate_id = '" + failed + "'") ==
        std::vector<std::string>{"jobs.failed.v1"});
  auto metrics = c.get("/metrics").body;
  CHECK(metrics.find("jobs_attempts_total{outcome=\"succeeded\"} 1") != std::string::npos);
  CHECK(metrics.find("jobs_attempts_total{outcome=\"dead\"} 1") != std::string::npos);
  CHECK(metrics.find("jobs_run_seconds_count{type=\"probe.record\"} 1") != std::string::npos);
  // Retention 0 days: the succeeded job and its history go at the next run; the dead letter stays.
  REQUIRE(eventually(
      [&] { return app.query_strings("SELECT id FROM jobs_jobs WHERE id = '" + id + "'").empty(); }));
  CHECK(app.query_strings("SELECT job_id FROM jobs_attempts WHERE job_id = '" + id + "'").empty());
  CHECK(app.query_strings("SELECT id FROM jobs_jobs WHERE id = '" + failed + "'").size() == 1);
  CHECK(c.get("/api/v1/jobs/" + id, bearer(ann.token)).status == 404);
}

TEST_CASE("the heartbeat keeps a job that outlives its lease from running twice") {
  TestApp app(fast_jobs([](app::Config& c) { c.set("jobs.lease_ms", 1000); }), jobs_modules());
  auto c = app.client();
  auto ann = sign_up(c, "ann@example.com");
  const std::string id =
      str(submit(c, ann, {{"type", "probe.record"}, {"payload", {{"sleep_ms", 3000}}}}), "id");
  REQUIRE(reaches(c, ann, id, "succeeded"));
  CHECK(job(c, ann, id).at("attempts") == 1);
  CHECK(app.query_strings("SELECT outcome FROM jobs_attempts WHERE job_id = '" + id + "'") ==
        std::vector<std::string>{"succeeded"});
  CHECK(app.query_strings("SELECT run_id FROM probe_jobs_runs WHERE job_id = '" + id + "'").size() == 1);
}

TEST_CASE("an instance claims only the job types a module of its own handles") {
  TestApp with_types(fast_jobs([](app::Config& c) { c.set("jobs.workers", 0); }), jobs_modules());
  const std::string url = with_types.database().url();
  TestApp without(fast_jobs([url](app::Config& c) { c.set("database.url", json::string(url)); }),
                  {auth::auth_module(), jobs::jobs_module()});
  auto c = with_types.client();
  auto ann = sign_up(c, "ann@example.com");
  const std::string id = str(submit(c, ann, {{"type", "probe.noop"}}), "id");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // several polls of `without`
  auto j = job(c, ann, id);
  CHECK(j.at("status") == "queued");
  CHECK(j.at("attempts") == 0);
}
