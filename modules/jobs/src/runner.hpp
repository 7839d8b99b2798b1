#pragma once

// The workers of one instance: a control thread that claims due jobs with a lease, records
// outcomes, beats the heart of the leases it holds and rescues expired ones — each round in one
// short transaction on a connection of its own — and `workers` threads that run the handlers.
// See docs/modules/jobs.md, "How a job runs".

#include "queue.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace bookspace::core {
class Clock;
class Counter;
class Database;
class EventLog;
class Histogram;
class Logger;
class Metrics;
class Session;
class Tx;
}  // namespace bookspace::core

namespace bookspace::jobs {

struct RunnerSettings {
  int workers = 4;                          ///< handler threads (0: this instance runs no jobs)
  int claim_batch = 32;                     ///< jobs claimed per round at most
  std::chrono::milliseconds lease{30'000};  ///< a heartbeat renews it every lease / 3
  std::chrono::milliseconds poll{1'000};    ///< looks for due jobs without a wake-up this often
  std::int64_t backoff_base_ms = 1'000;
  std::int64_t backoff_cap_ms = 3'600'000;
};

struct RunnerDeps {
  core::Database& db;
  core::EventLog& events;
  core::Clock const& clock;
  core::Logger& log;
  core::Metrics& metrics;
  QueueImpl const& queue;
  std::string worker_id;  ///< this instance's name on the leases it takes
};

class Runner {
 public:
  Runner(RunnerDeps deps, RunnerSettings settings);
  ~Runner();
  Runner(Runner const&) = delete;
  Runner& operator=(Runner const&) = delete;

  void start();
  /// Something may have become due (a commit here or on another instance).
  void wake();
  /// The job was asked to cancel (POST /jobs/{id}/cancel here): if it runs here, its handler
  /// sees cancelled() at once instead of at the next heartbeat.
  void cancel_local(std::string const& id);
  /// Stops claiming; waits up to `drain` for running handlers, then tells the rest to stop
  /// (cancelled() turns true) and gives their jobs back to the queue for another instance.
  void stop(std::chrono::milliseconds drain);

  std::string const& worker_id() const { return deps_.worker_id; }

  struct Running;  ///< a job in this process (runner.cpp)
  struct Outcome;

 private:
  std::size_t capacity() const;
  void control();
  void work(std::size_t index);
  bool round(core::Session& sql, bool claim);
  void record_successes(core::Tx& tx, std::vector<Outcome> const& outcomes, long long now);
  void record(core::Tx& tx, Outcome const& outcome, long long now);
  void observe(Outcome const& outcome);
  void heartbeat(core::Session& sql, bool renew);
  void dispatch(std::vector<std::shared_ptr<Running>> const& claimed);

  RunnerDeps deps_;
  RunnerSettings settings_;
  core::Counter& runs_;
  core::Counter& retries_;
  core::Counter& failures_;
  core::Counter& rescued_;
  core::Counter& claimed_;
  core::Histogram& round_seconds_;

  std::mutex mutex_;
  std::condition_variable control_cv_;  ///< the control thread: outcomes, wake-ups, stop
  std::condition_variable work_cv_;     ///< the workers: jobs to run, stop
  std::condition_variable idle_cv_;     ///< stop(): a handler returned
  std::size_t running_ = 0;             ///< handlers running now
  bool woken_ = true;
  bool stopping_ = false;  ///< no more claims
  bool workers_done_ = false;
  std::deque<std::shared_ptr<Running>> ready_;                      ///< claimed, not started
  std::vector<Outcome> outcomes_;                                   ///< finished, not recorded
  std::unordered_map<std::string, std::shared_ptr<Running>> held_;  ///< leases this instance holds
  std::map<std::string, core::Histogram*> run_seconds_;             ///< by type; control thread only
  std::vector<std::string> handled_;  ///< the types it claims: those a module here handles (start)
  std::thread control_;
  std::vector<std::thread> workers_;
};

}  // namespace bookspace::jobs
