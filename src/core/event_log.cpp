#include "core/event_log.hpp"
#include "core/async_loop.hpp"
#include "core/event_listener.hpp"
#include "core/event_reads.hpp"
#include "core/prepared.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace bookspace::core {

namespace {

constexpr std::string_view insert_event_sql =
    "INSERT INTO events (id, type, aggregate_id, payload, occurred_at)"
    " VALUES (:id, :type, :aggregate_id, :payload, :occurred_at) RETURNING seq";

struct EventInsertVars {
  std::string id, type, aggregate_id, payload;
  long long occurred_at = 0;
  long long seq = 0;  // out
};
// Publishers serialise on this lock from their INSERT to their COMMIT, so that on PostgreSQL
// seq order equals commit order and a consumer can never pass a row that commits later.
constexpr std::string_view pg_publish_lock_sql = "SELECT pg_advisory_xact_lock(4778348151002100002)";
constexpr std::string_view ensure_offset_sql =
    "INSERT INTO event_offsets (consumer, seq, updated_at, failures) VALUES (:c, 0, :now, 0)"
    " ON CONFLICT (consumer) DO NOTHING";
constexpr std::string_view update_offset_sql =
    "UPDATE event_offsets SET seq = :seq, updated_at = :now, failures = 0, last_error = NULL"
    " WHERE consumer = :c";
constexpr std::string_view record_failure_sql =
    "UPDATE event_offsets SET failures = failures + 1, last_error = :e, updated_at = :now"
    " WHERE consumer = :c";
constexpr std::string_view status_sql =
    "SELECT o.consumer, o.seq, o.failures, o.last_error,"
    " (SELECT COUNT(*) FROM events e WHERE e.seq > o.seq) FROM event_offsets o ORDER BY o.consumer";
constexpr std::string_view prune_sql =
    "DELETE FROM events WHERE occurred_at < :cutoff"
    " AND seq <= COALESCE((SELECT MIN(seq) FROM event_offsets), seq)";

struct BatchOutcome {
  std::size_t processed = 0;
  bool full = false;    // there may be more right away
  bool locked = false;  // another instance holds this consumer
};

}  // namespace

/// What consumers and watches share: a loop on a strand of its own that reads the log after an
/// offset, sleeping until woken, polled or stopped.
struct EventLog::Tail {
  Tail(std::string name, Types types) : name(std::move(name)), types(std::move(types)) {}
  virtual ~Tail() = default;

  std::string name;
  Types types;  // empty: all
  WakeableLoop loop;
  std::atomic<bool> pending{false};
  /// Woken by this process's commit of a type it reads: there is something to read.
  std::atomic<bool> hinted{false};
  std::atomic<bool> stopping{false};
  std::int64_t offset = -1;  // last seq known processed, -1 before the first read
  bool single_step = false;  // after a failure: one event per transaction to isolate it
  int failures = 0;

  bool wants(std::string_view type) const {
    return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
  }
  void poke() {
    pending = true;
    loop.wake();
  }

  /// Where it starts reading, before start() returns.
  virtual void position(soci::session& sql, long long now) = 0;
  /// One round: at most `limit` events.
  virtual Awaitable<BatchOutcome> round(Database& db, Clock const& clock, EventLogOptions const& options,
                                        std::size_t limit) = 0;
  /// A failed round, recorded where operators look (best effort).
  virtual Awaitable<void> record_failure(Database& db, Clock const& clock, std::string const& failure) = 0;
  /// How long it sleeps when there is nothing to do.
  virtual int idle_ms(EventLogOptions const& options) const { return options.poll_interval_ms; }
  /// How long it waits after a wake-up before its round (ConsumerOptions::gather).
  virtual std::chrono::milliseconds gather() const { return std::chrono::milliseconds(0); }
};

namespace {

/// A durable consumer: its offset is stored with the effects of each batch.
struct Consumer final : EventLog::Tail {
  Consumer(std::string name, EventLog::Types types, EventLog::Handler handler,
           EventLog::ConsumerOptions options)
      : Tail(std::move(name), std::move(types)), handler(std::move(handler)), options(std::move(options)) {}
  EventLog::Handler handler;
  EventLog::ConsumerOptions options;
  std::chrono::milliseconds gather() const override { return options.gather; }
  std::chrono::steady_clock::time_point advanced{};  // last stored-offset advance (typed consumers)

