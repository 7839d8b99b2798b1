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
  int tries = 0;  ///< every attempt ever (the history's numbering)
  bool cancel_requested = false;
  std::optional<std::string> last_error;
  long long run_at = 0, created_at = 0;
  std::optional<long long> started_at, finished_at;
  std::string owner_id;
  std::optional<std::string> unique_key;
};

/// Inserts a queued job; false (nothing inserted) when its unique_key is taken.
bool insert_job(soci::session& sql, Job const& job);
std::optional<Job> find_job(soci::session& sql, std::string const& id);

/// Claims up to `n` queued jobs of `types` (those this instance handles) due at `now` (priority
/// first, then run_at), each moved to running
/// with a lease for `worker` until `lease_until` and its attempt counted and recorded. Call in
/// one short transaction; on PostgreSQL rows another claimer holds are skipped, not waited for.
std::vector<Job> claim_jobs(soci::session& sql, bool postgresql, std::string const& worker, long long now,
                            long long lease_until, int n, std::vector<std::string> const& types);

/// Ends many running attempts as succeeded in two statements: `done` holds {id, result JSON}.
/// Returns the ids whose lease `worker` still held (the others' outcomes do not count).
std::vector<std::string> finish_succeeded(soci::session& sql, bool postgresql, std::string const& worker,
                                          long long now,
                                          std::vector<std::pair<std::string, std::string>> const& done);
/// A failed attempt: back to queued at `retry_at`, or `failed` when `retry_at` is nullopt.
bool finish_failed(soci::session& sql, std::string const& id, std::string const& worker, long long now,
                   std::string const& error, std::string_view outcome, std::optional<long long> retry_at);

/// Ends the running attempt as cancelled (the handler saw cancelled() and stopped).
bool finish_cancelled(soci::session& sql, std::string const& id, std::string const& worker, long long now);
/// Gives a running job back (shutdown): queued again at once, the attempt not counted.
bool release(soci::session& sql, std::string const& id, std::string const& worker, long long now);
/// Extends the lease of every job `worker` runs; returns how many it still holds.
std::size_t heartbeat_leases(soci::session& sql, std::string const& worker, long long lease_until);
/// The jobs `worker` runs whose cancellation was asked for (by any instance).
std::vector<std::string> cancel_requested(soci::session& sql, std::string const& worker);
/// Stores a running job's progress (0–100) while `worker` holds it.
void set_progress(soci::session& sql, std::string const& id, std::string const& worker, int percent);

/// POST /jobs/{id}/cancel: a queued job ends cancelled at once (true); otherwise false.
bool cancel_queued(soci::session& sql, std::string const& id, long long now);
/// A running job: its handler will see cancelled(); false when it is not running.
bool request_cancel(soci::session& sql, std::string const& id);
/// POST /jobs/{id}/retry: a failed or cancelled job is queued again with its attempts reset
/// (the history stays); false for any other state.
bool retry(soci::session& sql, std::string const& id, long long now);

/// Running jobs whose lease ran out before `now`: queued again (their attempt is recorded as
/// lease_lost), failed when their attempts are spent, cancelled when that was asked for;
/// returns how many.
std::size_t requeue_expired(soci::session& sql, long long now);

struct ListQuery {
  std::optional<std::string> owner_id;  ///< nullopt: everyone's (admins)
  std::optional<Status> status;
  std::optional<std::string> type;
  std::string before_id;  ///< keyset: ids below this one (newest first); empty: from the newest
  int limit = 20;
};
std::vector<Job> list_jobs(soci::session& sql, ListQuery const& q);

/// Succeeded and cancelled jobs finished before `done_cutoff`, failed ones before
/// `failed_cutoff`: up to `n` deleted with their history; returns how many.
std::size_t prune(soci::session& sql, long long done_cutoff, long long failed_cutoff, int n);

struct Depth {
  std::string type;
  Status status;
  long long count = 0;
};
/// Jobs queued, running and failed, by type (the unfinished and the dead letters).
std::vector<Depth> depth(soci::session& sql);
/// The run_at of the longest-waiting job that is due at `now`; nullopt when none waits.
std::optional<long long> oldest_due(soci::session& sql, long long now);

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
  std::string worker;  ///< the instance that ran it
};
/// A job's attempts after number `after`, oldest first, at most `n`.
std::vector<Attempt> attempts_of(soci::session& sql, std::string const& id, int after = 0, int n = 1000);

}  // namespace bookspace::jobs
