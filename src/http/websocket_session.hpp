#pragma once

// Private to http/server.cpp: the kernel side of WebSocket routes (http/websocket.hpp).

#include "core/async.hpp"
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
class Metrics;
}  // namespace bookspace::core

namespace bookspace::http {

class WebSocketSession;

/// The open WebSockets of one server: upgrades them, counts them, closes them on shutdown.
class WebSockets {
 public:
  explicit WebSockets(core::Metrics& metrics);

  /// Completes the upgrade of `stream` (the request `upgrade`, already admitted by the
  /// dispatcher), then runs the route's handler with `req`; returns once the connection has
  /// ended. `conn` (the connection table's entry) is pointed at the new stream.
  core::Awaitable<void> serve(boost::beast::tcp_stream stream,
                              boost::beast::http::request<boost::beast::http::string_body> upgrade,
                              Request& req, WebSocketOptions const& options, Connection& conn);
  /// Closes every open WebSocket with 1001 (the server is shutting down).
  void close_all();
  std::size_t open() const { return open_.load(); }

  struct Counters {
    core::Counter& opened;
    core::Counter& slow_consumers;  ///< closed with 1013
    core::Counter& messages_sent;
    core::Counter& too_big;  ///< closed with 1009
  };

 private:
  std::atomic<std::size_t> open_{0};
  Counters counters_;
  std::mutex mutex_;
  std::list<std::weak_ptr<WebSocketSession>> sessions_;
};

/// True when the request asks to upgrade to a WebSocket.
bool is_websocket_upgrade(boost::beast::http::request<boost::beast::http::string_body> const& req);

}  // namespace bookspace::http
