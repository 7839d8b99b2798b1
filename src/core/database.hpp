#pragma once

#include "core/async.hpp"
#include "core/tx.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace soci {
class session;
}

namespace bookspace::core {

class Logger;
class GroupCommitter;
class Session;

std::string_view to_string(Dialect dialect);

struct DatabaseOptions {
  std::string url;               ///< sqlite:///abs/path.db, sqlite://rel/path.db, postgresql://…
  std::size_t pool_size = 4;     ///< connections = worker threads
  std::size_t max_queue = 4096;  ///< queued calls before 503 overloaded
  /// SQLite: transaction() goes through one writer that commits concurrent transactions
  /// together (GroupCommitter), and WAL checkpoints are left to checkpoint() (automatic ones
  /// off), so neither stalls a request.
  bool sqlite_group_commit = false;
  int sqlite_cache_kib = 2000;  ///< SQLite page cache per connection (SQLite's default is 2,000 KiB)
  int busy_timeout_ms = 5000;   ///< SQLite: how long a writer waits for the lock
  std::string sqlite_synchronous = "FULL";
  /// SQLite with group commit: past this many MiB the writer restarts the WAL from its start
  /// (under sustained writes passive checkpoints never catch up, and the WAL would grow without
  /// end); also the size the WAL file is cut back to. 0: no bound.
  int sqlite_wal_limit_mib = 128;
};

/// Where a database URL points.
struct DatabaseUrl {
  Dialect dialect;
  std::string target;  ///< SQLite file path, or the libpq connection URI
};
/// Throws std::invalid_argument with a reason for anything that is neither sqlite nor postgresql.
DatabaseUrl parse_database_url(std::string_view url);
/// "postgresql://u:p@h:5432/db?sslmode=require" → "host='h' port='5432' user='u' …".
std::string libpq_conninfo(std::string_view url);
/// The URL with any password replaced by "***".
std::string redact_database_url(std::string_view url);

/// Opens one connection, configured as the pool's are (SQLite pragmas).
/// Every connection of the process is made here (a core::Session: core/prepared.hpp).
std::unique_ptr<Session> open_session(DatabaseUrl const& url, DatabaseOptions const& options);

/// A pool of connections, each owned by one worker thread. Handlers await it:
/// `auto n = co_await db.run([&](soci::session& s) { … });`
class Database {
 public:
  Database(DatabaseOptions options, Logger& log);
  ~Database();

  Dialect dialect() const { return url_.dialect; }
  DatabaseOptions const& options() const { return options_; }
  WorkerPool& pool() { return *pool_; }

  template <class F>
  auto run(F f) -> Awaitable<std::invoke_result_t<F&, soci::session&>> {
    return run_in(*pool_, [this, f = std::move(f)](std::size_t worker) mutable {
      try {
        return f(session_for(worker));
      } catch (...) {
        rethrow_mapped(worker);
      }
    });
  }

  template <class F>
  auto transaction(F f) -> Awaitable<std::invoke_result_t<F&, Tx&>> {
    using R = std::invoke_result_t<F&, Tx&>;
    if (committer_) {
      if constexpr (std::is_void_v<R>) {
        co_await run_grouped([&f](Tx& tx) { f(tx); });
      } else {
        std::optional<R> result;
        co_await run_grouped([&f, &result](Tx& tx) { result.emplace(f(tx)); });
        co_return std::move(*result);
      }
    } else {
      co_return co_await run_in(*pool_, [this, f = std::move(f)](std::size_t worker) mutable {
        try {
          return in_transaction(session_for(worker), f);
        } catch (...) {
          rethrow_mapped(worker);
        }
      });
    }
  }

  /// SQLite with group commit: a passive WAL checkpoint on `sql` (the scheduler's connection);
  /// pages are copied back while writers go on. Returns the WAL frames still not checkpointed.
  int checkpoint(soci::session& sql);
  bool background_checkpoints() const { return committer_ != nullptr; }
  /// SQLite with group commit: {batches committed, transactions in them} since start; {0, 0}
  /// otherwise.
  std::pair<std::uint64_t, std::uint64_t> group_commits() const;

  /// Queues `work` on the pool without waiting for it: for what a request starts but need not
  /// see finish (its answer must not depend on, or reveal, what the work finds). An exception
  /// is logged with `what`. False, and nothing queued, when the pool's queue is full.
  bool submit(std::string what, std::function<void(soci::session&)> work);

  /// Blocking: runs `f` on a pool connection and waits for it — for threads that may block
  /// (job handlers, scheduler tasks, CLI commands), never an io thread nor a pool thread. What
  /// it reads is committed state as of the call, outside any transaction of the caller.
  template <class F>
  auto run_waiting(F f) -> std::invoke_result_t<F&, soci::session&> {
    using R = std::invoke_result_t<F&, soci::session&>;
    if constexpr (std::is_void_v<R>) {
      wait_on_pool([&f](soci::session& sql) { f(sql); });
    } else {
      std::optional<R> result;
      wait_on_pool([&f, &result](soci::session& sql) { result.emplace(f(sql)); });
      return std::move(*result);
    }
  }

  /// Blocking call for start-up and CLI commands (never from an io thread).
  template <class F>
  auto run_blocking(F f) -> std::invoke_result_t<F&, soci::session&> {
    return f(spare_session());
  }

  template <class F>
  auto in_transaction(soci::session& sql, F& f) -> std::invoke_result_t<F&, Tx&> {
    using R = std::invoke_result_t<F&, Tx&>;
    if constexpr (std::is_void_v<R>) {
      run_transaction(sql, dialect(), [&](Tx& tx) { f(tx); });
    } else {
      std::optional<R> result;
      run_transaction(sql, dialect(), [&](Tx& tx) { result.emplace(f(tx)); });
      return std::move(*result);
    }
  }

  void stop();

  /// Called (on a pool thread) each time a statement fails because the disk is full; set before
  /// the pool is used (Application: the DiskGuard).
  void on_storage_full(std::function<void()> const& handler) { storage_full_ = handler; }

  /// The current exception, as a client should see it: a lost PostgreSQL connection becomes 503
  /// overloaded with Retry-After, a full disk 507 insufficient_storage; anything else as it is.
  /// `worker`: the pool connection it happened on (none: the group committer's).
  [[noreturn]] void rethrow_mapped(std::optional<std::size_t> worker = std::nullopt);

 private:
  soci::session& session_for(std::size_t worker);
  soci::session& spare_session();
  void wait_on_pool(std::function<void(soci::session&)> work);
  /// Runs `body` as one savepoint of the next group commit; resumes after the batch committed.
  Awaitable<void> run_grouped(std::function<void(Tx&)> body);

  DatabaseOptions options_;
  DatabaseUrl url_;
  Logger& log_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::unique_ptr<Session> spare_;  ///< for run_blocking, outside the pool
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<GroupCommitter> committer_;
  std::function<void()> storage_full_;
};

}  // namespace bookspace::core
