#include "http/dispatcher.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

#include <sodium.h>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace bookspace::http {

namespace {

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// W3C Trace Context: version "00", 32-hex trace id, 16-hex parent id, 2-hex flags;
// all-zero ids are invalid.
bool parse_traceparent(std::string_view tp, std::string& trace_id) {
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return false;
  auto version = tp.substr(0, 2), trace = tp.substr(3, 32), parent = tp.substr(36, 16),
       flags = tp.substr(53, 2);
  if (!is_lower_hex(version) || version == "ff" || !is_lower_hex(trace) || !is_lower_hex(parent) ||
      !is_lower_hex(flags))
    return false;
  if (trace.find_first_not_of('0') == std::string_view::npos ||
      parent.find_first_not_of('0') == std::string_view::npos)
    return false;
  trace_id = trace;
  return true;
}

// Every '%' starts a two-hex-digit escape; a query that breaks this cannot be decoded, and
// ignoring its parameters would answer something the client did not ask for.
bool valid_percent_encoding(std::string_view query) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (query[i] != '%') continue;
    if (i + 2 >= query.size()) return false;
    if (!hex(query[i + 1]) || !hex(query[i + 2])) return false;
    i += 2;
  }
  return true;
}

bool method_has_body(Method m) {
  return m == Method::post || m == Method::put || m == Method::patch;
}

bool is_json_type(std::string_view ct) {
  auto type = ct.substr(0, ct.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return iequals(type, "application/json") ||
         (type.size() > 17 && iequals(type.substr(0, 12), "application/") &&
          iequals(type.substr(type.size() - 5), "+json"));
}

}  // namespace

namespace {
void append_unique(std::string& list, std::string_view name) {
  if (name.empty()) return;
  std::size_t at = 0;
  while (at < list.size()) {
    const auto end = std::min(list.find(", ", at), list.size());
    if (iequals(std::string_view(list).substr(at, end - at), name)) return;
    at = end + 2;
  }
  if (!list.empty()) list += ", ";
  list += name;
}
}  // namespace

Dispatcher::Dispatcher(Router const& router, core::Logger& log, core::Metrics& metrics, RateLimiter& limiter,
                       DispatcherOptions options)
    : router_(router), log_(log), metrics_(metrics), limiter_(limiter), options_(std::move(options)) {
  // The kernel's own headers, then what each route declares (RouteOptions::cors_*), unioned
  // per path so that a preflight answers for every method of it.
  for (auto h : {"Authorization", "Content-Type", "X-Request-Id", "traceparent"})
    append_unique(cors_base_.request, h);
  // What a browser client reads of any answer: ids, versions, where a thing was made, when to
  // retry, downloads' names and ranges.
  for (auto h : {"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
                 "ETag", "Location", "Content-Disposition", "Content-Range", "Idempotent-Replayed"})
    append_unique(cors_base_.expose, h);
  for (auto const& route : router_.routes()) {
    auto [it, fresh] = cors_by_pattern_.try_emplace(route.pattern, cors_base_);
    if (route.options.idempotent) {
      append_unique(it->second.request, "Idempotency-Key");
      append_unique(it->second.expose, "Idempotent-Replayed");
    }
    for (auto const& h : route.options.cors_request_headers) append_unique(it->second.request, h);
    for (auto const& h : route.options.cors_expose_headers) append_unique(it->second.expose, h);
  }
}

Dispatcher::CorsHeaders const& Dispatcher::cors_headers(std::string_view pattern) const {
  auto it = cors_by_pattern_.find(pattern);
  return it == cors_by_pattern_.end() ? cors_base_ : it->second;
}

void Dispatcher::begin(Request& req) {
  auto given = req.headers.get("X-Request-Id");
  req.ctx.request_id = given && sane_request_id(*given) ? std::string(*given) : request_ids_.next();
  if (auto tp = req.headers.get("traceparent"); tp && parse_traceparent(*tp, req.ctx.trace_id)) {
    req.ctx.traceparent = *tp;
  }
}

