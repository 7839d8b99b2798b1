#include "core/event_log.hpp"
#include "core/event_listener.hpp"
#include "core/event_reads.hpp"
#include "core/prepared.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
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

namespace asio = boost::asio;

namespace {

constexpr std::string_view insert_event_sql =
    "INSERT INTO events (id, type, aggregate_id, payload, occurred_at)"
    " VALUES (:id, :type, :aggregate_id, :payload, :occurred_at)";
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

/// A loop on its own strand that sleeps until woken, polled or stopped.
struct EventLog::Consumer : std::enable_shared_from_this<Consumer> {
  explicit Consumer(std::string name) : name(std::move(name)) {}

  std::string name;
  Types types;                               // empty: all
  Handler handler;                           // durable consumers
  WatchHandler watcher;                      // watches: no stored offset
  std::optional<std::int64_t> replay_since;  // watches: start at events since then
  std::optional<asio::strand<asio::io_context::executor_type>> strand;
  std::optional<asio::steady_timer> timer;
  std::atomic<bool> pending{false};
  std::atomic<bool> stopping{false};
  std::int64_t offset = -1;  // last seq known processed, -1 before the first read
  bool single_step = false;  // after a failure: one event per transaction to isolate it
  std::chrono::steady_clock::time_point advanced{};  // last stored-offset advance (typed consumers)

  bool wants(std::string_view type) const {
    return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
  }
  int failures = 0;
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool done = true;

  void poke() {
    pending = true;
    asio::post(*strand, [self = shared_from_this()] { self->timer->cancel(); });
  }

