#include "core/event_listener.hpp"

#include "core/log.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace bookspace::core {

EventListener::EventListener(std::string conninfo, Logger& log, Hooks hooks)
    : conninfo_(std::move(conninfo)), log_(log), hooks_(std::move(hooks)) {
  if (::pipe2(wake_fds_, O_NONBLOCK | O_CLOEXEC) != 0)
    throw std::runtime_error("event listener: pipe failed");
  thread_ = std::thread([this] { run(); });
}
EventListener::~EventListener() {
  stopping_ = true;
  poke();
  thread_.join();
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void EventListener::send(std::string_view channel) {
  {
    std::lock_guard lock(mutex_);
    if (std::find(outbox_.begin(), outbox_.end(), channel) != outbox_.end()) return;
    outbox_.emplace_back(channel);
  }
  poke();
}

void EventListener::poke() {
  const char byte = 1;
  [[maybe_unused]] auto n = ::write(wake_fds_[1], &byte, 1);  // full pipe: a wake-up is pending anyway
}

void EventListener::run() {
  while (!stopping_) {
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn) == CONNECTION_OK) {
      PGresult* res = PQexec(conn, std::string(pg_listen_sql).c_str());
      PQclear(res);
      hooks_.reconnected();  // anything committed while we were not listening
      listen(conn);
    } else {
      log_.warn("event listener cannot connect", {{"error", PQerrorMessage(conn)}});
    }
    PQfinish(conn);
    for (int i = 0; i < 10 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool EventListener::flush_outbox(PGconn* conn) {
  std::vector<std::string> outbox;
  {
    std::lock_guard lock(mutex_);
    outbox.swap(outbox_);
  }
  for (auto const& channel : outbox) {
    // Channels are [a-z0-9._] (checked by signal()), so quoting is trivial.
    const std::string notify = std::string(pg_notify_sql) + ", '" + channel + "'";
    PGresult* res = PQexec(conn, notify.c_str());
    const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) return false;  // reconnect; other instances poll meanwhile
  }
  return true;
}

void EventListener::listen(PGconn* conn) {
  while (!stopping_) {
    pollfd pfd[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
    int ready = ::poll(pfd, 2, 200);
    if (ready <= 0) continue;
    if (pfd[1].revents & POLLIN) {
      char buf[64];
      while (::read(wake_fds_[0], buf, sizeof buf) > 0) {
      }
      if (!flush_outbox(conn)) return;
    }
    if (!(pfd[0].revents & POLLIN)) continue;
    if (!PQconsumeInput(conn)) return;
    bool notified = false;
    while (PGnotify* n = PQnotifies(conn)) {
      if (n->extra && *n->extra) {
        hooks_.signalled(n->extra);  // a signal()
      } else {
        notified = true;  // a publish()
      }
      PQfreemem(n);
    }
    if (notified) hooks_.notified();
  }
}

}  // namespace bookspace::core
