#include "http/socket_exchange.hpp"

#include "core/metrics.hpp"
#include "http/server.hpp"
#include "http/websocket_session.hpp"
#include "http/wire.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <ctime>
#include <span>

namespace bookspace::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

/// A body the answer does not need is still read (and dropped) up to this size, so the
/// connection can be kept; beyond it the connection is closed instead.
constexpr std::size_t discardable_body = 64 * 1024;

}  // namespace

namespace {
core::Awaitable<void> nothing() {
  co_return;
}
}  // namespace

std::string_view DateCache::now() {
  const auto t = static_cast<std::int64_t>(std::time(nullptr));
  if (t != second) {
    second = t;
    text = http_date(t);
  }
  return text;
}

core::Awaitable<void> write_response(beast::tcp_stream& stream, Response& res, bool keep_alive, bool head,
                                     bool http10, DateCache& date, int write_timeout_ms, bool then_linger) {
  std::string bytes = serialize_head(res, keep_alive, http10, date.now());
  std::array<asio::const_buffer, 2> buffers{asio::buffer(bytes), asio::buffer(res.body)};
  const std::size_t count = head || res.body.empty() || res.file || res.source ? 1 : 2;
  stream.expires_after(std::chrono::milliseconds(write_timeout_ms));
  boost::system::error_code ec;
  co_await asio::async_write(stream, std::span(buffers.data(), count),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) throw boost::system::system_error(ec);
  if (res.file && !head) co_await send_file(stream, *res.file, write_timeout_ms);
  if (res.source && !head) co_await send_source(stream, *res.source, write_timeout_ms);
  if (then_linger) co_await linger(stream);
}

core::Awaitable<void> linger(beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::array<char, 16384> sink;
  std::size_t discarded = 0;
  stream.expires_after(std::chrono::milliseconds(1000));
  while (!ec && discarded < 16 * 1024 * 1024) {
    discarded +=
        co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }
}

SocketExchange::SocketExchange(ConnectionState& connection, RequestParser& parser)
    : c_(connection),
      parser_(parser),
      share_(connection.budget),
      consumed_(parser.is_done()),
      wants_keep_alive_(parser.keep_alive()),
      http10_(parser.get().version() == 10),
      head_(parser.get().method() == bhttp::verb::head) {}

bool SocketExchange::body_done() const {
  return parser_.is_done();
}

std::optional<std::uint64_t> SocketExchange::declared_length() const {
  auto length = parser_.content_length();
  return length ? std::optional<std::uint64_t>(*length) : std::nullopt;
}

std::size_t SocketExchange::body_limit(std::size_t route_limit) const {
  return route_limit > 0 ? route_limit : c_.options.body_limit;
}

/// Reads the body into the parser within `limit` and the server's body budget (the declared
/// length is taken up front; a chunked body is counted as it grows).
core::Awaitable<Exchange::Read> SocketExchange::read_into_parser(std::size_t limit) {
  parser_.body_limit(limit);
  if (!share_.grow_to(parser_.content_length().value_or(0))) co_return Read::over_budget;
  if (iequals(parser_.get()[bhttp::field::expect], "100-continue")) {
    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
    c_.stream.expires_after(std::chrono::milliseconds(c_.options.write_timeout_ms));
    co_await bhttp::async_write(c_.stream, cont, asio::use_awaitable);
  }
  c_.stream.expires_after(std::chrono::milliseconds(c_.options.read_timeout_ms));
  boost::system::error_code ec;
  while (!parser_.is_done()) {
    co_await bhttp::async_read_some(c_.stream, c_.buffer, parser_,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::body_limit) co_return Read::too_large;
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) co_return Read::cut_off;
    if (ec) co_return Read::malformed;
    if (!share_.grow_to(parser_.get().body().capacity())) co_return Read::over_budget;
  }
  co_return Read::complete;
}

core::Awaitable<Exchange::Read> SocketExchange::read_body(std::string& into, std::size_t limit) {
  const Read outcome = co_await read_into_parser(limit);
  consumed_ = outcome == Read::complete;
  silent_ = outcome == Read::cut_off;
  if (outcome == Read::over_budget) c_.budget_refusals.inc();
  if (consumed_) into = std::move(parser_.get().body());
  co_return outcome;
}

BodyStream& SocketExchange::stream_body(std::size_t limit) {
  return streamed_.emplace(c_.stream, c_.buffer, std::move(parser_), limit,
                           BodyTimeouts{c_.options.read_timeout_ms, c_.options.write_timeout_ms});
}

core::Awaitable<void> SocketExchange::skip_body() {
  if (consumed_) co_return;
  const auto declared = parser_.content_length();
  if (!declared || *declared > discardable_body) co_return;  // left unread: closed after the answer
  consumed_ = co_await read_into_parser(discardable_body) == Read::complete;
  std::string().swap(parser_.get().body());
}

bool SocketExchange::upgrade_requested() const {
  return parser_.is_done() && is_websocket_upgrade(parser_.get());
}

core::Awaitable<std::optional<Response>> SocketExchange::upgrade(Request& req,
                                                                 WebSocketOptions const& options) {
  if (c_.draining || c_.websockets.open() >= options.max_connections) {
    close_after_ = true;
    core::Error error{
        core::ErrorCode::overloaded, "The server holds as many WebSockets as it may; retry shortly.", {}};
    error.retry_after_s = 1;
    co_return problem(error, req.ctx.request_id);
  }
  // A client speaks only after the 101, so nothing of it is buffered yet. The WebSocket runs
  // as a coroutine of its own and this HTTP session ends: an idle WebSocket holds neither its
  // frame nor the HTTP read buffer.
  upgraded_ = true;
  c_.websockets.start(std::move(c_.stream), parser_.release(), std::move(req), options, c_.table,
                      std::move(c_.slot), c_.log);
  co_return std::nullopt;
}

// Not a coroutine itself: it hands over write_response's, one frame fewer per request.
core::Awaitable<void> SocketExchange::answer(Response& res) {
  if (streamed_) {
    const auto state = streamed_->state();
    silent_ = state == StreamedBody::State::broken && res.status != 413;  // cut off or too slow
    consumed_ = state == StreamedBody::State::complete;
  }
  if (silent_) return nothing();
  keep_alive_ = wants_keep_alive_ && !c_.draining && consumed_ && !close_after_;
  return write_response(c_.stream, res, keep_alive_, head_, http10_, c_.date, c_.options.write_timeout_ms,
                        !consumed_);
}

}  // namespace bookspace::http
