#pragma once

// The jobs module's repository: every SQL statement on jobs_* (migrations/jobs). Callers own
// transactions; nothing here decides policy (backoff, ownership) or publishes. Times are ms
// since the epoch.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace soci {
class session;
}

namespace bookspace::jobs {

enum class Status { queued, running, succeeded, failed, cancelled };
std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view text);

struct Job {
  std::string id, type;
  Status status = Status::queued;
  std::string payload = "{}";  ///< JSON object text
  std::optional<std::string> result;
  int progress = 0;
  int attempts = 0, max_attempts = 5, priority = 0;
  std::optional<std::string> last_error;
  long long run_at = 0, created_at = 0;
  std::optional<long long> started_at, finished_at;
  std::string owner_id;
  std::optional<std::string> unique_key;
};

/// Inserts a queued job; false (nothing inserted) when its unique_key is taken.
bool insert_job(soci::session& sql, Job const& job);
std::optional<Job> find_job(soci::session& sql, std::string const& id);

/// Claims up to `n` queued jobs due at `now` (priority first, then run_at), each moved to running
/// with a lease for `worker` until `lease_until` and its attempt counted and recorded. Call in
/// one short transaction; on PostgreSQL rows another claimer holds are skipped, not waited for.
std::vector<Job> claim_jobs(soci::session& sql, bool postgresql, std::string const& worker, long long now,
                            long long lease_until, int n);
/// Extends the lease while `worker` still holds the job; false when it does not any more.
bool extend_lease(soci::session& sql, std::string const& id, std::string const& worker,
                  long long lease_until);

/// Ends the running attempt of a job `worker` holds. False when the lease was lost (another
/// worker may run it now; this attempt's outcome does not count).
bool finish_succeeded(soci::session& sql, std::string const& id, std::string const& worker, long long now,
                      std::string const& result);
/// A failed attempt: back to queued at `retry_at`, or `failed` when `retry_at` is nullopt.
bool finish_failed(soci::session& sql, std::string const& id, std::string const& worker, long long now,
                   std::string const& error, std::string_view outcome, std::optional<long long> retry_at);

/// Running jobs whose lease ran out before `now`: queued again (their attempt is recorded as
/// lease_lost); returns how many.
std::size_t requeue_expired(soci::session& sql, long long now);

/// Cron: the last tick enqueued for `schedule` (its row made at `now` when new: ticks before
/// then do not count, see rules.hpp due_tick); {last_tick, created_at}.
std::pair<long long, long long> schedule_state(soci::session& sql, std::string const& schedule,
                                               long long now);
/// Moves the schedule to `tick` if it is still before it; true for exactly one of several
/// instances racing for the same tick (that one enqueues the tick's job in the same transaction).
bool take_tick(soci::session& sql, std::string const& schedule, long long tick);

struct Attempt {
  int attempt = 0;
  long long started_at = 0;
  std::optional<long long> finished_at;
  std::optional<std::string> outcome, error;
};
std::vector<Attempt> attempts_of(soci::session& sql, std::string const& id);

}  // namespace bookspace::jobs
