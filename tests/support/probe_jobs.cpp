#include "probe_jobs.hpp"

#include "core/database.hpp"

#include <bookspace/jobs/jobs.hpp>
#include <bookspace/migrations/probe_jobs.hpp>

#include <boost/json/serialize.hpp>

#include <soci/soci.h>

#include <sodium.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace bookspace::testing {

namespace {

namespace json = boost::json;

long long now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_id() {
  return std::to_string(randombytes_random()) + "-" + std::to_string(randombytes_random());
}

json::value record(jobs::JobContext& ctx) {
  auto& sql = ctx.sql();
  const std::string run = random_id();
  const std::string id = ctx.id();
  const int attempt = ctx.attempt();
  const long long started = now_us();
  sql << "INSERT INTO probe_jobs_runs (job_id, run_id, attempt, started_us) VALUES (:j, :r, :a, :s)",
      soci::use(id), soci::use(run), soci::use(attempt), soci::use(started);
  long long sleep_ms = 0;
  if (auto const* v = ctx.payload().if_contains("sleep_ms"); v && v->is_int64()) sleep_ms = v->as_int64();
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(sleep_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (ctx.cancelled()) return nullptr;
    ctx.report_progress(50);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const long long finished = now_us();
  const std::string payload = json::serialize(ctx.payload());
  sql << "INSERT INTO probe_jobs_effects (job_id, payload, done_at) VALUES (:j, :p, :d)"
         " ON CONFLICT (job_id) DO NOTHING",
      soci::use(id), soci::use(payload), soci::use(finished);
  sql << "UPDATE probe_jobs_runs SET finished_us = :f WHERE run_id = :r", soci::use(finished), soci::use(run);
  return json::object{{"recorded", id}};
}

class ProbeJobsModule final : public app::Module {
 public:
  explicit ProbeJobsModule(app::ModuleContext& ctx) {
    auto* queue = ctx.services.find<jobs::Queue>();
    if (!queue) throw std::logic_error("probe_jobs needs the jobs module");
    jobs::TypeOptions member;
    member.members_may_enqueue = true;
    member.timeout = std::chrono::milliseconds(30'000);
    queue->register_handler("probe.record", record, with_summary(member, "test: records its effect once"));
    queue->register_handler(
        "probe.noop",
        [](jobs::JobContext&) -> json::value {
          return json::object{{"ok", true}};
        },
        with_summary(member, "test: does nothing"));
    auto failing = member;
    failing.max_attempts = 3;
    queue->register_handler(
        "probe.fail", [](jobs::JobContext&) -> json::value { throw std::runtime_error("probe failure"); },
        with_summary(failing, "test: always fails"));
    jobs::TypeOptions admin;
    queue->register_handler(
        "probe.admin", [](jobs::JobContext&) -> json::value { return nullptr; },
        with_summary(admin, "test: administrators only"));
    auto slow = member;
    slow.timeout = std::chrono::milliseconds(200);
    slow.max_attempts = 1;
    queue->register_handler("probe.slow", record, with_summary(slow, "test: times out after 200 ms"));
    // A cancel that lands after the handler's last look and before its success is recorded
    // (POST /jobs/{id}/cancel answered 200 in between): made certain by asking for it here.
    queue->register_handler(
        "probe.cancelled_at_end",
        [](jobs::JobContext& job) -> json::value {
          job.sql() << "UPDATE jobs_jobs SET cancel_requested = 1 WHERE id = :id", soci::use(job.id());
          return json::object{{"ok", true}};
        },
        with_summary(member, "test: its cancel arrives as it finishes"));
  }

 private:
  static jobs::TypeOptions with_summary(jobs::TypeOptions o, std::string summary) {
    o.summary = std::move(summary);
    return o;
  }
};

}  // namespace

app::ModuleDescriptor probe_jobs_module() {
  return {.name = "probe_jobs",
          .summary = "test-only: job types that record what they did",
          .depends_on = {"jobs"},
          .required = {app::interface<jobs::Queue>()},
          .migrations = &migrations::probe_jobs,
          .create = [](app::ModuleContext& ctx) -> std::unique_ptr<app::Module> {
            return std::make_unique<ProbeJobsModule>(ctx);
          }};
}

}  // namespace bookspace::testing
