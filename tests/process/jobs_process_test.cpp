// The jobs queue across processes (bookspace-jobsd: the binary's modules plus test-only job
// types): kill -9 mid-job, SIGTERM handing running jobs back, two processes on one database.
#include "core/database.hpp"
#include "core/prepared.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <soci/soci.h>

#include <csignal>
#include <thread>

using namespace bookspace;
using testing::HttpClient;
using testing::ServerProcess;
namespace json = boost::json;

namespace {

std::vector<std::string> args_for(testing::TestDatabase const& db) {
  return {"--database", db.url(), "--data-dir", db.dir(), "--listen", "127.0.0.1:0"};
}

/// Short leases so that a killed worker's job is rescued within seconds.
std::map<std::string, std::string> fast_env() {
  return {{"BOOKSPACE_JOBS_LEASE_MS", "1500"},
          {"BOOKSPACE_JOBS_POLL_INTERVAL_MS", "100"},
          {"BOOKSPACE_JOBS_BACKOFF_BASE_MS", "50"},
          {"BOOKSPACE_JOBS_DRAIN_TIMEOUT_MS", "300"}};
}

long long count(testing::TestDatabase const& db, std::string const& query) {
  auto sql = core::open_session(core::parse_database_url(db.url()), {});
  long long n = 0;
  *sql << query, soci::into(n);
  return n;
}

struct Client {
  HttpClient http;
  std::map<std::string, std::string> auth;

  Client(std::uint16_t port, std::string const& email, bool registering) : http(port) {
    json::object creds{{"email", email}, {"password", "correct horse battery"}};
    auto r = registering ? http.post_json("/api/v1/auth/register", creds)
                         : http.post_json("/api/v1/auth/login", creds);
    REQUIRE((r.status == 201 || r.status == 200));
    auth = {{"Authorization", "Bearer " + std::string(r.json().at("access_token").as_string())}};
  }
  std::string submit(json::object body) {
    auto r = http.post_json("/api/v1/jobs", body, auth);
    REQUIRE(r.status == 202);
    return std::string(r.json().at("id").as_string());
  }
  json::object job(std::string const& id) { return http.get("/api/v1/jobs/" + id, auth).json().as_object(); }
  bool reaches(std::string const& id, std::string_view status,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return testing::eventually([&] { return job(id).at("status").as_string() == status; }, timeout);
  }
};

}  // namespace

TEST_CASE("kill -9 while a job runs: after the restart it completes, once in effect") {
  testing::TestDatabase db;
  std::string id;
  {
    ServerProcess server(testing::jobsd_binary(), args_for(db), fast_env());
    Client c(server.port(), "k@example.com", true);
    id = c.submit({{"type", "probe.record"}, {"payload", {{"sleep_ms", 1500}}}});
    REQUIRE(c.reaches(id, "running"));
    // The handler has begun (its run is logged) before the kill.
    REQUIRE(testing::eventually(
        [&] { return count(db, "SELECT COUNT(*) FROM probe_jobs_runs WHERE job_id = '" + id + "'") == 1; }));
    server.signal(SIGKILL);
    REQUIRE(server.wait(std::chrono::seconds(10)).has_value());
  }
  CHECK(count(db, "SELECT COUNT(*) FROM jobs_jobs WHERE status = 'running'") == 1);  // its lease still held
  ServerProcess restarted(testing::jobsd_binary(), args_for(db), fast_env());
  Client c(restarted.port(), "k@example.com", false);
  REQUIRE(c.reaches(id, "succeeded"));
  auto done = c.job(id);
  CHECK(done.at("attempts") == 2);  // the lost lease counted as an attempt
  CHECK(count(db, "SELECT COUNT(*) FROM probe_jobs_effects WHERE job_id = '" + id + "'") == 1);
  CHECK(count(db, "SELECT COUNT(*) FROM probe_jobs_runs WHERE job_id = '" + id + "'") == 2);
  CHECK(count(db, "SELECT COUNT(*) FROM jobs_attempts WHERE job_id = '" + id +
                      "' AND outcome = 'lease_lost'") == 1);
}

TEST_CASE("SIGTERM: running jobs get the drain deadline, then go back to the queue and run after restart") {
  testing::TestDatabase db;
  std::string id;
  {
    ServerProcess server(testing::jobsd_binary(), args_for(db), fast_env());
    Client c(server.port(), "t@example.com", true);
    id = c.submit({{"type", "probe.record"}, {"payload", {{"sleep_ms", 60000}}}});
    REQUIRE(c.reaches(id, "running"));
    server.signal(SIGTERM);
    auto code = server.wait(std::chrono::seconds(20));
    REQUIRE(code.has_value());
    CHECK(*code == 0);
  }
  CHECK(count(db,
              "SELECT COUNT(*) FROM jobs_jobs WHERE status = 'queued' AND attempts = 0 AND lease_owner IS "
              "NULL") == 1);
  CHECK(count(db, "SELECT COUNT(*) FROM jobs_attempts WHERE outcome = 'released'") == 1);
  // Shorten the job so that the restarted process finishes it.
  auto sql = core::open_session(core::parse_database_url(db.url()), {});
  *sql << "UPDATE jobs_jobs SET payload = '{\"sleep_ms\":10}' WHERE id = '" + id + "'";
  ServerProcess restarted(testing::jobsd_binary(), args_for(db), fast_env());
  Client c(restarted.port(), "t@example.com", false);
  REQUIRE(c.reaches(id, "succeeded"));
  CHECK(c.job(id).at("attempts") == 1);
}

TEST_CASE(
    "two processes on one database run 1,000 jobs: every job once in effect, never two runs at a time") {
  testing::TestDatabase db;
  ServerProcess one(testing::jobsd_binary(), args_for(db), fast_env());
  ServerProcess two(testing::jobsd_binary(), args_for(db), fast_env());
  Client a(one.port(), "p@example.com", true);
  Client b(two.port(), "p@example.com", false);
  for (int i = 0; i < 1000; ++i) (i % 2 ? a : b).submit({{"type", "probe.record"}, {"payload", {{"i", i}}}});
  REQUIRE(testing::eventually(
      [&] { return count(db, "SELECT COUNT(*) FROM jobs_jobs WHERE status = 'succeeded'") == 1000; },
      std::chrono::seconds(60)));
  CHECK(count(db, "SELECT COUNT(*) FROM probe_jobs_effects") == 1000);
  CHECK(count(db, "SELECT COUNT(*) FROM probe_jobs_runs") == 1000);
  CHECK(count(db,
              "SELECT COUNT(*) FROM probe_jobs_runs a JOIN probe_jobs_runs b ON a.job_id = b.job_id AND "
              "a.run_id < "
              "b.run_id AND a.started_us < COALESCE(b.finished_us, 9000000000000000) AND b.started_us < "
              "COALESCE(a.finished_us, 9000000000000000)") == 0);
  CHECK(count(db, "SELECT COUNT(DISTINCT worker) FROM jobs_attempts") == 2);
}
