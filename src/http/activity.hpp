#pragma once

// Private to http/: a count of work in progress that the drain waits on.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace bookspace::http {

/// Requests in flight, open WebSockets: counted without a lock on the hot path; a thread may
/// wait (no polling) until the count is zero. The end of the last one notifies only when a
/// thread is waiting.
class Activity {
 public:
  /// Counts one in for the life of the scope.
  class Scope {
   public:
    explicit Scope(Activity& activity) : activity_(activity) { activity_.count_.fetch_add(1); }
    ~Scope() { activity_.end(); }
    Scope(Scope const&) = delete;
    Scope& operator=(Scope const&) = delete;

   private:
    Activity& activity_;
  };

  std::size_t count() const { return count_.load(); }

  /// True once the count is zero; false when `deadline` came first.
  bool wait_idle(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    waiting_.fetch_add(1);
    const bool idle = idle_.wait_until(lock, deadline, [&] { return count_.load() == 0; });
    waiting_.fetch_sub(1);
    return idle;
  }

 private:
  void end() {
    // seq_cst on both sides: a waiter that registered before this decrement is seen here, and
    // one that registers after it sees the count at zero.
    if (count_.fetch_sub(1) == 1 && waiting_.load() > 0) {
      std::lock_guard lock(mutex_);
      idle_.notify_all();
    }
  }

  std::atomic<std::size_t> count_{0};
  std::atomic<int> waiting_{0};
  std::mutex mutex_;
  std::condition_variable idle_;
};

}  // namespace bookspace::http
