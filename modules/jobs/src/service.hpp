#pragma once

// The jobs API's use cases (POST /jobs, lists, cancel, retry) and the background work around the
// queue (cron, retention, the queue gauges). Transport-free: routes.cpp turns HTTP into these calls.

#include "queue.hpp"
#include "rules.hpp"
#include "store.hpp"

#include "core/async.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bookspace::core {
class Clock;
class Database;
class EventLog;
}  // namespace bookspace::core
namespace soci {
class session;
}

namespace bookspace::jobs {

class Runner;

struct ServiceDeps {
  core::Database& db;
  core::EventLog& events;
  core::Clock const& clock;
  QueueImpl& queue;
  Runner* runner;  ///< null when this instance runs no workers
};

/// Who asks: members see and change their own jobs, admins everyone's.
struct Caller {
  std::string user_id;
  bool admin = false;
};

struct Submission {
  std::string type;
  boost::json::object payload;
  std::int64_t run_at = 0;
  std::optional<int> max_attempts;  ///< checked against 1–100 by the route
};

class Service {
 public:
  explicit Service(ServiceDeps deps) : deps_(deps) {}

  /// Unknown type → validation_failed on `type`; a type members may not enqueue → forbidden.
  core::Awaitable<Job> submit(Caller caller, Submission submission);
  /// Someone else's job is not_found (an admin's view is everyone's).
  core::Awaitable<Job> get(Caller caller, std::string id);
  core::Awaitable<std::vector<Job>> list(Caller caller, ListQuery query);
  /// The job's attempt history (numbers after `after`, oldest first, at most `n`).
  core::Awaitable<std::vector<Attempt>> attempts(Caller caller, std::string id, int after, int n);
  /// Queued → cancelled; running → cancellation requested (the handler stops at its next check);
  /// terminal → conflict.
  core::Awaitable<Job> cancel(Caller caller, std::string id);
  /// Failed or cancelled → queued with attempts reset; otherwise conflict.
  core::Awaitable<Job> retry(Caller caller, std::string id);

  /// Cron: enqueues each schedule's due tick once across instances (see rules.hpp due_tick);
  /// returns how many jobs it enqueued.
  std::size_t run_schedules(soci::session& sql, std::vector<ScheduleEntry> const& schedules, long long now);

 private:
  ServiceDeps deps_;
};

}  // namespace bookspace::jobs