core::Awaitable<void> Dispatcher::serve(Request& req, Exchange& exchange) {
  req.ctx.started = std::chrono::steady_clock::now();
  begin(req);
  Router::Match match = router_.match(req.method, req.path);
  // One coroutine for the whole chain: the checks that need no I/O are plain calls, the rest
  // is awaited only when the request needs it (a credential, a body).
  std::optional<Response> res;
  std::exception_ptr error;
  // (The steps that may need no I/O are plain calls or awaited only when needed: each awaited
  // coroutine is a frame, and most requests have no credential to check or body to read.)
  try {
    res = precheck(req, match);
    if (!res && needs_authentication(req, *match.route)) res = co_await authenticate(req, *match.route);
    if (res) {
      if (!exchange.body_done()) co_await exchange.skip_body();
    } else if (match.route->options.websocket && exchange.upgrade_requested()) {
      res = co_await exchange.upgrade(req, *match.route->options.websocket);
      if (!res) co_return;  // the connection is a WebSocket now
    } else {
      if (!exchange.body_done()) res = co_await take_body(req, *match.route, exchange);
      if (!res) res = co_await run(req, *match.route);
    }
  } catch (...) {
    error = std::current_exception();
  }
  req.body_stream = nullptr;
  std::string().swap(req.body);  // its memory goes with its share of the body budget
  if (error) res = failure(req, match, error);
  finish(req, *res, match.route);
  co_await exchange.answer(*res);
}

Response Dispatcher::failure(Request const& req, Router::Match const& match, std::exception_ptr error) {
  try {
    std::rethrow_exception(std::move(error));
  } catch (core::ApiError const& e) {
    return problem(e.error(), req.ctx.request_id);
  } catch (boost::asio::multiple_exceptions const& e) {
    // Operations awaited together (a body's next chunk while the last one is stored) that
    // failed together: the first failure is the answer.
    return failure(req, match, e.first_exception());
  } catch (std::system_error const& e) {
    if (e.code() == std::errc::no_space_on_device || e.code().value() == EDQUOT) {
      if (options_.on_disk_full) options_.on_disk_full();
      core::Error error{core::ErrorCode::insufficient_storage, "The server's disk is full; retry later.", {}};
      error.retry_after_s = 30;
      return problem(error, req.ctx.request_id);
    }
    log_.error("unhandled error", {{"request_id", req.ctx.request_id},
                                   {"route", match.route ? match.route->pattern : ""},
                                   {"error", e.what()}});
  } catch (std::exception const& e) {
    log_.error("unhandled error", {{"request_id", req.ctx.request_id},
                                   {"route", match.route ? match.route->pattern : ""},
                                   {"error", e.what()}});
  }
  return problem(core::ErrorCode::internal,
                 "An unexpected error occurred; quote the request id when reporting it.", req.ctx.request_id);
}

core::Awaitable<std::optional<Response>> Dispatcher::take_body(Request& req, Route const& route,
                                                               Exchange& exchange) {
  const std::size_t limit = exchange.body_limit(route.options.body_limit);
  const auto too_large = [&] {
    return problem(core::ErrorCode::payload_too_large,
                   "The body exceeds " + std::to_string(limit) + " bytes.", req.ctx.request_id);
  };
  if (auto declared = exchange.declared_length(); declared && *declared > limit) co_return too_large();
  if (route.options.stream_body) {
    req.body_stream = &exchange.stream_body(limit);
    co_return std::nullopt;
  }
  switch (co_await exchange.read_body(req.body, limit)) {
    case Exchange::Read::complete:
      co_return std::nullopt;
    case Exchange::Read::cut_off:  // logged as such; the connection closes without an answer
      co_return problem(core::ErrorCode::validation_failed, "The request body was cut off or too slow.",
                        req.ctx.request_id);
    case Exchange::Read::too_large:
      co_return too_large();
    case Exchange::Read::over_budget: {
      core::Error error{
          core::ErrorCode::overloaded, "The server is receiving too many request bodies; retry shortly.", {}};
      error.retry_after_s = 1;
      co_return problem(error, req.ctx.request_id);
    }
    case Exchange::Read::malformed:
      break;
  }
  co_return problem(core::ErrorCode::validation_failed, "Malformed HTTP request body.", req.ctx.request_id);
}

