#include "runner.hpp"

#include "rules.hpp"
#include "store.hpp"

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/event_log.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/prepared.hpp"

#include <bookspace/jobs/events.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <random>

namespace bookspace::jobs {

using Clock = std::chrono::steady_clock;
namespace json = boost::json;

namespace {

constexpr auto progress_interval = std::chrono::milliseconds(250);

std::unique_ptr<core::Session> connect(core::Database& db) {
  return core::open_session(core::parse_database_url(db.options().url), db.options());
}

double unit_random() {
  thread_local std::minstd_rand engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

/// A job held by this instance, and the context its handler sees.
struct Runner::Running final : JobContext {
  Job job;
  json::object payload_object;
  RegisteredType const* registered = nullptr;
  Clock::time_point deadline_at;
  Clock::time_point started;
  std::atomic<bool> cancel_asked{false};  ///< POST /jobs/{id}/cancel
  std::atomic<bool> shutdown{false};      ///< the drain is over: give it back
  mutable std::atomic<bool> saw_cancel{false};
  std::atomic<int> progress{0};
  int stored_progress = 0;  ///< control thread only
  std::unique_ptr<core::Session>* worker_session = nullptr;
  core::Database* db = nullptr;

  std::string const& id() const override { return job.id; }
  std::string const& type() const override { return job.type; }
  std::string const& owner_id() const override { return job.owner_id; }
  json::object const& payload() const override { return payload_object; }
  int attempt() const override { return job.attempts; }
  void report_progress(int percent) override { progress.store(std::clamp(percent, 0, 100)); }
  bool cancelled() const override {
    const bool yes = cancel_asked.load() || shutdown.load() || Clock::now() > deadline_at;
    if (yes) saw_cancel.store(true);
    return yes;
  }
  Clock::time_point deadline() const override { return deadline_at; }
  soci::session& sql() override {
    if (!*worker_session) *worker_session = connect(*db);
    return **worker_session;
  }
};

struct Runner::Outcome {
  enum class Kind { succeeded, failed, timed_out, cancelled, released };
  std::shared_ptr<Running> job;
  Kind kind = Kind::succeeded;
  std::string text;  ///< the result (JSON) or the error
};

Runner::Runner(RunnerDeps deps, RunnerSettings settings)
    : deps_(std::move(deps)),
      settings_(settings),
      runs_(deps_.metrics.counter("jobs_attempts_total", "Job attempts that ended, by outcome.",
                                  "outcome=\"succeeded\"")),
      retries_(deps_.metrics.counter("jobs_attempts_total", "Job attempts that ended, by outcome.",
                                     "outcome=\"retried\"")),
      failures_(deps_.metrics.counter("jobs_attempts_total", "Job attempts that ended, by outcome.",
                                      "outcome=\"dead\"")),
      rescued_(deps_.metrics.counter("jobs_leases_expired_total",
                                     "Running jobs queued again because their worker stopped answering.")),
      claimed_(deps_.metrics.counter("jobs_claimed_total", "Jobs this instance claimed.")),
      round_seconds_(deps_.metrics.histogram(
          "jobs_round_seconds", "Queue rounds (record outcomes and claim, one transaction each).")) {}

Runner::~Runner() {
  stop(std::chrono::milliseconds(0));
}

std::size_t Runner::capacity() const {
  // Workers busy plus a claim's worth waiting: the next jobs are here when a worker frees up.
  return static_cast<std::size_t>(settings_.workers) + static_cast<std::size_t>(settings_.claim_batch);
}

void Runner::start() {
  if (settings_.workers <= 0 || control_.joinable()) return;
  // Only what a module here handles: in a split deployment another instance runs the rest.
  for (auto const& t : deps_.queue.types()) handled_.push_back(t.type);
  if (handled_.empty()) return;
  control_ = std::thread([this] { control(); });
  for (int i = 0; i < settings_.workers; ++i)
    workers_.emplace_back([this, i] { work(static_cast<std::size_t>(i)); });
}

void Runner::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  control_cv_.notify_one();
}

void Runner::cancel_local(std::string const& id) {
  std::lock_guard lock(mutex_);
  if (auto it = held_.find(id); it != held_.end()) it->second->cancel_asked = true;
}

void Runner::stop(std::chrono::milliseconds drain) {
  if (!control_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& r : ready_) outcomes_.push_back({r, Outcome::Kind::released, {}});
    ready_.clear();
  }
  work_cv_.notify_all();
  control_cv_.notify_all();
  {
    std::unique_lock lock(mutex_);
    const auto until = Clock::now() + drain;
    idle_cv_.wait_until(lock, until, [&] { return running_ == 0; });
    for (auto& [id, r] : held_) r->shutdown = true;  // still running: give them back
  }
  for (auto& t : workers_) t.join();
  workers_.clear();
  {
    std::lock_guard lock(mutex_);
    workers_done_ = true;
  }
  control_cv_.notify_all();
  control_.join();
}

void Runner::work(std::size_t) {
  std::unique_ptr<core::Session> session;  // opened when a handler first asks for it
  for (;;) {
    std::shared_ptr<Running> r;
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (ready_.empty()) return;
      r = std::move(ready_.front());
      ready_.pop_front();
      ++running_;
    }
    r->worker_session = &session;
    r->started = Clock::now();
    r->deadline_at = r->started + r->registered->options.timeout;
    Outcome out{r, Outcome::Kind::succeeded, {}};
    bool threw = false;
    try {
      auto result = r->registered->handler(*r);
      // `result` is an object or null (API.md's Job); a bare value is wrapped.
      if (!result.is_object() && !result.is_null()) result = json::object{{"value", std::move(result)}};
      out.text = json::serialize(result);
    } catch (std::exception const& e) {
      threw = true;
      out.text = bounded_error(e.what());
    } catch (...) {
      threw = true;
      out.text = "the handler threw a non-standard exception";
    }
    const bool overdue = Clock::now() > r->deadline_at;
    if (r->cancel_asked) {
      out.kind = Outcome::Kind::cancelled;
    } else if (r->shutdown && (threw || r->saw_cancel)) {
      out.kind = Outcome::Kind::released;
    } else if (overdue && (threw || r->saw_cancel)) {
      out.kind = Outcome::Kind::timed_out;
      out.text = bounded_error("timed out after " + std::to_string(r->registered->options.timeout.count()) +
                               " ms" + (threw ? ": " + out.text : std::string()));
    } else if (threw) {
      out.kind = Outcome::Kind::failed;
    }
    {
      std::lock_guard lock(mutex_);
      outcomes_.push_back(std::move(out));
      --running_;
    }
    control_cv_.notify_one();
    idle_cv_.notify_all();
  }
}

