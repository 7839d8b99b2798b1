#pragma once

// The PostgreSQL side of the event log (kernel-private: core/event_log.cpp only): one thread
// with a libpq connection in LISTEN, and the sender of signal()s after their commit.

#include <functional>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

typedef struct pg_conn PGconn;

namespace bookspace::core {

class Logger;

inline constexpr std::string_view pg_notify_sql = "NOTIFY bookspace_events";
inline constexpr std::string_view pg_listen_sql = "LISTEN bookspace_events";

/// PostgreSQL: a thread holding one LISTEN connection; every NOTIFY wakes the local consumers.
/// It also sends signal()s, after their transaction committed and outside it: a NOTIFY inside a
/// transaction takes a database-wide lock until its commit ends, so every transaction that
/// notifies would commit one after the other; signals need no such order.
class EventListener {
 public:
  struct Hooks {
    std::function<void()> reconnected;                ///< anything may have been missed: wake all
    std::function<void()> notified;                   ///< an event was committed elsewhere
    std::function<void(std::string_view)> signalled;  ///< a signal() of another instance
  };
  EventListener(std::string conninfo, Logger& log, Hooks hooks);
  ~EventListener();
  /// Queues a NOTIFY with `channel` as payload; repeated ones before it is sent go as one.
  void send(std::string_view channel);

 private:
  void poke();
  void run();
  bool flush_outbox(PGconn* conn);
  void listen(PGconn* conn);

  std::string conninfo_;
  Logger& log_;
  Hooks hooks_;
  std::atomic<bool> stopping_{false};
  int wake_fds_[2] = {-1, -1};
  std::mutex mutex_;
  std::vector<std::string> outbox_;
  std::thread thread_;
};

}  // namespace bookspace::core