std::optional<Response> Dispatcher::precheck(Request& req, Router::Match& match) {
  const bool preflight = req.method == Method::options && req.headers.contains("Origin") &&
                         req.headers.contains("Access-Control-Request-Method");
  if (match.outcome == Router::Outcome::not_found) {
    return problem(core::ErrorCode::not_found, "No such resource.", req.ctx.request_id);
  }
  if (preflight && match.outcome == Router::Outcome::found && match.route->method == Method::options) {
    // A route of its own answers OPTIONS (tus discovery), but a browser's CORS preflight is
    // the kernel's to answer, as on every other path.
    const auto others = router_.match(Method::other, req.path);
    Response res = Response::no_content();
    res.headers.add("Allow", others.allow);
    cors(req, res, true, others.allow, match.route->pattern);
    return res;
  }
  if (match.outcome == Router::Outcome::method_not_allowed) {
    if (req.method == Method::options) {
      Response res = Response::no_content();
      res.headers.add("Allow", match.allow);
      cors(req, res, preflight, match.allow, match.sibling ? std::string_view(match.sibling->pattern) : "");
      return res;
    }
    Response res = problem(core::ErrorCode::method_not_allowed,
                           "Method " + req.method_text + " is not allowed here.", req.ctx.request_id);
    res.headers.add("Allow", match.allow);
    return res;
  }
  if (!valid_percent_encoding(req.query)) {
    return problem(core::Error::validation("query", "is not a valid percent-encoded query string"),
                   req.ctx.request_id);
  }
  Route const& route = *match.route;
  req.params = std::move(match.params);
  req.ctx.route = route.pattern;

  if (route.options.rate_limit) {
    auto d = limiter_.take(*route.options.rate_limit, req.ctx.client_ip);
    if (!d.allowed) {
      core::Error error{core::ErrorCode::rate_limited, "Too many requests; slow down.", {}};
      error.retry_after_s = d.retry_after_s;
      Response res = problem(error, req.ctx.request_id);
      res.headers.add("RateLimit-Limit", std::to_string(d.limit));
      res.headers.add("RateLimit-Remaining", "0");
      res.headers.add("RateLimit-Reset", std::to_string(d.reset_s));
      return res;
    }
  }

  if (route.options.auth == Auth::none) return std::nullopt;
  if (route.options.auth == Auth::service) return admit_service(req);
  auto authz = req.headers.get("Authorization");
  if (!authz) {
    if (route.options.auth == Auth::required) {
      return problem(core::ErrorCode::unauthorized, "Authentication is required.", req.ctx.request_id);
    }
    return std::nullopt;
  }
  if (authz->size() <= 7 || !iequals(authz->substr(0, 7), "Bearer ") || !authenticator_) {
    return problem(core::ErrorCode::unauthorized, "The credentials are not valid.", req.ctx.request_id);
  }
  return std::nullopt;
}

std::optional<Response> Dispatcher::admit_service(Request const& req) const {
  if (options_.service_key.empty()) {
    return problem(core::ErrorCode::not_found, "No such resource.", req.ctx.request_id);
  }
  auto authz = req.headers.get("Authorization");
  const std::string expected = "Bearer " + options_.service_key;
  if (!authz || authz->size() != expected.size() ||
      sodium_memcmp(authz->data(), expected.data(), expected.size()) != 0) {
    return problem(core::ErrorCode::unauthorized, "The service key is not valid.", req.ctx.request_id);
  }
  return std::nullopt;
}

bool Dispatcher::needs_authentication(Request const& req, Route const& route) const {
  return route.options.auth != Auth::none && route.options.auth != Auth::service && authenticator_ &&
         req.headers.contains("Authorization");
}

core::Awaitable<std::optional<Response>> Dispatcher::authenticate(Request& req, Route const&) {
  std::string_view credential = req.headers.get("Authorization")->substr(7);
  auto principal = co_await authenticator_->authenticate(credential, req.ctx);
  if (!principal) {
    co_return problem(core::ErrorCode::unauthorized, "The credentials are not valid.", req.ctx.request_id);
  }
  req.ctx.principal = std::move(*principal);
  co_return std::nullopt;
}

