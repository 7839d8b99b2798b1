#include "http/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <deque>
#include <memory>
#include <optional>

namespace bookspace::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

using Clock = std::chrono::steady_clock;

/// Idle connections are dropped before the server's idle timeout could close them under us.
constexpr auto idle_limit = std::chrono::seconds(20);
constexpr std::size_t max_idle_per_thread = 32;

struct Target {
  std::string host, port, path, origin;
};

Target parse_target(std::string const& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) {
    throw ClientError("not an http:// URL: " + url);
  }
  Target t;
  t.host = parsed->host();
  t.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  t.path = std::string(parsed->encoded_target());
  if (t.path.empty()) t.path = "/";
  t.origin = t.host + ":" + t.port;
  return t;
}

/// Keep-alive connections of this thread (an io thread runs one io_context), by origin: a stand-in
/// calling another process on every request reuses them instead of a new TCP connection each
/// time (and a TIME_WAIT socket after it).
using Stream = std::unique_ptr<beast::tcp_stream>;  // not move-assignable itself
struct IdleConnection {
  std::string origin;
  Stream stream;
  Clock::time_point since;
};
thread_local std::deque<IdleConnection> idle_connections;

Stream take_idle(std::string const& origin, asio::any_io_executor const& executor) {
  const auto now = Clock::now();
  std::erase_if(idle_connections, [&](IdleConnection const& c) { return now - c.since > idle_limit; });
  for (auto it = idle_connections.begin(); it != idle_connections.end(); ++it) {
    if (it->origin == origin && it->stream->get_executor() == executor) {
      Stream stream = std::move(it->stream);
      idle_connections.erase(it);
      return stream;
    }
  }
  return nullptr;
}

void keep_idle(std::string origin, Stream stream) {
  if (idle_connections.size() >= max_idle_per_thread) idle_connections.pop_front();
  stream->expires_never();
  idle_connections.push_back({std::move(origin), std::move(stream), Clock::now()});
}

void check(boost::system::error_code const& ec, std::string_view step, std::string const& url) {
  if (ec) throw ClientError(std::string(step) + " " + url + ": " + ec.message());
}

core::Awaitable<Stream> connect(Target const& target, ClientRequest const& request) {
  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(executor);
  // The resolver is not covered by the stream's deadline; a name that never resolves is cut by
  // the same deadline through this timer.
  asio::steady_timer resolve_deadline(executor, request.timeout);
  resolve_deadline.async_wait([&resolver](boost::system::error_code e) {
    if (!e) resolver.cancel();
  });
  auto endpoints = co_await resolver.async_resolve(target.host, target.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  resolve_deadline.cancel();
  check(ec, "resolving", request.url);
  auto stream = std::make_unique<beast::tcp_stream>(executor);
  stream->expires_after(request.timeout);
  co_await stream->async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  check(ec, "connecting to", request.url);
  co_return stream;
}

using Message = beast::http::request<beast::http::string_body>;
using Parsed = beast::http::response<beast::http::string_body>;

/// One request and its response on `stream`; the error instead of a throw, so that a reused
/// connection the server had closed can be retried on a new one.
core::Awaitable<boost::system::error_code> exchange(beast::tcp_stream& stream, Message& message,
                                                    ClientRequest const& request, Parsed& out) {
  boost::system::error_code ec;
  stream.expires_after(request.timeout);
  co_await beast::http::async_write(stream, message, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return ec;
  beast::flat_buffer buffer;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(request.response_limit);
  co_await beast::http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) out = parser.release();
  co_return ec;
}

core::Awaitable<ClientResponse> fetch_on(ClientRequest request, bool keep_alive) {
  const Target target = parse_target(request.url);
  const auto verb = beast::http::string_to_verb(request.method);
  if (verb == beast::http::verb::unknown) throw ClientError("unknown method " + request.method);

  Message message{verb, target.path, 11};
  message.set(beast::http::field::host, target.origin);
  message.set(beast::http::field::user_agent, "bookspace");
  message.keep_alive(keep_alive);
  for (auto const& [name, value] : request.headers) message.set(name, value);
  if (!request.body.empty()) {
    message.set(beast::http::field::content_type, "application/json");
    message.body() = std::move(request.body);
  }
  message.prepare_payload();

  auto executor = co_await asio::this_coro::executor;
  Stream stream;
  if (keep_alive) stream = take_idle(target.origin, executor);
  Parsed response;
  boost::system::error_code ec;
  if (stream) {
    ec = co_await exchange(*stream, message, request, response);
    if (ec) stream.reset();  // closed by the server meanwhile: once more on a new connection
  }
  if (!stream) {
    stream = co_await connect(target, request);
    ec = co_await exchange(*stream, message, request, response);
  }
  check(ec, "exchanging with", request.url);
  if (keep_alive && response.keep_alive()) {
    keep_idle(target.origin, std::move(stream));
  } else {
    stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
  co_return ClientResponse{static_cast<int>(response.result_int()), std::move(response.body())};
}

}  // namespace

core::Awaitable<ClientResponse> fetch(ClientRequest request) {
  co_return co_await fetch_on(std::move(request), true);
}

ClientResponse fetch_blocking(ClientRequest request) {
  // A private io_context per call: its connections cannot outlive it, so none is kept.
  asio::io_context io(1);
  std::optional<ClientResponse> result;
  std::exception_ptr failure;
  asio::co_spawn(io, fetch_on(std::move(request), false), [&](std::exception_ptr const& e, ClientResponse r) {
    failure = e;
    if (!e) result = std::move(r);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

}  // namespace bookspace::http