  void position(soci::session& sql, long long now) override {
    sql << ensure_offset_sql, soci::use(name), soci::use(now);
  }
  Awaitable<BatchOutcome> round(Database& db, Clock const& clock, EventLogOptions const& options,
                                std::size_t limit) override;
  Awaitable<void> record_failure(Database& db, Clock const& clock, std::string const& failure) override {
    const long long now = clock.now_ms();
    co_await db.run([&](soci::session& sql) {
      sql << record_failure_sql, soci::use(failure), soci::use(now), soci::use(name);
    });
  }
  // A typed consumer also wakes for its idle advance (advance_due).
  int idle_ms(EventLogOptions const& options) const override {
    return types.empty() ? options.poll_interval_ms
                         : std::min(options.poll_interval_ms, options.idle_advance_ms);
  }
  /// A consumer of some types stores its offset past other types' events now and then, so that
  /// pruning (which keeps what any stored offset has not passed) is not held back by it.
  bool advance_due(EventLogOptions const& options) const {
    return !types.empty() &&
           std::chrono::steady_clock::now() - advanced >= std::chrono::milliseconds(options.idle_advance_ms);
  }
};

/// A per-process tail: an offset in memory, no transaction.
struct Watch final : EventLog::Tail {
  Watch(std::string name, EventLog::Types types, EventLog::WatchHandler handler,
        std::optional<std::int64_t> replay_since, std::function<bool()> idle,
        std::atomic<std::int64_t> const& committed_head)
      : Tail(std::move(name), std::move(types)),
        handler(std::move(handler)),
        replay_since(replay_since),
        idle(std::move(idle)),
        committed_head(committed_head) {}
  EventLog::WatchHandler handler;
  std::optional<std::int64_t> replay_since;  // start at events since then
  std::function<bool()> idle;                // nobody to tell: skip to the end
  std::atomic<std::int64_t> const& committed_head;

  BatchOutcome batch(soci::session& sql, std::size_t limit);
  void position(soci::session& sql, long long) override {
    offset = head_of(sql);  // the current end of the log, or the replay point
    if (!replay_since) return;
    if (auto first = first_seq_since(sql, *replay_since)) offset = *first - 1;
    // The replay is delivered before start() returns, so that what it rebuilds (a revocation
    // cache) is whole before the process's modules start.
    while (batch(sql, 1000).full) {
    }
  }
  Awaitable<BatchOutcome> round(Database& db, Clock const&, EventLogOptions const&,
                                std::size_t limit) override {
    if (idle) {
      const std::int64_t local = committed_head.load();
      if (local > offset && idle()) {
        offset = local;  // every event up to it is committed: skipped without a read
        co_return BatchOutcome{};
      }
    }
    co_return co_await db.run([&](soci::session& sql) {
      if (idle) {
        const long long head = head_of(sql);
        if (idle()) {
          offset = std::max<std::int64_t>(offset, head);
          return BatchOutcome{};
        }
      }
      return batch(sql, limit);
    });
  }
  Awaitable<void> record_failure(Database&, Clock const&, std::string const&) override { co_return; }
};

}  // namespace

EventLog::EventLog(Database& db, Clock const& clock, IdGenerator& ids, Logger& log, EventLogOptions options)
    : db_(db), clock_(clock), ids_(ids), log_(log), options_(options) {}

EventLog::~EventLog() {
  stop();
}

std::string EventLog::publish(Tx& tx, std::string_view type, std::string_view aggregate_id,
                              boost::json::value const& payload) {
  const bool first = !tx.publishing;
  if (first && tx.dialect == Dialect::postgresql) exec_script(tx.sql, tx.dialect, pg_publish_lock_sql);
  auto& insert =
      prepared<EventInsertVars>(tx.sql, insert_event_sql, [](soci::statement& st, EventInsertVars& v) {
        st.exchange(soci::use(v.id));
        st.exchange(soci::use(v.type));
        st.exchange(soci::use(v.aggregate_id));
        st.exchange(soci::use(v.payload));
        st.exchange(soci::use(v.occurred_at));
        st.exchange(soci::into(v.seq));
      });
  auto& v = insert.vars;
  v.id = ids_.uuid_v7();
  v.type = type;
  v.aggregate_id = aggregate_id;
  v.payload = boost::json::serialize(payload);
  v.occurred_at = clock_.now_ms();
  insert.run();
  std::string id = v.id;
  const std::int64_t seq = v.seq;
  // One NOTIFY per transaction wakes the other instances' consumers of every type it published.
  if (first && tx.dialect == Dialect::postgresql) exec_script(tx.sql, tx.dialect, pg_notify_sql);
  tx.publishing = true;
  tx.on_commit([this, t = std::string(type), seq] {
    // Commit order is seq order (SQLite's one writer; PostgreSQL's publish lock).
    std::int64_t head = committed_head_.load();
    while (head < seq && !committed_head_.compare_exchange_weak(head, seq)) {
    }
    wake(t);
  });
  return id;
}

void EventLog::hold_consumer(Tx& tx, std::string const& consumer) {
  if (tx.dialect != Dialect::postgresql) return;
  long long seq = 0;
  tx.sql << "SELECT seq FROM event_offsets WHERE consumer = :c FOR UPDATE", soci::use(consumer),
      soci::into(seq);
}