void Runner::control() {
  std::unique_ptr<core::Session> session;
  const auto capacity = this->capacity();
  const auto heartbeat_every = settings_.lease / 3;
  const auto rescue_every = settings_.lease / 2;
  auto next_poll = Clock::now();
  auto next_heartbeat = Clock::now() + heartbeat_every;
  auto next_rescue = Clock::now();
  auto next_progress = Clock::now() + progress_interval;
  auto failure_pause = std::chrono::milliseconds(100);
  for (;;) {
    bool claim = false, beat = false, rescue = false, progress = false, record = false;
    {
      std::unique_lock lock(mutex_);
      const auto due = std::min({next_poll, next_heartbeat, next_rescue, next_progress});
      control_cv_.wait_until(lock, due, [&] {
        return !outcomes_.empty() || (woken_ && !stopping_ && held_.size() < capacity) ||
               (stopping_ && workers_done_);
      });
      if (stopping_ && workers_done_ && outcomes_.empty()) break;
      const auto now = Clock::now();
      record = !outcomes_.empty();
      claim = !stopping_ && held_.size() < capacity && (woken_ || now >= next_poll);
      beat = now >= next_heartbeat && !held_.empty();
      rescue = !stopping_ && now >= next_rescue;
      progress = now >= next_progress && !held_.empty();
      if (claim) woken_ = false;
      // Every deadline that has come moves on, used or not: a full runner (no room to claim)
      // or a stopping one must wait for the next event, not spin on a past deadline.
      if (claim || now >= next_poll) next_poll = now + settings_.poll;
      if (now >= next_heartbeat) next_heartbeat = now + heartbeat_every;
      if (now >= next_rescue) next_rescue = now + rescue_every;
      if (now >= next_progress) next_progress = now + progress_interval;
    }
    try {
      if (!session) session = connect(deps_.db);
      if (record || claim) {
        if (round(*session, claim)) wake();  // a full batch: there may be more due
      }
      if (beat || progress) heartbeat(*session, beat);
      if (rescue) {
        const long long now = deps_.clock.now_ms();
        std::size_t n = 0;
        core::run_transaction(*session, deps_.db.dialect(),
                              [&](core::Tx& tx) { n = requeue_expired(tx.sql, now); });
        if (n > 0) {
          rescued_.inc(n);
          deps_.log.warn("jobs whose worker stopped answering were queued again", {{"jobs", n}});
          wake();
        }
      }
      failure_pause = std::chrono::milliseconds(100);
    } catch (std::exception const& e) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_ && workers_done_) {
          // Shutting down with the database unreachable: what is unrecorded runs again once
          // its lease expires (at least once).
          deps_.log.error("jobs: outcomes not recorded at shutdown; their jobs run again after the lease",
                          {{"error", e.what()}, {"jobs", outcomes_.size()}});
          break;
        }
      }
      deps_.log.error("jobs: a queue round failed; retrying", {{"error", e.what()}});
      session.reset();  // a broken connection is opened anew
      std::unique_lock lock(mutex_);
      control_cv_.wait_for(lock, failure_pause, [&] { return stopping_ && workers_done_; });
      failure_pause = std::min(failure_pause * 2, std::chrono::milliseconds(5'000));
      woken_ = true;
    }
  }
}

