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

#include <optional>

namespace bookspace::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

struct Target {
  std::string host, port, path, host_header;
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
  t.host_header = parsed->has_port() ? t.host + ":" + t.port : t.host;
  return t;
}

void check(boost::system::error_code const& ec, std::string_view step, std::string const& url) {
  if (ec) throw ClientError(std::string(step) + " " + url + ": " + ec.message());
}

}  // namespace

core::Awaitable<ClientResponse> fetch(ClientRequest request) {
  const Target target = parse_target(request.url);
  const auto verb = beast::http::string_to_verb(request.method);
  if (verb == beast::http::verb::unknown) throw ClientError("unknown method " + request.method);

  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(executor);
  beast::tcp_stream stream(executor);
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

  stream.expires_after(request.timeout);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  check(ec, "connecting to", request.url);

  beast::http::request<beast::http::string_body> req{verb, target.path, 11};
  req.set(beast::http::field::host, target.host_header);
  req.set(beast::http::field::user_agent, "bookspace");
  req.set(beast::http::field::connection, "close");
  for (auto const& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty()) {
    req.set(beast::http::field::content_type, "application/json");
    req.body() = std::move(request.body);
  }
  req.prepare_payload();
  co_await beast::http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  check(ec, "sending to", request.url);

  beast::flat_buffer buffer;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(request.response_limit);
  co_await beast::http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  check(ec, "reading from", request.url);
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);

  auto response = parser.release();
  co_return ClientResponse{static_cast<int>(response.result_int()), std::move(response.body())};
}

ClientResponse fetch_blocking(ClientRequest request) {
  asio::io_context io(1);
  std::optional<ClientResponse> result;
  std::exception_ptr failure;
  asio::co_spawn(io, fetch(std::move(request)), [&](std::exception_ptr e, ClientResponse r) {
    failure = e;
    if (!e) result = std::move(r);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

}  // namespace bookspace::http