void EventLog::signal(Tx& tx, std::string_view channel) {
  const bool valid =
      !channel.empty() && channel.size() <= 64 &&
      channel.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._") == std::string_view::npos;
  if (!valid) throw std::invalid_argument("bad signal channel: " + std::string(channel));
  tx.on_commit([this, c = std::string(channel)] {
    fire(c);
    std::lock_guard lock(listener_mutex_);
    if (listener_) listener_->send(c);  // PostgreSQL: other instances, after the commit
  });
}

void EventLog::on_signal(std::string channel, std::function<void()> handler) {
  signal_handlers_.emplace_back(std::move(channel), std::move(handler));
}

void EventLog::fire(std::string_view channel) const {
  for (auto const& [c, handler] : signal_handlers_) {
    if (c == channel) handler();
  }
}

void EventLog::fire_all() const {
  for (auto const& entry : signal_handlers_) entry.second();
}

void EventLog::subscribe(std::string consumer, Types types, Handler handler, ConsumerOptions options) {
  for (auto const& c : consumers_) {
    if (c->name == consumer) throw std::logic_error("event consumer registered twice: " + consumer);
  }
  consumers_.push_back(std::make_shared<Consumer>(std::move(consumer), std::move(types), std::move(handler),
                                                  std::move(options)));
}

void EventLog::watch(std::string name, Types types, WatchHandler handler,
                     std::optional<std::int64_t> replay_since) {
  for (auto const& c : consumers_) {
    if (c->name == name) throw std::logic_error("event consumer registered twice: " + name);
  }
  consumers_.push_back(std::make_shared<Watch>(std::move(name), std::move(types), std::move(handler),
                                               replay_since, nullptr, committed_head_));
}

void EventLog::watch(std::string name, Types types, WatchHandler handler, std::function<bool()> idle) {
  for (auto const& c : consumers_) {
    if (c->name == name) throw std::logic_error("event consumer registered twice: " + name);
  }
  consumers_.push_back(std::make_shared<Watch>(std::move(name), std::move(types), std::move(handler),
                                               std::nullopt, std::move(idle), committed_head_));
}

void EventLog::wake() {
  if (!started_) return;
  for (auto const& c : consumers_) c->poke();
}

void EventLog::wake(std::string_view type) {
  if (!started_) return;
  for (auto const& c : consumers_) {
    if (!c->wants(type)) continue;
    c->hinted = true;
    c->poke();
  }
}

namespace {

/// A watch's batch: read after the in-memory offset, call the handler, advance.
BatchOutcome Watch::batch(soci::session& sql, std::size_t limit) {
  BatchOutcome outcome;
  auto read = read_batch(sql, types, offset, limit);
  for (auto const& e : read.events) {
    handler(e);
    offset = e.seq;  // a failing handler is retried from the event that failed
    ++outcome.processed;
  }
  offset = std::max<std::int64_t>(offset, read.covered);
  outcome.full = read.events.size() == limit;
  return outcome;
}

/// One batch inside `tx`: the offset is read (and locked) from the database, the handler runs
/// for each event, the new offset is stored — all committed together. On SQLite this is a
/// savepoint of a group commit like any request's transaction, so consumers never contend with
/// the writer for the lock. `offset` (the hint for events_after) moves only once committed.
BatchOutcome process_batch(Tx& tx, Consumer& c, std::size_t limit, long long now) {
  BatchOutcome outcome;
  auto& sql = tx.sql;
  const auto offset = locked_offset(sql, tx.dialect, c.name);
  if (!offset) {
    outcome.locked = true;
    return outcome;
  }
  const long long seq = *offset;
  auto batch = read_batch(sql, c.types, seq, limit);
  if (c.options.begin && !batch.events.empty()) {
    c.options.begin(tx);
    try {
      for (auto const& e : batch.events) c.handler(tx, e);
    } catch (...) {
      try {
        c.options.end(tx);
      } catch (std::exception const&) {
        // The handler's failure is the one to report; this transaction is rolled back anyway.
      }
      throw;
    }
    c.options.end(tx);
  } else {
    for (auto const& e : batch.events) c.handler(tx, e);
  }
  const long long last = batch.covered;
  if (last != seq) execute(sql, update_offset_sql, last, now, c.name);
  outcome.processed = batch.events.size();
  outcome.full = batch.events.size() == limit;
  tx.on_commit([&offset = c.offset, last] { offset = last; });
  return outcome;
}

Awaitable<BatchOutcome> Consumer::round(Database& db, Clock const& clock, EventLogOptions const& options,
                                        std::size_t limit) {
  const bool due = advance_due(options);
  // After this process's own commit of a type it reads there is something to read: no peek.
  const bool known = hinted.exchange(false);
  if (!due && !known &&
      !co_await db.run([&](soci::session& sql) { return events_after(sql, types, offset); }))
    co_return BatchOutcome{};
  const long long now = clock.now_ms();
  advanced = std::chrono::steady_clock::now();
  co_return co_await db.transaction([&](Tx& tx) { return process_batch(tx, *this, limit, now); });
}

Awaitable<void> consume(Database& db, Clock const& clock, Logger& log, EventLogOptions options,
                        std::shared_ptr<EventLog::Tail> self, std::atomic<std::uint64_t>& failures_total);

}  // namespace