bool Runner::round(core::Session& sql, bool claim) {
  const auto began = Clock::now();
  std::vector<Outcome> outcomes;
  std::size_t want = 0;
  {
    std::lock_guard lock(mutex_);
    outcomes.swap(outcomes_);
    const auto capacity = this->capacity();
    // Outcomes about to be recorded free their places too.
    const std::size_t held_after = held_.size() - std::min(held_.size(), outcomes.size());
    if (claim && held_after < capacity)
      want = std::min(capacity - held_after, static_cast<std::size_t>(settings_.claim_batch));
  }
  const long long now = deps_.clock.now_ms();
  const long long lease_until = now + settings_.lease.count();
  std::vector<Job> claimed;
  try {
    core::run_transaction(sql, deps_.db.dialect(), [&](core::Tx& tx) {
      record_successes(tx, outcomes, now);
      for (auto const& o : outcomes) {
        if (o.kind != Outcome::Kind::succeeded) record(tx, o, now);
      }
      if (want > 0)
        claimed = claim_jobs(tx.sql, tx.dialect == core::Dialect::postgresql, deps_.worker_id, now,
                             lease_until, static_cast<int>(want), handled_);
    });
  } catch (...) {
    std::lock_guard lock(mutex_);
    outcomes_.insert(outcomes_.begin(), std::make_move_iterator(outcomes.begin()),
                     std::make_move_iterator(outcomes.end()));
    throw;
  }
  round_seconds_.observe(std::chrono::duration<double>(Clock::now() - began).count());
  claimed_.inc(claimed.size());
  for (auto const& o : outcomes) observe(o);
  std::vector<std::shared_ptr<Running>> runs;
  for (auto& job : claimed) {
    auto r = std::make_shared<Running>();
    r->registered = deps_.queue.find(job.type);
    r->db = &deps_.db;
    r->started = Clock::now();
    r->deadline_at = Clock::time_point::max();
    try {
      r->payload_object = json::parse(job.payload).as_object();
    } catch (std::exception const&) {
      // stored by enqueue as an object; anything else fails the attempt below
    }
    r->job = std::move(job);
    runs.push_back(std::move(r));
  }
  dispatch(runs);
  std::lock_guard lock(mutex_);
  for (auto const& o : outcomes) held_.erase(o.job->job.id);
  return want > 0 && claimed.size() == want;
}

void Runner::dispatch(std::vector<std::shared_ptr<Running>> const& claimed) {
  std::vector<Outcome> unknown;
  {
    std::lock_guard lock(mutex_);
    for (auto& r : claimed) {
      held_[r->job.id] = r;
      if (!r->registered) {  // a type no module here handles (another version, a disabled module)
        outcomes_.push_back({r, Outcome::Kind::failed, "no handler for job type " + r->job.type});
      } else if (stopping_) {
        outcomes_.push_back({r, Outcome::Kind::released, {}});
      } else {
        ready_.push_back(r);
      }
    }
  }
  work_cv_.notify_all();
  control_cv_.notify_one();
}