  Awaitable<void> sleep(int ms) {
    timer->expires_after(std::chrono::milliseconds(ms));
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  void finish() {
    std::lock_guard lock(done_mutex);
    done = true;
    done_cv.notify_all();
  }
};

EventLog::EventLog(Database& db, Clock const& clock, IdGenerator& ids, Logger& log, EventLogOptions options)
    : db_(db), clock_(clock), ids_(ids), log_(log), options_(options) {}

EventLog::~EventLog() {
  stop();
}

std::string EventLog::publish(Tx& tx, std::string_view type, std::string_view aggregate_id,
                              boost::json::value payload) {
  const bool first = !tx.publishing;
  if (first && tx.dialect == Dialect::postgresql) exec_script(tx.sql, tx.dialect, pg_publish_lock_sql);
  std::string id = ids_.uuid_v7();
  const long long now = clock_.now_ms();
  execute(tx.sql, insert_event_sql, id, std::string(type), std::string(aggregate_id),
          boost::json::serialize(payload), now);
  // One NOTIFY per transaction wakes the other instances' consumers of every type it published.
  if (first && tx.dialect == Dialect::postgresql) exec_script(tx.sql, tx.dialect, pg_notify_sql);
  tx.publishing = true;
  tx.on_commit([this, t = std::string(type)] { wake(t); });
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

void EventLog::subscribe(std::string consumer, Types types, Handler handler) {
  for (auto const& c : consumers_) {
    if (c->name == consumer) throw std::logic_error("event consumer registered twice: " + consumer);
  }
  auto c = std::make_shared<Consumer>(std::move(consumer));
  c->types = std::move(types);
  c->handler = std::move(handler);
  consumers_.push_back(std::move(c));
}

void EventLog::watch(std::string name, Types types, WatchHandler handler,
                     std::optional<std::int64_t> replay_since) {
  for (auto const& c : consumers_) {
    if (c->name == name) throw std::logic_error("event consumer registered twice: " + name);
  }
  auto c = std::make_shared<Consumer>(std::move(name));
  c->types = std::move(types);
  c->watcher = std::move(handler);
  c->replay_since = replay_since;
  consumers_.push_back(std::move(c));
}

void EventLog::wake() {
  if (!started_) return;
  for (auto const& c : consumers_) c->poke();
}

void EventLog::wake(std::string_view type) {
  if (!started_) return;
  for (auto const& c : consumers_) {
    if (c->wants(type)) c->poke();
  }
}

namespace {

/// A watch's batch: read after the in-memory offset, call the handler, advance.
BatchOutcome process_watch_batch(soci::session& sql, EventLog::Consumer& c, std::size_t limit) {
  BatchOutcome outcome;
  auto batch = read_batch(sql, c.types, c.offset, limit);
  for (auto const& e : batch.events) {
    c.watcher(e);
    c.offset = e.seq;  // a failing handler is retried from the event that failed
    ++outcome.processed;
  }
  c.offset = std::max<std::int64_t>(c.offset, batch.covered);
  outcome.full = batch.events.size() == limit;
  return outcome;
}

/// One batch inside `tx`: the offset is read (and locked) from the database, the handler runs
/// for each event, the new offset is stored — all committed together. On SQLite this is a
/// savepoint of a group commit like any request's transaction, so consumers never contend with
/// the writer for the lock. `offset` (the hint for events_after) moves only once committed.
BatchOutcome process_batch(Tx& tx, EventLog::Consumer& c, std::size_t limit, long long now) {
  BatchOutcome outcome;
  auto& sql = tx.sql;
  const auto offset = locked_offset(sql, tx.dialect, c.name);
  if (!offset) {
    outcome.locked = true;
    return outcome;
  }
  const long long seq = *offset;
  auto batch = read_batch(sql, c.types, seq, limit);
  for (auto const& e : batch.events) c.handler(tx, e);
  const long long last = batch.covered;
  if (last != seq) execute(sql, update_offset_sql, last, now, c.name);
  outcome.processed = batch.events.size();
  outcome.full = batch.events.size() == limit;
  tx.on_commit([&offset = c.offset, last] { offset = last; });
  return outcome;
}

Awaitable<void> consume(Database& db, Clock const& clock, Logger& log, EventLogOptions options,
                        std::shared_ptr<EventLog::Consumer> self, std::atomic<std::uint64_t>& failures_total);

}  // namespace

void EventLog::start(asio::io_context& io) {
  if (started_) return;
  for (auto const& c : consumers_) {
    long long now = clock_.now_ms();
    db_.run_blocking([&](soci::session& sql) {
      if (c->watcher) {  // a watch starts at the current end of the log, or at its replay point
        c->offset = head_of(sql);
        if (c->replay_since) {
          if (auto first = first_seq_since(sql, *c->replay_since)) c->offset = *first - 1;
          // The replay is delivered before start() returns, so that what it rebuilds (a
          // revocation cache) is whole before the process's modules start.
          while (process_watch_batch(sql, *c, 1000).full) {
          }
        }
      } else {
        sql << ensure_offset_sql, soci::use(c->name), soci::use(now);
      }
    });
  }
  started_ = true;
  for (auto const& c : consumers_) {
    c->strand.emplace(asio::make_strand(io.get_executor()));
    c->timer.emplace(*c->strand);
    c->done = false;
    asio::co_spawn(*c->strand, consume(db_, clock_, log_, options_, c, failures_total_),
                   [c](std::exception_ptr) { c->finish(); });
  }
  if (db_.dialect() == Dialect::postgresql && options_.listen) {
    auto listener = std::make_unique<Listener>(parse_database_url(db_.options().url).target, *this);
    std::lock_guard lock(listener_mutex_);
    listener_ = std::move(listener);
  }
}

void EventLog::stop() {
  if (!started_) return;
  std::unique_ptr<Listener> listener;
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
  for (auto const& c : all) {
    std::unique_lock lock(c->done_mutex);
    c->done_cv.wait(lock, [&] { return c->done; });
  }
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

/// A consumer of some types stores its offset past other types' events now and then, so that
/// pruning (which keeps what any stored offset has not passed) is not held back by it.
bool advance_due(EventLog::Consumer const& c, EventLogOptions const& options) {
  return !c.types.empty() &&
         std::chrono::steady_clock::now() - c.advanced >= std::chrono::milliseconds(options.idle_advance_ms);
}

Awaitable<void> consume(Database& db, Clock const& clock, Logger& log, EventLogOptions options,
                        std::shared_ptr<EventLog::Consumer> self,
                        std::atomic<std::uint64_t>& failures_total) {
  while (!self->stopping) {
    self->pending = false;
    BatchOutcome outcome;
    std::string failure;
    try {
      const std::size_t limit = self->single_step ? 1 : static_cast<std::size_t>(options.batch_size);
      if (self->watcher) {
        outcome = co_await db.run([&](soci::session& sql) { return process_watch_batch(sql, *self, limit); });
      } else if (co_await db.run(
                     [&](soci::session& sql) { return events_after(sql, self->types, self->offset); }) ||
                 advance_due(*self, options)) {
        const long long now = clock.now_ms();
        self->advanced = std::chrono::steady_clock::now();
        outcome = co_await db.transaction([&](Tx& tx) { return process_batch(tx, *self, limit, now); });
      }
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
        long long now = clock.now_ms();
        if (!self->watcher) {
          co_await db.run([&](soci::session& sql) {
            sql << record_failure_sql, soci::use(failure), soci::use(now), soci::use(self->name);
          });
        }
      } catch (std::exception const&) {
        // Recording is best effort; the next attempt will fail or succeed on its own.
      }
      const int shift = std::min(self->failures - 1, 16);
      const int backoff = std::min(options.max_backoff_ms, 100 << shift);
      // Wake-ups do not cut the backoff short; only stop() does.
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff);
      while (!self->stopping && std::chrono::steady_clock::now() < until) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        co_await self->sleep(static_cast<int>(left.count()) + 1);
      }
      continue;
    }
    if (outcome.full) continue;
    if (self->pending) continue;
    // A typed consumer also wakes for its idle advance (advance_due).
    co_await self->sleep(self->types.empty() ? options.poll_interval_ms
                                             : std::min(options.poll_interval_ms, options.idle_advance_ms));
  }
}

}  // namespace

}  // namespace bookspace::core
