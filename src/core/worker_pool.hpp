#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bookspace::core {

/// A fixed set of threads with a bounded queue, for blocking work (database calls, fsync,
/// password hashing) that must never run on an io thread. A full queue refuses new work
/// instead of growing: callers turn that into 503 + Retry-After.
class WorkerPool {
 public:
  /// A unit of work; it receives the index of the worker thread that runs it.
  class Task {
   public:
    template <class F>
    Task(F f) : impl_(std::make_unique<Impl<F>>(std::move(f))) {}
    void operator()(std::size_t worker) { impl_->run(worker); }

   private:
    struct Base {
      virtual ~Base() = default;
      virtual void run(std::size_t worker) = 0;
    };
    template <class F>
    struct Impl final : Base {
      explicit Impl(F f) : fn(std::move(f)) {}
      void run(std::size_t worker) override { fn(worker); }
      F fn;
    };
    std::unique_ptr<Base> impl_;
  };

  /// `nice` > 0 lowers the threads' scheduling priority (Linux: per thread), so that CPU-heavy
  /// work such as password hashing yields the cores to io and database threads.
  WorkerPool(std::string name, std::size_t threads, std::size_t max_queue, int nice = 0);
  ~WorkerPool();
  WorkerPool(WorkerPool const&) = delete;
  WorkerPool& operator=(WorkerPool const&) = delete;

  /// Queues the task; false when the queue is full or the pool is stopping.
  bool try_submit(Task task);
  /// Runs what is queued, then joins the threads. Idempotent.
  void stop();

  std::string const& name() const { return name_; }
  std::size_t threads() const { return threads_.size(); }
  std::size_t max_queue() const { return max_queue_; }
  std::size_t queued() const;
  std::size_t busy() const { return busy_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  void work(std::size_t index);

  std::string name_;
  std::size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::atomic<std::size_t> busy_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::vector<std::thread> threads_;
};

}  // namespace bookspace::core
