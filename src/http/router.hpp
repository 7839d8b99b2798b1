#pragma once

#include "core/async.hpp"
#include "http/message.hpp"
#include "http/rate_limiter.hpp"
#include "http/websocket.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::http {

/// A handler is a coroutine from a request to a response; it never sees a socket.
using Handler = std::function<core::Awaitable<Response>(Request&)>;

/// A handler from a named route function of a module: `fn(deps, request)`. The routes of a
/// module are such functions (one per route) over the dependencies they share.
template <class Deps>
Handler bind(Deps& deps, core::Awaitable<Response> (*fn)(Deps&, Request&)) {
  return [&deps, fn](Request& req) { return fn(deps, req); };
}

/// Who may call a route. Without an Authenticator installed, `required` routes answer 401.
/// `service`: another BookSpace process of the same deployment (a module's stand-in), proving
/// itself with the shared `cluster.service_key`; such routes are not in the OpenAPI document,
/// and without a configured key they answer 404.
enum class Auth { none, optional, required, service };

struct RouteOptions {
  Auth auth = Auth::required;
  std::size_t body_limit = 0;  ///< bytes; 0 = the server's default
  /// A body must be JSON (else 415); false for raw uploads.
  bool json_body = true;
  /// The handler reads the body as it arrives through `req.body_stream` (uploads), within
  /// `body_limit`; needs json_body = false. With `idempotent`, the body's SHA-256 is taken as
  /// it streams; a replay reads the new body through to compare it (only 2xx answers are kept).
  bool stream_body = false;
  /// Per-client-IP token bucket, when set.
  std::optional<RateLimitPolicy> rate_limit;
  /// Honour Idempotency-Key (API.md): replay, 422 on another body, 409 while the first runs.
  bool idempotent = false;
  /// OpenAPI 3.0.3 Operation object (summary, parameters, requestBody, responses…).
  boost::json::value openapi;
  /// CORS, beyond the kernel's own: request headers a browser may send to this route (preflight
  /// Access-Control-Allow-Headers) and response headers its scripts may read (Expose-Headers).
  std::vector<std::string> cors_request_headers;
  std::vector<std::string> cors_expose_headers;
  /// A GET route that upgrades to a WebSocket (http/websocket.hpp); `handler` still answers a
  /// GET without the upgrade. Auth, rate limit and the handler run before the upgrade only in
  /// that the rate limit applies: a WebSocket authenticates in its first message.
  std::optional<WebSocketOptions> websocket;
};

struct Route {
  Method method;
  std::string pattern;  ///< "/api/v1/documents/{id}"
  std::string module;   ///< who registered it ("kernel" for ops endpoints)
  Handler handler;
  RouteOptions options;
  std::vector<std::string> segments;  ///< "{id}" marks a parameter
};

/// Path templates with `{param}` segments. Unknown path → not_found; known path, other
/// method → method_not_allowed with the Allow list. HEAD falls back to the GET route.
class Router {
 public:
  Router() = default;
  Router(Router const&) = delete;  // by_length_ points into routes_
  Router& operator=(Router const&) = delete;
  Router(Router&&) = default;  // a deque's elements stay where they are
  Router& operator=(Router&&) = default;

  enum class Outcome { found, not_found, method_not_allowed };
  struct Match {
    Outcome outcome = Outcome::not_found;
    Route const* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;               ///< "GET, HEAD, PATCH"
    Route const* sibling = nullptr;  ///< method_not_allowed: a route of that path (its pattern)
  };

  /// Routes registered from now on belong to `module`.
  void set_module(std::string module) { module_ = std::move(module); }
  void add(Method method, std::string const& pattern, Handler handler, RouteOptions options = {});

  Match match(Method method, std::string_view path) const;
  std::deque<Route> const& routes() const { return routes_; }

 private:
  std::deque<Route> routes_;
  /// The routes by their number of segments, in the order added: a match looks only at those
  /// of the path's length.
  std::vector<std::vector<Route const*>> by_length_;
  std::string module_ = "kernel";
};

/// Splits "/a/b" into {"a","b"}; false for a path that does not start with '/'.
bool split_path(std::string_view path, std::vector<std::string_view>& out);

}  // namespace bookspace::http
