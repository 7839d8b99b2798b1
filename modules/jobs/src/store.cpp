#include "store.hpp"

#include "core/prepared.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <array>

namespace bookspace::jobs {

using soci::into;
using soci::use;
namespace db = core::sql;

namespace {

#define JOB_COLUMNS                                                                                    \
  "id, type, status, payload, result, progress, attempts, max_attempts, priority, last_error, run_at," \
  " created_at, started_at, finished_at, owner_id, unique_key, tries, cancel_requested"

constexpr std::string_view insert_sql =
    "INSERT INTO jobs_jobs (id, type, status, payload, progress, attempts, max_attempts, priority, run_at,"
    " created_at, owner_id, cancel_requested) VALUES (:id, :type, 'queued', :payload, 0, 0, :max,"
    " :priority, :run_at, :created, :owner, 0)";
constexpr std::string_view insert_unique_sql =
    "INSERT INTO jobs_jobs (id, type, status, payload, progress, attempts, max_attempts, priority, run_at,"
    " created_at, owner_id, unique_key, cancel_requested) VALUES (:id, :type, 'queued', :payload, 0, 0, :max,"
    " :priority, :run_at, :created, :owner, :key, 0) ON CONFLICT (unique_key) DO NOTHING";
constexpr std::string_view find_sql = "SELECT " JOB_COLUMNS " FROM jobs_jobs WHERE id = :id";
// The claim. Both dialects update in one statement and return what they claimed; PostgreSQL
// skips rows another claimer has locked, SQLite has one writer at a time anyway.
// PostgreSQL records the attempts in the same statement (one round trip per claim).
constexpr std::string_view claim_pg_sql =
    "WITH claimed AS (UPDATE jobs_jobs SET status = 'running', lease_owner = :worker, lease_until = :until,"
    " attempts = attempts + 1, tries = tries + 1, started_at = :now WHERE id IN (SELECT id FROM jobs_jobs"
    " WHERE status = 'queued' AND run_at <= :now2 AND type = ANY(CAST(:types AS text[]))"
    " ORDER BY priority DESC, run_at, id LIMIT :n FOR UPDATE SKIP LOCKED)"
    " RETURNING id, type, payload, attempts, max_attempts, priority, run_at, created_at, owner_id, tries,"
    " lease_owner, started_at), recorded AS (INSERT INTO jobs_attempts (job_id, attempt, worker, started_at)"
    " SELECT id, tries, lease_owner, started_at FROM claimed)"
    " SELECT id, type, payload, attempts, max_attempts, priority, run_at, created_at, owner_id, tries FROM "
    "claimed";
constexpr std::string_view claim_sqlite_sql =
    "UPDATE jobs_jobs SET status = 'running', lease_owner = :worker, lease_until = :until,"
    " attempts = attempts + 1, tries = tries + 1, started_at = :now WHERE id IN (SELECT id FROM jobs_jobs"
    " WHERE status = 'queued' AND run_at <= :now2 AND type IN (SELECT value FROM json_each(:types))"
    " ORDER BY priority DESC, run_at, id LIMIT :n)"
    " RETURNING id, type, payload, attempts, max_attempts, priority, run_at, created_at, owner_id, tries";
// SQLite: the attempts of what one claim took (`:ids`: a JSON array of the claimed ids).
constexpr std::string_view insert_attempts_sqlite_sql =
    "INSERT INTO jobs_attempts (job_id, attempt, worker, started_at) SELECT id, tries, lease_owner, "
    "started_at"
    " FROM jobs_jobs WHERE id IN (SELECT value FROM json_each(:ids))";
// A batch of successes in one statement per table: `:batch` is a JSON array of {id, result}.
constexpr std::string_view succeed_batch_pg_sql =
    "WITH done AS (UPDATE jobs_jobs AS j SET status = 'succeeded', result = v.result, progress = 100,"
    " finished_at = :now, lease_owner = NULL, lease_until = NULL"
    " FROM json_to_recordset(CAST(:batch AS json)) AS v(id text, result text)"
    " WHERE j.id = v.id AND j.status = 'running' AND j.lease_owner = :worker AND j.cancel_requested = 0"
    " RETURNING j.id, j.tries),"
    " ended AS (UPDATE jobs_attempts AS a SET finished_at = :now2, outcome = 'succeeded' FROM done"
    " WHERE a.job_id = done.id AND a.attempt = done.tries) SELECT id FROM done";
constexpr std::string_view succeed_batch_sqlite_sql =
    "UPDATE jobs_jobs SET status = 'succeeded', result = v.result, progress = 100, finished_at = :now,"
    " lease_owner = NULL, lease_until = NULL FROM (SELECT value ->> '$.id' AS id, value ->> '$.result' AS "
    "result"
    " FROM json_each(:batch)) AS v WHERE jobs_jobs.id = v.id AND jobs_jobs.status = 'running'"
    " AND jobs_jobs.lease_owner = :worker AND jobs_jobs.cancel_requested = 0 RETURNING jobs_jobs.id";
constexpr std::string_view end_attempts_ok_sqlite_sql =
    "UPDATE jobs_attempts SET finished_at = :now, outcome = 'succeeded' WHERE job_id IN (SELECT value FROM"
    " json_each(:ids)) AND attempt = (SELECT tries FROM jobs_jobs WHERE jobs_jobs.id = jobs_attempts.job_id)";
constexpr std::string_view retry_later_sql =
    "UPDATE jobs_jobs SET status = 'queued', run_at = :at, last_error = :error, lease_owner = NULL,"
    " lease_until = NULL WHERE id = :id AND status = 'running' AND lease_owner = :worker";
constexpr std::string_view fail_sql =
    "UPDATE jobs_jobs SET status = 'failed', finished_at = :now, last_error = :error, lease_owner = NULL,"
    " lease_until = NULL WHERE id = :id AND status = 'running' AND lease_owner = :worker";
constexpr std::string_view end_attempt_sql =
    "UPDATE jobs_attempts SET finished_at = :now, outcome = :outcome, error = :error"
    " WHERE job_id = :id AND attempt = (SELECT tries FROM jobs_jobs WHERE id = :id2)";
constexpr std::string_view expired_sql =
    "SELECT id FROM jobs_jobs WHERE status = 'running' AND lease_until < :now ORDER BY lease_until LIMIT "
    "1000";
// A lost lease counts as a failed attempt, so a job that kills its worker every time ends failed.
constexpr std::string_view requeue_sql =
    "UPDATE jobs_jobs SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled'"
    " WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,"
    " finished_at = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts THEN CAST(:now AS BIGINT)"
    " ELSE NULL END,"
    " last_error = 'the worker running it stopped answering (lease expired)',"
    " lease_owner = NULL, lease_until = NULL WHERE id = :id AND status = 'running' AND lease_until < :now2";
constexpr std::string_view attempts_sql =
    "SELECT attempt, started_at, finished_at, outcome, error, worker FROM jobs_attempts"
    " WHERE job_id = :id AND attempt > :after ORDER BY attempt LIMIT :n";

constexpr std::string_view ensure_schedule_sql =
    "INSERT INTO jobs_schedules (name, last_tick, created_at) VALUES (:name, 0, :now) ON CONFLICT (name) DO "
    "NOTHING";
constexpr std::string_view schedule_sql =
    "SELECT last_tick, created_at FROM jobs_schedules WHERE name = :name";
constexpr std::string_view take_tick_sql =
    "UPDATE jobs_schedules SET last_tick = :tick WHERE name = :name AND last_tick < :tick2";

constexpr std::string_view cancelled_sql =
    "UPDATE jobs_jobs SET status = 'cancelled', finished_at = :now, lease_owner = NULL, lease_until = NULL"
    " WHERE id = :id AND status = 'running' AND lease_owner = :worker";
constexpr std::string_view release_sql =
    "UPDATE jobs_jobs SET status = 'queued', attempts = attempts - 1, run_at = :now, lease_owner = NULL,"
    " lease_until = NULL WHERE id = :id AND status = 'running' AND lease_owner = :worker";
constexpr std::string_view heartbeat_sql =
    "UPDATE jobs_jobs SET lease_until = :until WHERE lease_owner = :worker AND status = 'running'";
constexpr std::string_view cancel_requested_sql =
    "SELECT id FROM jobs_jobs WHERE lease_owner = :worker AND status = 'running' AND cancel_requested = 1";
constexpr std::string_view progress_sql =
    "UPDATE jobs_jobs SET progress = :p WHERE id = :id AND status = 'running' AND lease_owner = :worker";
constexpr std::string_view cancel_queued_sql =
    "UPDATE jobs_jobs SET status = 'cancelled', finished_at = :now WHERE id = :id AND status = 'queued'";
constexpr std::string_view request_cancel_sql =
    "UPDATE jobs_jobs SET cancel_requested = 1 WHERE id = :id AND status = 'running'";
constexpr std::string_view retry_sql =
    "UPDATE jobs_jobs SET status = 'queued', attempts = 0, run_at = :now, cancel_requested = 0, progress = 0,"
    " result = NULL, started_at = NULL, finished_at = NULL"
    " WHERE id = :id AND status IN ('failed', 'cancelled')";
constexpr std::string_view prune_select_sql =
    "SELECT id FROM jobs_jobs WHERE finished_at IS NOT NULL AND ((status IN ('succeeded', 'cancelled')"
    " AND finished_at < :done) OR (status = 'failed' AND finished_at < :failed)) LIMIT :n";
constexpr std::string_view prune_attempts_sql = "DELETE FROM jobs_attempts WHERE job_id = :id";
constexpr std::string_view prune_job_sql = "DELETE FROM jobs_jobs WHERE id = :id";
constexpr std::string_view depth_sql =
    "SELECT type, status, COUNT(*) FROM jobs_jobs WHERE status = 'queued' GROUP BY type, status"
    " UNION ALL SELECT type, status, COUNT(*) FROM jobs_jobs WHERE status = 'running' GROUP BY type, status"
    " UNION ALL SELECT type, status, COUNT(*) FROM jobs_jobs WHERE status = 'failed' GROUP BY type, status";
constexpr std::string_view oldest_due_sql =
    "SELECT MIN(run_at) FROM jobs_jobs WHERE status = 'queued' AND run_at <= :now";

std::optional<Status> status_of(std::string_view text);

constexpr std::array<std::string_view, 5> status_names = {"queued", "running", "succeeded", "failed",
                                                          "cancelled"};

std::optional<Status> status_of(std::string_view text) {
  for (std::size_t i = 0; i < status_names.size(); ++i) {
    if (status_names[i] == text) return static_cast<Status>(i);
  }
  return std::nullopt;
}

Job read_job(soci::row const& r) {
  Job j;
  j.id = db::get_text(r, 0);
  j.type = db::get_text(r, 1);
  j.status = status_of(db::get_text(r, 2)).value_or(Status::failed);
  j.payload = db::get_text(r, 3);
  j.result = db::get_opt_text(r, 4);
  j.progress = static_cast<int>(db::get_int(r, 5));
  j.attempts = static_cast<int>(db::get_int(r, 6));
  j.max_attempts = static_cast<int>(db::get_int(r, 7));
  j.priority = static_cast<int>(db::get_int(r, 8));
  j.last_error = db::get_opt_text(r, 9);
  j.run_at = db::get_int(r, 10);
  j.created_at = db::get_int(r, 11);
  j.started_at = db::get_opt_int(r, 12);
  j.finished_at = db::get_opt_int(r, 13);
  j.owner_id = db::get_text(r, 14);
  j.unique_key = db::get_opt_text(r, 15);
  j.tries = static_cast<int>(db::get_int(r, 16));
  j.cancel_requested = db::get_int(r, 17) != 0;
  return j;
}

void end_attempt(soci::session& sql, std::string const& id, long long now, std::string_view outcome,
                 std::string const& error) {
  core::execute(sql, end_attempt_sql, now, std::string(outcome), error, id, id);
}

}  // namespace

std::string_view to_string(Status s) {
  return status_names[static_cast<std::size_t>(s)];
}

std::optional<Status> parse_status(std::string_view text) {
  return status_of(text);
}

bool insert_job(soci::session& sql, Job const& j) {
  if (!j.unique_key) {
    return core::execute(sql, insert_sql, j.id, j.type, j.payload, j.max_attempts, j.priority, j.run_at,
                         j.created_at, j.owner_id) == 1;
  }
  return core::execute(sql, insert_unique_sql, j.id, j.type, j.payload, j.max_attempts, j.priority, j.run_at,
                       j.created_at, j.owner_id, *j.unique_key) == 1;
}

std::optional<Job> find_job(soci::session& sql, std::string const& id) {
  soci::rowset<soci::row> rows = (sql.prepare << find_sql, use(id));
  for (auto const& r : rows) return read_job(r);
  return std::nullopt;
}

std::vector<Job> claim_jobs(soci::session& sql, bool postgresql, std::string const& worker, long long now,
                            long long lease_until, int n, std::vector<std::string> const& types) {
  struct Claim {
    std::string worker;
    long long until = 0, now = 0, now2 = 0;
    std::string types;
    int n = 0;
    Job out;
  };
  auto& q = core::prepared<Claim>(sql, postgresql ? claim_pg_sql : claim_sqlite_sql,
                                  [](soci::statement& st, Claim& v) {
                                    st.exchange(use(v.worker));
                                    st.exchange(use(v.until));
                                    st.exchange(use(v.now));
                                    st.exchange(use(v.now2));
                                    st.exchange(use(v.types));
                                    st.exchange(use(v.n));
                                    st.exchange(into(v.out.id));
                                    st.exchange(into(v.out.type));
                                    st.exchange(into(v.out.payload));
                                    st.exchange(into(v.out.attempts));
                                    st.exchange(into(v.out.max_attempts));
                                    st.exchange(into(v.out.priority));
                                    st.exchange(into(v.out.run_at));
                                    st.exchange(into(v.out.created_at));
                                    st.exchange(into(v.out.owner_id));
                                    st.exchange(into(v.out.tries));
                                  });
  q.vars.worker = worker;
  q.vars.until = lease_until;
  q.vars.now = q.vars.now2 = now;
  q.vars.n = n;
  // Type names are [a-z0-9._-] (Queue::register_handler), so neither list needs quoting.
  std::string list;
  for (auto const& t : types) list += (list.empty() ? "" : ",") + (postgresql ? t : "\"" + t + "\"");
  q.vars.types = postgresql ? "{" + list + "}" : "[" + list + "]";
  std::vector<Job> claimed;
  q.run_each([&](Claim const& v) {
    Job j = v.out;
    j.status = Status::running;
    j.started_at = now;
    claimed.push_back(std::move(j));
  });
  if (!postgresql && !claimed.empty()) {
    boost::json::array ids;
    for (auto const& j : claimed) ids.emplace_back(j.id);
    const std::string id_list = boost::json::serialize(ids);
    core::execute(sql, insert_attempts_sqlite_sql, id_list);
  }
  return claimed;
}

std::vector<std::string> finish_succeeded(soci::session& sql, bool postgresql, std::string const& worker,
                                          long long now,
                                          std::vector<std::pair<std::string, std::string>> const& done) {
  std::vector<std::string> finished;
  if (done.empty()) return finished;
  boost::json::array batch;
  batch.reserve(done.size());
  for (auto const& [id, result] : done) batch.push_back(boost::json::object{{"id", id}, {"result", result}});
  struct Batch {
    long long now = 0;
    std::string batch, worker;
    long long now2 = 0;
    std::string id;
  };
  auto& q = core::prepared<Batch>(sql, postgresql ? succeed_batch_pg_sql : succeed_batch_sqlite_sql,
                                  [postgresql](soci::statement& st, Batch& v) {
                                    st.exchange(use(v.now));
                                    st.exchange(use(v.batch));
                                    st.exchange(use(v.worker));
                                    if (postgresql) st.exchange(use(v.now2));
                                    st.exchange(into(v.id));
                                  });
  q.vars.now = q.vars.now2 = now;
  q.vars.batch = boost::json::serialize(batch);
  q.vars.worker = worker;
  q.run_each([&](Batch const& v) { finished.push_back(v.id); });
  if (!postgresql && !finished.empty()) {
    boost::json::array ids;
    for (auto const& id : finished) ids.emplace_back(id);
    const std::string id_list = boost::json::serialize(ids);
    core::execute(sql, end_attempts_ok_sqlite_sql, now, id_list);
  }
  return finished;
}

bool finish_failed(soci::session& sql, std::string const& id, std::string const& worker, long long now,
                   std::string const& error, std::string_view outcome, std::optional<long long> retry_at) {
  const long long changed = retry_at ? core::execute(sql, retry_later_sql, *retry_at, error, id, worker)
                                     : core::execute(sql, fail_sql, now, error, id, worker);
  if (changed != 1) return false;
  end_attempt(sql, id, now, outcome, error);
  return true;
}

std::size_t requeue_expired(soci::session& sql, long long now) {
  std::vector<std::string> ids;
  soci::rowset<soci::row> rows = (sql.prepare << expired_sql, use(now));
  for (auto const& r : rows) ids.push_back(db::get_text(r, 0));
  std::size_t n = 0;
  for (auto const& id : ids) {
    if (core::execute(sql, requeue_sql, now, id, now) != 1) continue;
    end_attempt(sql, id, now, "lease_lost", "the worker running it stopped answering (lease expired)");
    ++n;
  }
  return n;
}

std::pair<long long, long long> schedule_state(soci::session& sql, std::string const& schedule,
                                               long long now) {
  core::execute(sql, ensure_schedule_sql, schedule, now);
  long long last = 0, created = 0;
  sql << schedule_sql, use(schedule), into(last), into(created);
  return {last, created};
}

bool take_tick(soci::session& sql, std::string const& schedule, long long tick) {
  return core::execute(sql, take_tick_sql, tick, schedule, tick) == 1;
}

std::vector<Attempt> attempts_of(soci::session& sql, std::string const& id, int after, int n) {
  std::vector<Attempt> out;
  soci::rowset<soci::row> rows = (sql.prepare << attempts_sql, use(id), use(after), use(n));
  for (auto const& r : rows) {
    out.push_back({static_cast<int>(db::get_int(r, 0)), db::get_int(r, 1), db::get_opt_int(r, 2),
                   db::get_opt_text(r, 3), db::get_opt_text(r, 4), db::get_text(r, 5)});
  }
  return out;
}

bool finish_cancelled(soci::session& sql, std::string const& id, std::string const& worker, long long now) {
  if (core::execute(sql, cancelled_sql, now, id, worker) != 1) return false;
  end_attempt(sql, id, now, "cancelled", "cancelled");
  return true;
}

bool release(soci::session& sql, std::string const& id, std::string const& worker, long long now) {
  if (core::execute(sql, release_sql, now, id, worker) != 1) return false;
  end_attempt(sql, id, now, "released", "the server shut down before the job ended; it runs again");
  return true;
}

std::size_t heartbeat_leases(soci::session& sql, std::string const& worker, long long lease_until) {
  return static_cast<std::size_t>(core::execute(sql, heartbeat_sql, lease_until, worker));
}

std::vector<std::string> cancel_requested(soci::session& sql, std::string const& worker) {
  std::vector<std::string> ids;
  soci::rowset<std::string> rows = (sql.prepare << cancel_requested_sql, use(worker));
  for (auto const& id : rows) ids.push_back(id);
  return ids;
}

void set_progress(soci::session& sql, std::string const& id, std::string const& worker, int percent) {
  core::execute(sql, progress_sql, percent, id, worker);
}

bool cancel_queued(soci::session& sql, std::string const& id, long long now) {
  return core::execute(sql, cancel_queued_sql, now, id) == 1;
}

bool request_cancel(soci::session& sql, std::string const& id) {
  return core::execute(sql, request_cancel_sql, id) == 1;
}

bool retry(soci::session& sql, std::string const& id, long long now) {
  return core::execute(sql, retry_sql, now, id) == 1;
}

std::vector<Job> list_jobs(soci::session& sql, ListQuery const& q) {
  std::string text = "SELECT " JOB_COLUMNS " FROM jobs_jobs WHERE 1 = 1";
  if (q.owner_id) text += " AND owner_id = :owner";
  if (q.status) text += " AND status = :status";
  if (q.type) text += " AND type = :type";
  if (!q.before_id.empty()) text += " AND id < :before";
  text += " ORDER BY id DESC LIMIT :n";
  const std::string status = q.status ? std::string(to_string(*q.status)) : std::string();
  soci::statement st(sql);
  st.alloc();
  st.prepare(text);
  soci::row row;
  st.exchange(soci::into(row));
  if (q.owner_id) st.exchange(use(*q.owner_id));
  if (q.status) st.exchange(use(status));
  if (q.type) st.exchange(use(*q.type));
  if (!q.before_id.empty()) st.exchange(use(q.before_id));
  const int n = q.limit;
  st.exchange(use(n));
  st.define_and_bind();
  std::vector<Job> out;
  if (st.execute(true)) {
    do {
      out.push_back(read_job(row));
    } while (st.fetch());
  }
  return out;
}

std::size_t prune(soci::session& sql, long long done_cutoff, long long failed_cutoff, int n) {
  std::vector<std::string> ids;
  soci::rowset<std::string> rows =
      (sql.prepare << prune_select_sql, use(done_cutoff), use(failed_cutoff), use(n));
  for (auto const& id : rows) ids.push_back(id);
  for (auto const& id : ids) {
    core::execute(sql, prune_attempts_sql, id);
    core::execute(sql, prune_job_sql, id);
  }
  return ids.size();
}

std::vector<Depth> depth(soci::session& sql) {
  std::vector<Depth> out;
  soci::rowset<soci::row> rows = (sql.prepare << depth_sql);
  for (auto const& r : rows) {
    out.push_back(
        {db::get_text(r, 0), status_of(db::get_text(r, 1)).value_or(Status::queued), db::get_int(r, 2)});
  }
  return out;
}

std::optional<long long> oldest_due(soci::session& sql, long long now) {
  long long oldest = 0;
  soci::indicator ind = soci::i_null;
  sql << oldest_due_sql, use(now), into(oldest, ind);
  if (ind == soci::i_null) return std::nullopt;
  return oldest;
}

}  // namespace bookspace::jobs
