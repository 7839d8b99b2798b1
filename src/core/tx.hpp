#pragma once

// A transaction as a handler sees it, apart from the pool that runs it (core/database.hpp): what
// the group commit, the event log and the modules' stores need, without the pool.

#include <functional>
#include <string_view>
#include <vector>

namespace soci {
class session;
}

namespace bookspace::core {

enum class Dialect { sqlite, postgresql };

/// Runs a script of one or more statements through the native driver.
void exec_script(soci::session& sql, Dialect dialect, std::string_view script);
/// SQLite: runs one statement without results, compiled once per connection and kept (the
/// constant's address is the key, as core::prepared): for the statements every group commit
/// runs per transaction (SAVEPOINT, RELEASE), which exec_script would compile each time.
void exec_sqlite_kept(soci::session& sql, std::string_view const& statement);
/// SQLite: after every commit on `sql`, the frames in the WAL are stored in `*frames` (a WAL
/// hook; SQLite's own automatic checkpoints use the same hook, so they stop).
void track_wal_frames(soci::session& sql, int* frames);

/// A transaction in progress. Hooks registered with on_commit run after COMMIT succeeded.
class Tx {
 public:
  Tx(soci::session& sql, Dialect dialect) : sql(sql), dialect(dialect) {}
  soci::session& sql;
  const Dialect dialect;
  /// Set by EventLog::publish once this transaction holds the publish lock and has queued its
  /// NOTIFY (PostgreSQL): later events of the same transaction need neither again.
  bool publishing = false;
  void on_commit(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }
  /// Runs the hooks, in order (once the transaction committed).
  void run_commit_hooks() {
    for (auto& hook : hooks_) hook();
  }

 private:
  friend void run_transaction(soci::session&, Dialect, std::function<void(Tx&)> const&);
  std::vector<std::function<void()>> hooks_;
};

/// BEGIN (IMMEDIATE on SQLite, so writers queue on the lock instead of failing on upgrade),
/// the body, COMMIT, then the commit hooks. Any exception rolls back and is rethrown.
void run_transaction(soci::session& sql, Dialect dialect, std::function<void(Tx&)> const& body);

}  // namespace bookspace::core
