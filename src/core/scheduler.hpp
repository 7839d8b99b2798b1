#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace soci {
class session;
}

namespace bookspace::core {

class Counter;
class Database;
class Histogram;
class Logger;
class Metrics;

/// Background work that runs now and then — pruning, purging, checkpoints, sweeps — on one
/// thread of its own with a database connection of its own, so that it never occupies an io
/// thread or the request pool. Periodic tasks run every `interval` (± `jitter`, so instances
/// sharing a database spread out); delayed tasks run once. A task that throws is logged and
/// retried after a back-off (1 s doubling, at most its interval), and counted. Metrics per
/// task: `scheduler_task_runs_total{task}`, `scheduler_task_failures_total{task}`,
/// `scheduler_task_seconds{task}`.
///
/// Tasks run one at a time in due order; a long task (a big purge) works in batches and checks
/// stopping() between them. cancel() waits for a running task to finish, so a module's stop()
/// cancels its tasks before anything they use goes away; stop() (after every module stopped)
/// ends the thread.
class Scheduler {
 public:
  using Work = std::function<void(soci::session& sql)>;
  using Id = std::uint64_t;

  struct Periodic {
    std::string name;  ///< "documents.trash_purge": the metric label and log field
    std::chrono::milliseconds interval;
    double jitter = 0.1;        ///< fraction of the interval, either way
    bool run_at_start = false;  ///< first run right away rather than after one interval
    Work work;
  };

  Scheduler(Database& db, Logger& log, Metrics& metrics);
  ~Scheduler();
  Scheduler(Scheduler const&) = delete;
  Scheduler& operator=(Scheduler const&) = delete;

  Id every(Periodic task);
  Id after(std::string name, std::chrono::milliseconds delay, Work work);
  /// Removes the task; if it is running, waits until it has finished.
  void cancel(Id id);

  void start();
  /// Ends the thread after the running task (if any). Tasks not cancelled are dropped.
  void stop();
  /// True once stop() or cancel() of the running task began: long tasks end their loop early.
  bool stopping() const;

 private:
  struct Task;
  void run();
  std::chrono::steady_clock::time_point next_due(Task const& task, bool failed);
  Id add(std::shared_ptr<Task> task,
         std::function<std::chrono::steady_clock::time_point(Task const&)> const& first_due);

  Database& db_;
  Logger& log_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::vector<std::shared_ptr<Task>> tasks_;
  Id next_id_ = 1;
  Id running_ = 0;
  bool cancel_running_ = false;
  bool stopping_ = false;
  bool started_ = false;
  std::minstd_rand random_;
  std::thread thread_;
};

}  // namespace bookspace::core