void Runner::record_successes(core::Tx& tx, std::vector<Outcome> const& outcomes, long long now) {
  std::vector<std::pair<std::string, std::string>> done;
  std::unordered_map<std::string, Outcome const*> by_id;
  for (auto const& o : outcomes) {
    if (o.kind != Outcome::Kind::succeeded) continue;
    done.emplace_back(o.job->job.id, o.text);
    by_id[o.job->job.id] = &o;
  }
  if (done.empty()) return;
  for (auto const& id :
       finish_succeeded(tx.sql, tx.dialect == core::Dialect::postgresql, deps_.worker_id, now, done)) {
    auto const& o = *by_id.at(id);
    Job const& job = o.job->job;
    Succeeded e{{job.id, job.type, job.owner_id, job.attempts, now}, {}};
    e.result = json::parse(o.text);
    core::publish(deps_.events, tx, job.id, e);
    by_id.erase(id);
  }
  // A cancel answered 200 while the handler was finishing is honoured: the job ends cancelled
  // (what it made is undone by whoever follows jobs.cancelled.v1), never succeeded.
  for (auto const& [id, o] : by_id) {
    Job const& job = o->job->job;
    if (finish_cancelled(tx.sql, id, deps_.worker_id, now))
      core::publish(deps_.events, tx, job.id, Cancelled{{job.id, job.type, job.owner_id, job.attempts, now}});
  }
}

void Runner::record(core::Tx& tx, Outcome const& o, long long now) {
  Job const& job = o.job->job;
  auto const& w = deps_.worker_id;
  const Ended ended{job.id, job.type, job.owner_id, job.attempts, now};
  switch (o.kind) {
    case Outcome::Kind::succeeded:  // record_successes, in one batch
      return;
    case Outcome::Kind::failed:
    case Outcome::Kind::timed_out: {
      const std::string_view outcome = o.kind == Outcome::Kind::failed ? "failed" : "timed_out";
      std::optional<long long> retry_at;
      if (job.attempts < job.max_attempts)
        retry_at = now + backoff_ms(job.attempts, settings_.backoff_base_ms, settings_.backoff_cap_ms,
                                    unit_random());
      if (!finish_failed(tx.sql, job.id, w, now, o.text, outcome, retry_at)) return;
      if (!retry_at) core::publish(deps_.events, tx, job.id, Failed{ended, o.text});
      return;
    }
    case Outcome::Kind::cancelled:
      if (finish_cancelled(tx.sql, job.id, w, now)) core::publish(deps_.events, tx, job.id, Cancelled{ended});
      return;
    case Outcome::Kind::released:
      release(tx.sql, job.id, w, now);
      return;
  }
}

void Runner::observe(Outcome const& o) {
  Job const& job = o.job->job;
  switch (o.kind) {
    case Outcome::Kind::succeeded:
      runs_.inc();
      break;
    case Outcome::Kind::failed:
    case Outcome::Kind::timed_out:
      (job.attempts < job.max_attempts ? retries_ : failures_).inc();
      break;
    default:
      break;
  }
  if (o.kind == Outcome::Kind::released) return;
  auto& h = run_seconds_[job.type];
  if (!h) {
    h = &deps_.metrics.histogram("jobs_run_seconds", "How long job handlers ran, by type.",
                                 "type=\"" + core::Metrics::escape(job.type) + "\"");
  }
  h->observe(std::chrono::duration<double>(Clock::now() - o.job->started).count());
}

void Runner::heartbeat(core::Session& sql, bool renew) {
  std::vector<std::pair<std::shared_ptr<Running>, int>> moved;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, r] : held_) {
      const int p = r->progress.load();
      if (p != r->stored_progress) moved.emplace_back(r, p);
    }
  }
  if (!renew && moved.empty()) return;
  const long long now = deps_.clock.now_ms();
  std::vector<std::string> cancels;
  core::run_transaction(sql, deps_.db.dialect(), [&](core::Tx& tx) {
    heartbeat_leases(tx.sql, deps_.worker_id, now + settings_.lease.count());
    for (auto const& [r, p] : moved) set_progress(tx.sql, r->job.id, deps_.worker_id, p);
    cancels = cancel_requested(tx.sql, deps_.worker_id);
  });
  std::lock_guard lock(mutex_);
  for (auto const& [r, p] : moved) r->stored_progress = p;
  for (auto const& id : cancels) {
    if (auto it = held_.find(id); it != held_.end()) it->second->cancel_asked = true;
  }
}

}  // namespace bookspace::jobs
