#pragma once

#include "core/clock.hpp"
#include "core/database.hpp"
#include "core/event.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace bookspace::core {

class EventListener;
class IdGenerator;
class Logger;

struct EventLogOptions {
  int poll_interval_ms = 500;      ///< how often consumers look for other processes' events
  int batch_size = 100;            ///< events per consumer transaction
  int max_backoff_ms = 30'000;     ///< cap of the retry delay after a handler failure
  int retention_hours = 168;       ///< kept this long after every consumer has passed them
  int prune_interval_ms = 60'000;  ///< how often old events are pruned (a scheduler task)
  /// A consumer of some types stores its offset past the other types' events at least this
  /// often, so that pruning is not held back by events it never reads.
  int idle_advance_ms = 10'000;
  bool listen = true;  ///< PostgreSQL: LISTEN for other instances' commits
};

/// What a consumer has processed, for /metrics and operators.
struct ConsumerStatus {
  std::string consumer;
  std::int64_t seq = 0;
  std::int64_t lag = 0;  ///< events after `seq`
  int failures = 0;      ///< consecutive failures of the current batch
  std::string last_error;
};

/// The in-process bus that survives crashes (see docs/architecture.md, "Event log").
///
/// - publish() appends inside the caller's transaction: the event exists iff the change does.
/// - Named consumers keep an offset in the database and see every event in order, at least
///   once; a handler runs in the same transaction as the offset update, so a handler whose
///   effects are in the database sees each event once in effect.
/// - After a commit the local consumers are woken at once; on PostgreSQL, NOTIFY wakes the other
///   instances; polling covers everything else (SQLite across processes).
class EventLog {
 public:
  using Handler = EventHandler;
  using Types = EventTypes;

  EventLog(Database& db, Clock const& clock, IdGenerator& ids, Logger& log, EventLogOptions options);
  ~EventLog();

  /// Appends an event within `tx`; returns its id. Consumers are woken after COMMIT.
  std::string publish(Tx& tx, std::string_view type, std::string_view aggregate_id,
                      boost::json::value const& payload);

  /// How a consumer runs.
  struct ConsumerOptions {
    /// Woken by a commit, it first waits this long (commits meanwhile do not cut it short), so
    /// that one transaction handles everything committed in that time: a consumer whose
    /// per-batch work is heavy (the search index's segment per transaction) trades this much
    /// freshness for far less work per event under load. 0: each wake-up at once.
    std::chrono::milliseconds gather{0};
    /// Around each batch, in its transaction: `begin` before the first event's handler, `end`
    /// after the last — also when a handler threw (the transaction is then rolled back).
    std::function<void(Tx&)> begin, end;
  };
  /// Registers a named consumer; call before start(). Names are unique.
  void subscribe(std::string consumer, Types types, Handler handler, ConsumerOptions options);
  void subscribe(std::string consumer, Types types, Handler handler) {
    subscribe(std::move(consumer), std::move(types), std::move(handler), ConsumerOptions{});
  }

  using WatchHandler = core::WatchHandler;
  /// Registers a per-process tail of the log, for caches and live notifications: no stored
  /// offset and no transaction; it starts at the end of the log when start() runs and then
  /// sees every event committed by any process, in order, soon after its commit (at once for
  /// this process's commits; via NOTIFY or polling for others'). Call before start().
  /// With `replay_since` (ms since the epoch) it starts instead at the first event still in the
  /// log that occurred at or after that time: a cache rebuilt from events (auth's revocations in
  /// a process without auth) sees what happened before the process started; those events are
  /// handed to `handler` within start(), on the calling thread.
  void watch(std::string name, Types types, WatchHandler handler,
             std::optional<std::int64_t> replay_since = std::nullopt);
  /// A watch that has nobody to tell (a live-update hub with no connection): while `idle()`
  /// is true it reads no event, it only moves its offset to the end of the log — to the last
  /// event this process committed when that is past it, so most commits cost it no read at
  /// all. `idle()` is asked after the end was read, so an event it skips was committed while
  /// nobody who is there now was there. Called on the watch's strand and the pool.
  void watch(std::string name, Types types, WatchHandler handler, std::function<bool()> idle);

  /// A wake-up without an event, for work queues kept in their own tables (jobs): once `tx`
  /// commits, every on_signal(channel) handler of this process runs, and on PostgreSQL those of
  /// the other instances too (a NOTIFY with the channel as payload, sent by the listener's
  /// connection after the commit — not inside the transaction, where it would serialise every
  /// committing transaction on NOTIFY's database-wide lock). Channels are [a-z0-9._].
  void signal(Tx& tx, std::string_view channel);

  /// Keeps `consumer` from running until `tx` ends (waiting for a batch it is in): work that
  /// writes what the consumer writes — a rebuild of its state — then never interleaves with a
  /// batch. On SQLite every writing transaction excludes the others already.
  void hold_consumer(Tx& tx, std::string const& consumer);
  /// Registers `handler` for signal(…, channel) from any instance; call before start(). It runs
  /// on the committing thread or the listener's, so it only flags work (a condition variable).
  /// It also runs whenever the listener (re)connects: signals may have been missed meanwhile.
  void on_signal(std::string channel, std::function<void()> handler);

  /// Starts the consumers, the pruner and (PostgreSQL) the listener on `io`, which must outlive
  /// this EventLog (its timers belong to `io`).
  void start(boost::asio::io_context& io);
  /// Stops them; returns once every consumer finished its current batch.
  void stop();
  /// Wakes the local consumers now.
  void wake();
  /// Wakes the local consumers of `type`.
  void wake(std::string_view type);

  /// Every consumer known to the database (also other processes' and disabled ones').
  std::vector<ConsumerStatus> status(soci::session& sql) const;
  /// Deletes events all consumers have passed and that are older than the retention.
  std::size_t prune(soci::session& sql) const;
  /// Consumer handler failures since start, all consumers together.
  std::uint64_t failures_total() const { return failures_total_.load(); }

  struct Tail;  ///< a consumer or a watch: its loop (event_log.cpp)

 private:
  Database& db_;
  Clock const& clock_;
  IdGenerator& ids_;
  Logger& log_;
  EventLogOptions options_;
  void fire(std::string_view channel) const;
  void fire_all() const;

  std::vector<std::shared_ptr<Tail>> consumers_;
  std::vector<std::pair<std::string, std::function<void()>>> signal_handlers_;
  std::mutex listener_mutex_;  ///< listener_ is read by commit hooks on any thread
  std::unique_ptr<EventListener> listener_;
  std::atomic<std::uint64_t> failures_total_{0};
  /// The seq of the last event this process committed (idle watches skip to it).
  std::atomic<std::int64_t> committed_head_{0};
  bool started_ = false;
};

}  // namespace bookspace::core
