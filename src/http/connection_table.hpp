#pragma once

// Private to http/server.cpp: the open connections, counted in total and per client address.

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace bookspace::core {
class Counter;
}

namespace bookspace::http {

/// One connection as the table sees it; lives in its session's coroutine frame.
struct Connection {
  boost::asio::any_io_executor executor;  ///< the connection's single-threaded io_context
  boost::beast::tcp_stream* stream = nullptr;
  std::atomic<bool> idle{true};       ///< waiting for a request's headers; read by the acceptor
  std::atomic<bool> evicting{false};  ///< chosen to make room for a new connection
};

/// Admits connections under `max_connections` and `max_per_ip`, and closes them — one that is
/// idle to make room, the idle ones on drain, all at the deadline — each on its own thread.
class ConnectionTable : public std::enable_shared_from_this<ConnectionTable> {
 public:
  struct Counters {
    core::Counter& rejected_total;   ///< at max_connections with nothing idle to close
    core::Counter& rejected_per_ip;  ///< over max_per_ip
    core::Counter& evicted_total;    ///< idle connections closed to admit a new one
  };

  ConnectionTable(std::size_t max_connections, std::size_t max_per_ip, Counters counters)
      : max_connections_(max_connections), max_per_ip_(max_per_ip), counters_(counters) {}

  /// A connection's place in the counts; given back when the session ends.
  class Slot {
   public:
    Slot(std::shared_ptr<ConnectionTable> table, std::string ip)
        : table_(std::move(table)), ip_(std::move(ip)) {}
    Slot(Slot&&) noexcept = default;
    Slot(Slot const&) = delete;
    ~Slot();
    std::string const& ip() const { return ip_; }

   private:
    std::shared_ptr<ConnectionTable> table_;
    std::string ip_;
  };

  /// Counts a new connection from `ip` in, or nullopt (closed at once, counted). At
  /// max_connections the oldest idle connection is asked to close (nginx's reusable
  /// connections), so a full server still lets health checks and new clients in while any slot
  /// holds nothing but an idle keep-alive.
  std::optional<Slot> admit(std::string const& ip, bool exempt_from_ip_cap);

  /// Lists `c` (oldest first) until the returned registration is destroyed.
  class Registration {
   public:
    Registration(ConnectionTable& table, Connection& c);
    ~Registration();
    Registration(Registration const&) = delete;

   private:
    ConnectionTable& table_;
    std::list<Connection*>::iterator it_;
  };

  /// Closes every listed connection (only the idle ones when `only_idle`), each on its thread.
  void close_all(bool only_idle);
  std::size_t open() const { return open_.load(); }

 private:
  void close_on_its_thread(Connection* c, bool only_idle);  // caller holds mutex_

  const std::size_t max_connections_, max_per_ip_;
  Counters counters_;
  std::atomic<std::size_t> open_{0};
  std::mutex mutex_;
  std::list<Connection*> connections_;                   // oldest first
  std::unordered_map<std::string, std::size_t> per_ip_;  // open connections by client address
};

}  // namespace bookspace::http