void EventLog::start(boost::asio::io_context& io) {
  if (started_) return;
  for (auto const& c : consumers_) {
    db_.run_blocking([&](soci::session& sql) { c->position(sql, clock_.now_ms()); });
  }
  started_ = true;
  for (auto const& c : consumers_)
    c->loop.spawn(io, consume(db_, clock_, log_, options_, c, failures_total_));
  if (db_.dialect() == Dialect::postgresql && options_.listen) {
    auto listener = std::make_unique<EventListener>(
        parse_database_url(db_.options().url).target, log_,
        EventListener::Hooks{[this] {
                               wake();
                               fire_all();
                             },
                             [this] { wake(); }, [this](std::string_view channel) { fire(channel); }});
    std::lock_guard lock(listener_mutex_);
    listener_ = std::move(listener);
  }
}

void EventLog::stop() {
  if (!started_) return;
  std::unique_ptr<EventListener> listener;
  {
    std::lock_guard lock(listener_mutex_);
    listener.swap(listener_);
  }
  listener.reset();
  auto all = consumers_;
  for (auto const& c : all) {
    c->stopping = true;
    c->poke();
  }
  for (auto const& c : all) c->loop.join();
  for (auto const& c : all) c->stopping = false;
  started_ = false;
}

std::vector<ConsumerStatus> EventLog::status(soci::session& sql) const {
  std::vector<ConsumerStatus> out;
  soci::rowset<soci::row> rows = (sql.prepare << status_sql);
  for (auto const& row : rows) {
    ConsumerStatus s;
    s.consumer = sql::get_text(row, 0);
    s.seq = sql::get_int(row, 1);
    s.failures = static_cast<int>(sql::get_int(row, 2));
    s.last_error = sql::get_opt_text(row, 3).value_or("");
    s.lag = sql::get_int(row, 4);
    out.push_back(std::move(s));
  }
  return out;
}

std::size_t EventLog::prune(soci::session& sql) const {
  long long cutoff = clock_.now_ms() - static_cast<long long>(options_.retention_hours) * 3'600'000;
  soci::statement st = (sql.prepare << prune_sql, soci::use(cutoff));
  st.execute(true);
  return static_cast<std::size_t>(st.get_affected_rows());
}

namespace {

/// Sleeps `duration` on the tail's loop: wake-ups do not cut it short; only stop() does.
Awaitable<void> wait_out(EventLog::Tail& self, std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!self.stopping && std::chrono::steady_clock::now() < until) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    co_await self.loop.sleep(left + std::chrono::milliseconds(1));
  }
}

Awaitable<void> consume(Database& db, Clock const& clock, Logger& log, EventLogOptions options,
                        std::shared_ptr<EventLog::Tail> self, std::atomic<std::uint64_t>& failures_total) {
  while (!self->stopping) {
    self->pending = false;
    BatchOutcome outcome;
    std::string failure;
    try {
      const std::size_t limit = self->single_step ? 1 : static_cast<std::size_t>(options.batch_size);
      outcome = co_await self->round(db, clock, options, limit);
      if (outcome.processed > 0) {
        self->failures = 0;
        self->single_step = false;
      }
    } catch (std::exception const& e) {
      failure = e.what();
      if (failure.empty()) failure = "handler failed";
    }
    if (!failure.empty()) {
      ++self->failures;
      ++failures_total;
      self->single_step = true;
      log.warn("event consumer failed; will retry",
               {{"consumer", self->name}, {"attempt", self->failures}, {"error", failure}});
      try {
        co_await self->record_failure(db, clock, failure);
      } catch (std::exception const&) {
        // Recording is best effort; the next attempt will fail or succeed on its own.
      }
      const int shift = std::min(self->failures - 1, 16);
      const int backoff = std::min(options.max_backoff_ms, 100 << shift);
      co_await wait_out(*self, std::chrono::milliseconds(backoff));
      continue;
    }
    if (outcome.full) continue;
    if (!self->pending) co_await self->loop.sleep(std::chrono::milliseconds(self->idle_ms(options)));
    if (self->pending && self->gather().count() > 0) co_await wait_out(*self, self->gather());
  }
}

}  // namespace

}  // namespace bookspace::core
