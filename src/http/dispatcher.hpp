#pragma once

#include "core/async.hpp"
#include "core/ids.hpp"
#include "http/authenticator.hpp"
#include "http/idempotency.hpp"
#include "http/message.hpp"
#include "http/rate_limiter.hpp"
#include "http/router.hpp"
#include "http/websocket.hpp"

#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace bookspace::core {
class Counter;
class Histogram;
class Logger;
class Metrics;
}  // namespace bookspace::core

namespace bookspace::http {

struct DispatcherOptions {
  std::vector<std::string> cors_origins;  ///< exact origins, or "*"
  bool access_log = true;
  /// The shared secret of Auth::service routes (`cluster.service_key`); empty: they answer 404.
  std::string service_key;
  /// Called when a handler failed because the disk is full (answered 507).
  std::function<void()> on_disk_full;
};

/// The connection's side of one request, driven by the Dispatcher's chain: the body in the form
/// the route takes it (read whole, streamed, dropped or left unread), a WebSocket upgrade, and
/// the answer. http::Server implements it over a socket; it decides what the connection can do
/// next (keep-alive, lingering close) from what the chain asked of it.
class Exchange {
 public:
  enum class Read { complete, too_large, over_budget, malformed, cut_off };
  virtual ~Exchange() = default;
  /// True when no body is left to read: none was sent.
  virtual bool body_done() const = 0;
  virtual std::optional<std::uint64_t> declared_length() const = 0;
  /// The body limit for a route's own limit (0: the server's default).
  virtual std::size_t body_limit(std::size_t route_limit) const = 0;
  /// Reads the whole body into `into` within `limit` and the server-wide body budget.
  virtual core::Awaitable<Read> read_body(std::string& into, std::size_t limit) = 0;
  /// The body as a stream the handler reads at its own pace, within `limit`.
  virtual BodyStream& stream_body(std::size_t limit) = 0;
  /// The answer needs no body: a small one is read and dropped (the connection stays usable), a
  /// big or chunked one left unread (the connection closes after the answer).
  virtual core::Awaitable<void> skip_body() = 0;
  /// A WebSocket handshake with nothing after it.
  virtual bool upgrade_requested() const = 0;
  /// Hands the connection to the WebSocket route: nullopt once it is one, or the refusal to
  /// answer with (the server holds as many WebSockets as it may).
  virtual core::Awaitable<std::optional<Response>> upgrade(Request& req, WebSocketOptions const& options) = 0;
  /// Writes the answer, unless the body was cut off (then the connection just closes).
  virtual core::Awaitable<void> answer(Response& res) = 0;
};

/// The one request pipeline, free of sockets, in this order: request id and trace context,
/// routing (404/405, OPTIONS and CORS preflight), query string, rate limit, credentials — all
/// from the head, so an anonymous client never gets a body buffered — then the body as the route
/// takes it, content type, Idempotency-Key, the handler, error mapping, CORS, access log and
/// metrics, and the answer. Never throws (but for the connection's own write failures).
class Dispatcher {
 public:
  Dispatcher(Router const& router, core::Logger& log, core::Metrics& metrics, RateLimiter& limiter,
             DispatcherOptions options);

  void set_authenticator(Authenticator* authenticator) { authenticator_ = authenticator; }
  void set_idempotency_store(IdempotencyStore* store) { idempotency_ = store; }

  /// One request, from its head (in `req`) to the answer written through `exchange`.
  core::Awaitable<void> serve(Request& req, Exchange& exchange);

  /// Fills the request id (the client's when sane, else a new one) and trace context.
  void begin(Request& req);

 private:
  /// The body (one is coming) as the route takes it; a response when it cannot be had (413, 503,
  /// 400).
  core::Awaitable<std::optional<Response>> take_body(Request& req, Route const& route, Exchange& exchange);
  /// Everything decided without I/O: routing, query string, rate limit, the form of credentials.
  std::optional<Response> precheck(Request& req, Router::Match& match);
  bool needs_authentication(Request const& req, Route const& route) const;
  /// Auth::service: the shared service key, compared in constant time.
  std::optional<Response> admit_service(Request const& req) const;
  /// The credential through the Authenticator; a 401 response when it is not valid.
  core::Awaitable<std::optional<Response>> authenticate(Request& req, Route const& route);
  core::Awaitable<Response> run(Request& req, Route const& route);
  /// The problem+json for an exception escaping a handler or check (500 when unexpected).
  Response failure(Request const& req, Router::Match const& match, std::exception_ptr error);
  void finish(Request const& req, Response& res, Route const* route);
  /// CORS headers for a response to `req` (when its Origin is allowed); `pattern` picks the
  /// route's extra headers (empty: the kernel's only).
  bool cors(Request const& req, Response& res, bool preflight, std::string const& allow,
            std::string_view pattern) const;
  struct CorsHeaders {
    std::string request;  ///< Access-Control-Allow-Headers
    std::string expose;   ///< Access-Control-Expose-Headers
  };
  CorsHeaders const& cors_headers(std::string_view pattern) const;
  std::pair<core::Counter*, core::Histogram*> series(Route const* route, Method method, int status);

  Router const& router_;
  core::Logger& log_;
  core::Metrics& metrics_;
  RateLimiter& limiter_;
  DispatcherOptions options_;
  Authenticator* authenticator_ = nullptr;
  IdempotencyStore* idempotency_ = nullptr;
  core::RequestIdGenerator request_ids_;
  std::map<std::string, CorsHeaders, std::less<>> cors_by_pattern_;  ///< union over a path's routes
  CorsHeaders cors_base_;
  std::mutex series_mutex_;
  std::map<std::tuple<Route const*, int, int>, std::pair<core::Counter*, core::Histogram*>> series_;
};

}  // namespace bookspace::http
