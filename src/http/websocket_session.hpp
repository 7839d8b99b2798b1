#pragma once

// Private to http/server.cpp: the kernel side of WebSocket routes (http/websocket.hpp).

#include "core/async.hpp"
#include "http/activity.hpp"
#include "http/connection_table.hpp"
#include "http/websocket.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>

namespace bookspace::core {
class Counter;
class Logger;
class Metrics;
}  // namespace bookspace::core

namespace bookspace::http {

class WebSocketSession;

/// The open WebSockets of one server: upgrades them, counts them, closes them on shutdown.
class WebSockets {
 public:
  explicit WebSockets(core::Metrics& metrics);

  /// Takes over `stream` (its request `upgrade` already admitted by the dispatcher) and runs it
  /// as a coroutine of its own on the stream's thread: the handshake, then the route's handler
  /// with `req` (its headers dropped: an idle socket should hold little) until the connection
  /// ends. `slot` keeps it counted against the connection caps meanwhile; it is listed in
  /// `table` so that the drain deadline closes it. `log` hears of a handler that throws.
  void start(boost::beast::tcp_stream&& stream,
             boost::beast::http::request<boost::beast::http::string_body> upgrade, Request req,
             WebSocketOptions const& options, ConnectionTable& table, ConnectionTable::Slot slot,
             core::Logger& log);
  /// Closes every open WebSocket with 1001 (the server is shutting down).
  void close_all();
  std::size_t open() const { return open_.count(); }
  /// True once every WebSocket closed; false when `deadline` came first.
  bool wait_closed(std::chrono::steady_clock::time_point deadline) { return open_.wait_idle(deadline); }

  struct Counters {
    core::Counter& opened;
    core::Counter& slow_consumers;  ///< closed with 1013
    core::Counter& messages_sent;
    core::Counter& too_big;  ///< closed with 1009
  };

 private:
  core::Awaitable<void> run(std::shared_ptr<WebSocketSession> session,
                            boost::beast::http::request<boost::beast::http::string_body> upgrade, Request req,
                            WebSocketOptions const& options, ConnectionTable& table,
                            ConnectionTable::Slot slot);
  Activity open_;
  Counters counters_;
  std::mutex mutex_;
  std::list<std::weak_ptr<WebSocketSession>> sessions_;
};

/// True when the request asks to upgrade to a WebSocket.
bool is_websocket_upgrade(boost::beast::http::request<boost::beast::http::string_body> const& req);

}  // namespace bookspace::http