core::Awaitable<Response> Dispatcher::run(Request& req, Route const& route) {
  if (route.options.json_body && method_has_body(req.method) && !req.body.empty()) {
    auto ct = req.headers.get("Content-Type");
    if (!ct || !is_json_type(*ct)) {
      co_return problem(core::ErrorCode::unsupported_media_type,
                        "The body must be JSON with Content-Type: application/json.", req.ctx.request_id);
    }
  }

  // A streamed route always reads a stream: a request that came without a body (or whole, from a
  // test) gets one over what is in memory, so no handler ever meets a null stream.
  std::optional<BufferedBodyStream> buffered;
  if (route.options.stream_body && !req.body_stream) req.body_stream = &buffered.emplace(req.body);
  struct Unset {
    Request& req;
    BodyStream* stream;
    ~Unset() {
      if (req.body_stream == stream) req.body_stream = nullptr;
    }
  } unset{req, buffered ? &*buffered : nullptr};

  auto key = route.options.idempotent && idempotency_ ? req.headers.get("Idempotency-Key") : std::nullopt;
  // (Two statements, not a conditional: GCC 12 miscompiles co_await inside ?:.)
  if (key) co_return co_await run_idempotent(*idempotency_, req, route, *key);
  co_return co_await route.handler(req);
}

bool Dispatcher::cors(Request const& req, Response& res, bool preflight, std::string const& allow,
                      std::string_view pattern) const {
  auto origin = req.headers.get("Origin");
  if (!origin || options_.cors_origins.empty()) return false;
  bool any = false, listed = false;
  for (auto const& o : options_.cors_origins) {
    any = any || o == "*";
    listed = listed || o == *origin;
  }
  if (!any && !listed) return false;
  res.headers.set("Access-Control-Allow-Origin", listed ? std::string(*origin) : "*");
  res.headers.add("Vary", "Origin");
  if (preflight) {
    res.headers.set("Access-Control-Allow-Methods", allow);
    res.headers.set("Access-Control-Allow-Headers", cors_headers(pattern).request);
    res.headers.set("Access-Control-Max-Age", "600");
  } else {
    res.headers.set("Access-Control-Expose-Headers", cors_headers(pattern).expose);
  }
  return true;
}

std::pair<core::Counter*, core::Histogram*> Dispatcher::series(Route const* route, Method method,
                                                               int status) {
  const auto key = std::make_tuple(route, static_cast<int>(method), status);
  std::lock_guard lock(series_mutex_);
  auto it = series_.find(key);
  if (it != series_.end()) return it->second;
  std::string labels = "route=\"" + core::Metrics::escape(route ? route->pattern : "unmatched") +
                       "\",method=\"" + std::string(to_string(method)) + "\",status=\"" +
                       std::to_string(status) + "\"";
  auto* counter = &metrics_.counter("http_requests_total", "HTTP requests answered.", labels);
  auto* histogram = &metrics_.histogram("http_request_duration_seconds",
                                        "Time from the request's arrival to its response.", labels);
  series_.emplace(key, std::make_pair(counter, histogram));
  return {counter, histogram};
}

void Dispatcher::finish(Request const& req, Response& res, Route const* route) {
  res.headers.set("X-Request-Id", req.ctx.request_id);
  // Every answer to an allowed origin says so — errors too, or a browser shows the client a
  // network failure instead of the 401 or 412 it could act on. Preflights set their own.
  if (!res.headers.contains("Access-Control-Allow-Origin"))
    cors(req, res, false, {}, route ? std::string_view(route->pattern) : std::string_view());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - req.ctx.started).count();
  auto [counter, histogram] = series(route, req.method, res.status);
  counter->inc();
  histogram->observe(seconds);
  if (options_.access_log && log_.enabled(core::LogLevel::info)) {
    core::LogLine line(core::LogLevel::info, "request");
    line.field("request_id", req.ctx.request_id)
        .field("method", req.method_text)
        .field("path", req.path)
        .field("route", route ? std::string_view(route->pattern) : std::string_view())
        .field("status", res.status)
        .field("duration_us", static_cast<std::int64_t>(seconds * 1e6))
        .field("bytes", res.body_length())
        .field("client_ip", req.ctx.client_ip);
    if (!req.ctx.trace_id.empty()) line.field("trace_id", req.ctx.trace_id);
    if (req.ctx.principal.authenticated()) line.field("user_id", req.ctx.principal.user_id);
    if (route) line.field("module", route->module);
    log_.write(line);
  }
}

}  // namespace bookspace::http
