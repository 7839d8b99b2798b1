#pragma once

// A WebSocket as a module's handler sees it: text messages in, shared text messages out. The
// transport — the upgrade, the message size limit, the bounded send queue, ping/pong keep-alive
// and idle close, the connection cap, the 1001 close on shutdown — is the kernel's
// (http/websocket_session.cpp); no Beast here.

#include "core/async.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace bookspace::http {

struct Request;

/// Close codes the kernel uses; a handler may use its own (4000–4999).
namespace close_code {
constexpr std::uint16_t going_away = 1001;  ///< the server shuts down
constexpr std::uint16_t policy = 1008;      ///< the client broke the protocol
constexpr std::uint16_t too_big = 1009;     ///< a message over the size limit
constexpr std::uint16_t try_again = 1013;   ///< the client reads too slowly (its queue is full)
}  // namespace close_code

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  /// The next text message from the client; nullopt once the connection is closing or closed
  /// (by either side, a deadline, or the server's shutdown). Only the handler calls this.
  virtual core::Awaitable<std::optional<std::string>> read() = 0;
  /// Queues a message; any thread. False when the connection is closing, or when the queue is
  /// over its limit — then the connection is closed with 1013 (a slow consumer never holds
  /// unbounded memory). One message may be shared by many connections (a fan-out).
  virtual bool send(std::shared_ptr<const std::string> text) = 0;
  /// Closes with `code` and `reason` (≤ 123 bytes); any thread; the first call wins. Messages
  /// still queued are dropped.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  /// Closes with `code` and `reason` at `when` unless called again before (any thread); a
  /// time_point{} cancels the deadline. For "authenticate within 5 s" and "token expiry".
  virtual void close_at(std::chrono::steady_clock::time_point when, std::uint16_t code,
                        std::string reason) = 0;
};

/// Runs for the life of one upgraded connection (on its io thread); when it returns, the
/// connection is closed (1000 unless closed otherwise before; 1011 when it throws). The request
/// keeps its line and context (client address, request id) but not its headers: an idle socket
/// should hold as little as possible.
using WebSocketHandler = std::function<core::Awaitable<void>(Request&, std::shared_ptr<WebSocket>)>;

/// RouteOptions::websocket: a GET route that upgrades. A plain GET (no upgrade) gets the route's
/// ordinary handler.
struct WebSocketOptions {
  WebSocketHandler handler;
  std::size_t max_message_bytes = 16 * 1024;  ///< a bigger client message closes with 1009
  std::size_t send_queue_bytes = 1 << 20;     ///< queued beyond this: closed with 1013
  int idle_timeout_ms = 60'000;          ///< no frame from the client for this long: closed (a ping at half)
  std::size_t max_connections = 10'000;  ///< per process; beyond it the upgrade gets 503
};

}  // namespace bookspace::http
