#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace soci {
class session;
}

namespace bookspace::core {

class Session;
class Tx;
class Logger;

/// Group commit for SQLite: concurrent write transactions share one COMMIT, and so one fsync.
///
/// One writer thread with a connection of its own takes every transaction waiting, opens one
/// `BEGIN IMMEDIATE`, runs each as a `SAVEPOINT` (a transaction that fails is rolled back to its
/// savepoint alone and gets its error), then COMMITs the batch and only then answers every
/// transaction in it — "2xx means on disk" holds for each. While one batch commits, the next
/// gathers, so the batch grows with the load and the disk is synced once per batch instead of
/// once per request. SQLite has a single writer anyway; this makes its waiting productive.
///
/// The WAL stays bounded: passive checkpoints elsewhere copy pages back while writes go on, but
/// SQLite starts the WAL over only when a checkpoint has caught up with it, which never happens
/// under sustained writes. Past `wal_limit_bytes` the writer, between two batches, runs a
/// RESTART checkpoint (most pages are already copied back; it waits at most 200 ms for readers
/// to leave the WAL, else it tries again once the WAL has grown by a quarter of the limit).
class GroupCommitter {
 public:
  struct Job {
    std::function<void(Tx&)> body;
    /// Called on the writer thread after the batch committed (nullptr) or when this job or the
    /// commit failed (the error).
    std::function<void(std::exception_ptr)> done;
  };

  GroupCommitter(std::unique_ptr<Session> session, Logger& log, std::size_t max_queue,
                 std::int64_t wal_limit_bytes = 0, std::size_t max_batch = 128);
  ~GroupCommitter();
  GroupCommitter(GroupCommitter const&) = delete;
  GroupCommitter& operator=(GroupCommitter const&) = delete;

  /// Queues a transaction; false when the queue is full or the committer is stopping.
  bool submit(Job job);
  /// Commits what is queued, then ends the thread. Idempotent.
  void stop();
  std::size_t queued() const;
  /// Batches committed (or rolled back) and the transactions they held, since start.
  std::uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  std::uint64_t transactions() const { return transactions_.load(std::memory_order_relaxed); }

 private:
  void run();
  void commit_batch(std::deque<Job>& batch);
  void bound_wal();

  std::unique_ptr<Session> session_;
  Logger& log_;
  const std::size_t max_queue_;
  const std::size_t max_batch_;
  int busy_timeout_ms_ = 5000;
  int wal_frames_ = 0;        ///< after the last commit (a WAL hook writes it, on this thread)
  int wal_limit_frames_ = 0;  ///< 0: unbounded
  int wal_next_restart_ = 0;  ///< frames at which the next RESTART is tried
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> batches_{0}, transactions_{0};
  std::thread thread_;
};

}  // namespace bookspace::core
