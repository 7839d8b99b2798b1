#pragma once

#include "core/async.hpp"
#include "http/authenticator.hpp"
#include "http/idempotency.hpp"
#include "http/message.hpp"
#include "http/rate_limiter.hpp"
#include "http/router.hpp"

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

/// The middleware chain around a handler, free of sockets: request id, traceparent, CORS,
/// routing (404/405), authentication, rate limits, content-type check, error mapping,
/// access log and metrics. Never throws.
class Dispatcher {
 public:
  Dispatcher(Router const& router, core::Logger& log, core::Metrics& metrics, RateLimiter& limiter,
             DispatcherOptions options);

  void set_authenticator(Authenticator* authenticator) { authenticator_ = authenticator; }
  void set_idempotency_store(IdempotencyStore* store) { idempotency_ = store; }

  Router::Match route(Request const& req) const;

  /// The checks that need only the request line and headers: routing (404, 405, OPTIONS), the
  /// query string, rate limits and authentication. A response when the request ends here
  /// (already counted and logged), nullopt when its body should be read and respond() called.
  /// The server calls this before reading any body, so an anonymous client never gets a body
  /// buffered for a route that needs a principal.
  core::Awaitable<std::optional<Response>> admit(Request& req, Router::Match& match);
  /// The rest of the chain once the body is in `req`: content type, Idempotency-Key, the
  /// handler, CORS, error mapping, access log and metrics. Only after admit() gave nullopt.
  core::Awaitable<Response> respond(Request& req, Router::Match& match);

  /// admit() then respond(): the whole chain for a request whose body is already read.
  /// `match` is route(req).
  core::Awaitable<Response> dispatch(Request& req, Router::Match match);
  core::Awaitable<Response> dispatch(Request& req) { return dispatch(req, route(req)); }

  /// Fills the request id (the client's when sane) and trace context.
  static void begin(Request& req, std::string generated_id);

 private:
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
  /// The handler behind Idempotency-Key: claim, run, remember (or replay / refuse).
  core::Awaitable<Response> run_idempotent(Request& req, Route const& route, std::string_view key);
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
  std::map<std::string, CorsHeaders, std::less<>> cors_by_pattern_;  ///< union over a path's routes
  CorsHeaders cors_base_;
  std::mutex series_mutex_;
  std::map<std::tuple<Route const*, int, int>, std::pair<core::Counter*, core::Histogram*>> series_;
};

}  // namespace bookspace::http
