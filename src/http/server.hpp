#pragma once

#include "core/ids.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace bookspace::core {
class Logger;
class Metrics;
}  // namespace bookspace::core

namespace bookspace::http {

class Dispatcher;

struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  std::size_t header_limit = 16 * 1024;         ///< bytes of request line + headers (431 beyond)
  std::size_t body_limit = 1024 * 1024 + 4096;  ///< default per-route body limit (413 beyond)
  int idle_timeout_ms = 60'000;                 ///< keep-alive: waiting for the next request to begin
  int header_timeout_ms = 10'000;               ///< the whole request line + headers, once begun
  int read_timeout_ms = 30'000;                 ///< reading one request body
  int write_timeout_ms = 30'000;                ///< writing one response
  std::size_t max_connections = 10'000;         ///< at the cap, the oldest idle connection makes room
  std::size_t max_connections_per_ip = 256;     ///< beyond it, a client's new connections are closed
  std::size_t body_budget = 256u << 20;         ///< request-body bytes buffered at once, server-wide
  std::vector<std::string> trusted_proxies;     ///< see ProxyTrust
};

/// HTTP/1.1 over Beast with C++20 coroutines: keep-alive, TCP_NODELAY, timeouts on every read
/// and write, graceful drain. A request's route, rate limit and credentials are checked from
/// its headers before any body is read; a body is read only within its route's limit and the
/// server-wide body budget. Connections are capped per client address and in total (the oldest
/// idle one gives way), and accept() backs off when the process is out of descriptors.
///
/// Threading: one single-threaded io_context per io thread. The acceptor runs on the first and
/// hands each connection to the next context in turn, so a connection lives on one thread and
/// needs no strand (no locking on the hot path).
class Server {
 public:
  Server(std::vector<boost::asio::io_context*> contexts, Dispatcher& dispatcher, core::Logger& log,
         core::Metrics& metrics, ServerOptions options);
  ~Server();

  /// Binds and listens; throws std::system_error when the address is taken. Nothing is accepted
  /// yet: connections wait in the backlog until accept(), so that the first request a client
  /// sends after a restart meets a fully started application (revocations loaded and all).
  void start();
  /// Starts accepting the connections start() listens for.
  void accept();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;
  /// Stops accepting and closes idle connections; requests in flight finish, each answered
  /// with `Connection: close`.
  void begin_drain();
  bool draining() const;
  /// Requests being handled right now.
  std::size_t in_flight() const;
  /// Blocks until no request is in flight; false when `deadline` came first.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);
  /// Blocks until every WebSocket closed; false when `deadline` came first.
  bool wait_websockets_closed(std::chrono::steady_clock::time_point deadline);
  /// Closes every connection, busy or not (after the drain deadline).
  void close_all();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bookspace::http
