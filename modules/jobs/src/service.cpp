#include "service.hpp"

#include "runner.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/error.hpp"
#include "core/event_contract.hpp"
#include "core/event_log.hpp"

#include <bookspace/jobs/events.hpp>

#include <boost/json/parse.hpp>

#include <soci/soci.h>

namespace bookspace::jobs {

using core::ApiError;
using core::ErrorCode;

namespace {

ApiError no_such_job() {
  return ApiError(ErrorCode::not_found, "No such job.");
}

bool visible(Job const& job, Caller const& caller) {
  return caller.admin || job.owner_id == caller.user_id;
}

Job existing(soci::session& sql, std::string const& id, Caller const& caller) {
  auto job = find_job(sql, id);
  if (!job || !visible(*job, caller)) throw no_such_job();
  return *job;
}

}  // namespace

core::Awaitable<Job> Service::submit(Caller caller, Submission s) {
  auto const* type = deps_.queue.find(s.type);
  if (!type) throw ApiError(core::Error::validation("type", "no such job type"));
  if (!caller.admin && !type->options.members_may_enqueue)
    throw ApiError(ErrorCode::forbidden, "Only administrators may enqueue jobs of type " + s.type + ".");
  JobRequest request{std::move(s.type), std::move(s.payload), caller.user_id, s.run_at, s.max_attempts, {}};
  co_return co_await deps_.db.transaction(
      [&](core::Tx& tx) { return deps_.queue.enqueue_job(tx, std::move(request)); });
}

core::Awaitable<Job> Service::get(Caller caller, std::string id) {
  co_return co_await deps_.db.run([&](soci::session& sql) { return existing(sql, id, caller); });
}

core::Awaitable<std::vector<Job>> Service::list(Caller caller, ListQuery query) {
  if (!caller.admin) {
    if (query.owner_id && *query.owner_id != caller.user_id) query.limit = 0;  // only their own: none
    query.owner_id = caller.user_id;
  }
  co_return co_await deps_.db.run([&](soci::session& sql) { return list_jobs(sql, query); });
}

core::Awaitable<std::vector<Attempt>> Service::attempts(Caller caller, std::string id, int after, int n) {
  co_return co_await deps_.db.run([&](soci::session& sql) {
    existing(sql, id, caller);
    return attempts_of(sql, id, after, n);
  });
}

core::Awaitable<Job> Service::cancel(Caller caller, std::string id) {
  bool running = false;
  auto job = co_await deps_.db.transaction([&](core::Tx& tx) {
    const long long now = deps_.clock.now_ms();
    auto job = existing(tx.sql, id, caller);
    if (cancel_queued(tx.sql, id, now)) {
      core::publish(deps_.events, tx, id, Cancelled{{job.id, job.type, job.owner_id, job.attempts, now}});
    } else if (request_cancel(tx.sql, id)) {
      running = true;
    } else {
      throw ApiError(ErrorCode::conflict, "The job has ended (" + std::string(to_string(job.status)) +
                                              "); only queued and running jobs can be cancelled.");
    }
    return *find_job(tx.sql, id);
  });
  if (running && deps_.runner) deps_.runner->cancel_local(id);
  co_return job;
}

core::Awaitable<Job> Service::retry(Caller caller, std::string id) {
  co_return co_await deps_.db.transaction([&](core::Tx& tx) {
    auto job = existing(tx.sql, id, caller);
    if (!jobs::retry(tx.sql, id, deps_.clock.now_ms())) {
      throw ApiError(ErrorCode::conflict, "Only failed or cancelled jobs can be retried; this one is " +
                                              std::string(to_string(job.status)) + ".");
    }
    deps_.events.signal(tx, wake_channel);
    return *find_job(tx.sql, id);
  });
}

std::size_t Service::run_schedules(soci::session& sql, std::vector<ScheduleEntry> const& schedules,
                                   long long now) {
  std::size_t enqueued = 0;
  for (auto const& s : schedules) {
    core::run_transaction(sql, deps_.db.dialect(), [&](core::Tx& tx) {
      auto [last, created] = schedule_state(tx.sql, s.name, now);
      auto tick = due_tick(s.schedule, last, created, now);
      if (!tick || !take_tick(tx.sql, s.name, *tick)) return;  // not due, or another instance took it
      JobRequest request{s.type,       boost::json::parse(s.payload).as_object(),     "system", std::nullopt,
                         std::nullopt, "cron:" + s.name + ":" + std::to_string(*tick)};
      deps_.queue.enqueue(tx, std::move(request));
      ++enqueued;
    });
  }
  return enqueued;
}

}  // namespace bookspace::jobs
