#include "core/scheduler.hpp"

#include "core/database.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/prepared.hpp"

#include <soci/soci.h>

#include <algorithm>

namespace bookspace::core {

using Clock = std::chrono::steady_clock;

struct Scheduler::Task {
  Id id = 0;
  std::string name;
  std::chrono::milliseconds interval{0};  ///< 0: runs once
  double jitter = 0;
  Work work;
  Clock::time_point due;
  int failures = 0;
  Counter* runs = nullptr;
  Counter* errors = nullptr;
  Histogram* seconds = nullptr;
};

Scheduler::Scheduler(Database& db, Logger& log, Metrics& metrics)
    : db_(db), log_(log), metrics_(metrics), random_(std::random_device{}()) {}

Scheduler::~Scheduler() {
  stop();
}

Scheduler::Id Scheduler::every(Periodic periodic) {
  auto task = std::make_shared<Task>();
  task->name = std::move(periodic.name);
  task->interval = std::max(periodic.interval, std::chrono::milliseconds(1));
  task->jitter = std::clamp(periodic.jitter, 0.0, 0.5);
  task->work = std::move(periodic.work);
  const bool now = periodic.run_at_start;
  return add(std::move(task), [this, now](Task const& t) { return now ? Clock::now() : next_due(t, false); });
}

Scheduler::Id Scheduler::after(std::string name, std::chrono::milliseconds delay, Work work) {
  auto task = std::make_shared<Task>();
  task->name = std::move(name);
  task->work = std::move(work);
  return add(std::move(task), [delay](Task const&) { return Clock::now() + delay; });
}

Scheduler::Id Scheduler::add(std::shared_ptr<Task> task,
                             std::function<Clock::time_point(Task const&)> const& first_due) {
  const std::string labels = "task=\"" + Metrics::escape(task->name) + "\"";
  task->runs = &metrics_.counter("scheduler_task_runs_total", "Background task runs.", labels);
  task->errors =
      &metrics_.counter("scheduler_task_failures_total", "Background task runs that failed.", labels);
  task->seconds = &metrics_.histogram("scheduler_task_seconds", "Time of one background task run.", labels);
  std::lock_guard lock(mutex_);
  task->id = next_id_++;
  task->due = first_due(*task);
  const Id id = task->id;
  tasks_.push_back(std::move(task));
  wake_.notify_one();
  return id;
}

void Scheduler::cancel(Id id) {
  std::unique_lock lock(mutex_);
  std::erase_if(tasks_, [&](auto const& t) { return t->id == id; });
  if (running_ == id) {
    cancel_running_ = true;
    idle_.wait(lock, [&] { return running_ != id; });
    cancel_running_ = false;
  }
}

bool Scheduler::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_ || cancel_running_;
}

void Scheduler::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!started_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::lock_guard lock(mutex_);
  started_ = false;
  tasks_.clear();
}

Clock::time_point Scheduler::next_due(Task const& task, bool failed) {
  if (failed) {
    // 1 s, 2 s, 4 s… but never later than the task's own interval.
    auto backoff = std::chrono::milliseconds(1000) * (1 << std::min(task.failures - 1, 16));
    backoff =
        std::min(backoff, task.interval.count() > 0 ? task.interval : std::chrono::milliseconds(60'000));
    return Clock::now() + backoff;
  }
  auto wait = task.interval;
  if (task.jitter > 0) {
    std::uniform_real_distribution<double> spread(-task.jitter, task.jitter);
    wait += std::chrono::milliseconds(
        static_cast<long long>(static_cast<double>(task.interval.count()) * spread(random_)));
  }
  return Clock::now() + wait;
}

void Scheduler::run() {
  std::unique_ptr<Session> sql;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = std::min_element(tasks_.begin(), tasks_.end(),
                                 [](auto const& a, auto const& b) { return a->due < b->due; });
    if (next == tasks_.end()) {
      wake_.wait(lock);
      continue;
    }
    if (const auto due = (*next)->due; due > Clock::now()) {
      wake_.wait_until(lock, due);  // a copy: cancel() may free the task while this waits
      continue;                     // re-read: a task may have been added, cancelled or become due
    }
    std::shared_ptr<Task> task = *next;
    running_ = task->id;
    lock.unlock();

    const auto started = Clock::now();
    bool failed = false;
    try {
      if (!sql) sql = open_session(parse_database_url(db_.options().url), db_.options());
      task->work(*sql);
    } catch (std::exception const& e) {
      failed = true;
      sql.reset();  // reconnect for the next task: the failure may have been the connection
      log_.warn("background task failed", {{"task", task->name}, {"error", e.what()}});
    }
    task->runs->inc();
    task->seconds->observe(std::chrono::duration<double>(Clock::now() - started).count());
    if (failed) task->errors->inc();

    lock.lock();
    running_ = 0;
    idle_.notify_all();
    task->failures = failed ? task->failures + 1 : 0;
    const bool still_listed = std::find(tasks_.begin(), tasks_.end(), task) != tasks_.end();
    if (still_listed) {
      if (task->interval.count() > 0 || failed)
        task->due = next_due(*task, failed);
      else
        std::erase(tasks_, task);  // a delayed task that ran
    }
  }
}

}  // namespace bookspace::core
