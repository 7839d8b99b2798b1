#include "http/server.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/client_address.hpp"
#include "http/connection_table.hpp"
#include "http/dispatcher.hpp"
#include "http/socket_exchange.hpp"
#include "http/websocket_session.hpp"
#include "http/wire.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>

#include <csignal>
#include <optional>

namespace bookspace::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using core::Awaitable;

namespace {

/// The request as its headers describe it; the body is moved in once it has been read.
Request head_of(RequestParser& parser, std::string client_ip) {
  auto const& msg = parser.get();
  Request req;
  req.method_text = std::string(msg.method_string());
  req.method = parse_method(req.method_text);
  req.target = std::string(msg.target());
  auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (auto const& field : msg) {
    req.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  req.ctx.client_ip = std::move(client_ip);
  return req;
}

bool out_of_resources(boost::system::error_code const& ec) {
  namespace errc = boost::system::errc;
  return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
         ec == errc::no_buffer_space || ec == errc::not_enough_memory;
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(std::vector<asio::io_context*> contexts, Dispatcher& dispatcher, core::Logger& log,
       core::Metrics& metrics, ServerOptions options)
      : contexts(std::move(contexts)),
        dispatcher(dispatcher),
        log(log),
        options(std::move(options)),
        acceptor(std::in_place, *this->contexts.front()),
        trust(this->options.trusted_proxies),
        budget(this->options.body_budget),
        connections_total(metrics.counter("http_connections_total", "TCP connections accepted.")),
        table(std::make_shared<ConnectionTable>(
            this->options.max_connections, this->options.max_connections_per_ip,
            ConnectionTable::Counters{
                metrics.counter("http_connections_rejected_total", "Connections closed at once, by reason.",
                                "reason=\"max_connections\""),
                metrics.counter("http_connections_rejected_total", "Connections closed at once, by reason.",
                                "reason=\"per_ip\""),
                metrics.counter("http_connections_evicted_total",
                                "Idle connections closed to make room for a new one at max_connections.")})),
        accept_errors(
            metrics.counter("http_accept_errors_total",
                            "accept() failures (out of descriptors or memory: retried with back-off).")),
        budget_refusals(metrics.counter("http_body_budget_refusals_total",
                                        "Request bodies refused with 503: the body budget was spent.")),
        parse_errors(metrics.counter("http_request_errors_total",
                                     "Requests refused before routing (a malformed or too large head).")),
        websockets(metrics) {}

  std::vector<asio::io_context*> contexts;
  std::size_t next_context = 0;
  Dispatcher& dispatcher;
  core::Logger& log;
  ServerOptions options;
  std::optional<tcp::acceptor> acceptor;  // reset by ~Server: it must not outlive its io_context
  core::RequestIdGenerator request_ids;
  ProxyTrust trust;
  BodyBudget budget;
  core::Counter& connections_total;
  std::shared_ptr<ConnectionTable> table;
  core::Counter& accept_errors;
  core::Counter& budget_refusals;
  core::Counter& parse_errors;
  WebSockets websockets;
  std::uint16_t port = 0;
  std::atomic<bool> draining{false};
  Activity in_flight;
  Awaitable<void> accept_loop() {
    asio::steady_timer pause(acceptor->get_executor());
    std::chrono::milliseconds backoff{0};
    std::size_t unlogged_failures = 0;
    auto last_logged = std::chrono::steady_clock::time_point{};
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(*contexts[next_context++ % contexts.size()]);
      co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        accept_errors.inc();
        ++unlogged_failures;
        // Out of descriptors or memory, accept() fails again at once: retrying in a loop spins
        // a core and floods the log. Wait (10 ms doubling to 1 s) and log once a second.
        backoff = out_of_resources(ec) ? std::min(std::chrono::milliseconds(1000),
                                                  std::max(std::chrono::milliseconds(10), backoff * 2))
                                       : std::chrono::milliseconds(0);
        const auto now = std::chrono::steady_clock::now();
        if (now - last_logged >= std::chrono::seconds(1)) {
          log.warn("accept failed", {{"error", ec.message()},
                                     {"failures", unlogged_failures},
                                     {"retry_in_ms", static_cast<std::int64_t>(backoff.count())}});
          unlogged_failures = 0;
          last_logged = now;
        }
        if (backoff.count() > 0) {
          pause.expires_after(backoff);
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (!acceptor->is_open()) co_return;
        }
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      connections_total.inc();
      auto peer = socket.remote_endpoint(ec);
      if (ec) continue;  // already gone
      const auto address = peer.address();
      std::string ip = address.to_string();
      auto slot = table->admit(ip, !trust.empty() && trust.trusted(address));
      if (!slot) {
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, session(std::move(socket), std::move(*slot), address),
                     [self = shared_from_this()](std::exception_ptr const& e) {
                       if (!e) return;
                       try {
                         std::rethrow_exception(e);
                       } catch (std::exception const& ex) {
                         self->log.error("connection failed", {{"error", ex.what()}});
                       }
                     });
    }
  }

  Awaitable<void> write_error(beast::tcp_stream& stream, core::ErrorCode code, std::string detail) {
    parse_errors.inc();
    Request req;
    dispatcher.begin(req);
    Response res = problem(code, std::move(detail), req.ctx.request_id);
    res.headers.set("X-Request-Id", req.ctx.request_id);
    DateCache date;
    co_await write_response(stream, res, false, false, false, date, options.write_timeout_ms);
  }

  /// Reads a request line and headers. Keep-alive: the next request may take the idle timeout
  /// to begin; once it has, its headers get the header timeout. A new connection has only the
  /// header timeout: a client that connects and sends nothing, or trickles its headers, holds a
  /// slot for seconds, not minutes. Usually one read (or none, when pipelined) does it all.
  Awaitable<boost::system::error_code> read_head(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                 RequestParser& parser, bool first) {
    boost::system::error_code ec;
    const bool waiting = !first && buffer.size() == 0;
    stream.expires_after(
        std::chrono::milliseconds(waiting ? options.idle_timeout_ms : options.header_timeout_ms));
    std::chrono::steady_clock::time_point header_deadline{};
    while (!parser.is_header_done()) {
      co_await bhttp::async_read_some(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return ec;
      if (header_deadline == std::chrono::steady_clock::time_point{}) {
        header_deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options.header_timeout_ms);
        if (waiting && !parser.is_header_done()) stream.expires_at(header_deadline);
      }
    }
    co_return ec;
  }

  /// A head that could not be read: too large (431) or malformed (400) is answered; a closed,
  /// idle or too slow connection just ends. False when the connection ends.
  Awaitable<bool> head_read(beast::tcp_stream& stream, boost::system::error_code ec) {
    if (!ec) co_return true;
    if (ec == bhttp::error::header_limit) {
      co_await write_error(
          stream, core::ErrorCode::headers_too_large,
          "The request line and headers exceed " + std::to_string(options.header_limit) + " bytes.");
    } else if (ec != bhttp::error::end_of_stream && ec != asio::error::operation_aborted &&
               ec != beast::error::timeout && ec != asio::error::connection_reset && ec != asio::error::eof) {
      co_await write_error(stream, core::ErrorCode::validation_failed,
                           "Malformed HTTP request: " + ec.message() + ".");
    }
    co_return false;
  }

  /// A connection's life: heads read one after another (keep-alive), each request served by the
  /// pipeline through a SocketExchange, until either side ends it or it becomes a WebSocket.
  Awaitable<void> session(tcp::socket socket, ConnectionTable::Slot slot, asio::ip::address peer) {
    boost::system::error_code ec;
    const bool behind_proxy = !trust.empty() && trust.trusted(peer);
    beast::tcp_stream stream(std::move(socket));
    Connection conn{stream.get_executor(), &stream};
    ConnectionTable::Registration registration(*table, conn);
    beast::flat_buffer buffer;
    DateCache date;
    ConnectionState state{stream, buffer, options, budget, budget_refusals, websockets,
                          *table, slot,   log,     date,   draining};
    try {
      for (bool first = true; !draining; first = false) {
        RequestParser parser;
        parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
        // The route decides the body limit; until its headers are read, none applies.
        parser.body_limit(boost::none);
        conn.idle = true;
        ec = co_await read_head(stream, buffer, parser, first);
        conn.idle = false;
        if (!co_await head_read(stream, ec)) break;
        std::string client_ip =
            behind_proxy ? trust.client_ip(peer, optional_header(parser, "X-Forwarded-For")) : slot.ip();
        Request req = head_of(parser, std::move(client_ip));
        SocketExchange exchange(state, parser);
        {
          Activity::Scope counted(in_flight);
          co_await dispatcher.serve(req, exchange);
        }
        if (exchange.upgraded()) co_return;  // the stream went to the WebSocket
        if (!exchange.keep_alive()) break;
      }
    } catch (boost::system::system_error const& e) {
      // The peer went away or a write timed out: nothing more to say on this connection.
      log.debug("connection closed", {{"error", e.what()}});
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.socket().close(ec);
  }

  static std::optional<std::string_view> optional_header(RequestParser& parser, std::string_view name) {
    auto const& msg = parser.get();
    auto it = msg.find(name);
    if (it == msg.end()) return std::nullopt;
    return it->value();
  }
};

Server::Server(std::vector<asio::io_context*> contexts, Dispatcher& dispatcher, core::Logger& log,
               core::Metrics& metrics, ServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(contexts), dispatcher, log, metrics, std::move(options))) {
  metrics.collector(
      "http_in_flight_requests", "Requests being handled.", "gauge", [impl = impl_](std::string& out) {
        core::append_sample(out, "http_in_flight_requests", "", static_cast<double>(impl->in_flight.count()));
      });
  metrics.collector("http_request_body_bytes_buffered",
                    "Request-body bytes held in memory now (bounded by server.body_budget_bytes).", "gauge",
                    [impl = impl_](std::string& out) {
                      core::append_sample(out, "http_request_body_bytes_buffered", "",
                                          static_cast<double>(impl->budget.used()));
                    });
  metrics.collector(
      "http_open_connections", "Open client connections.", "gauge", [impl = impl_](std::string& out) {
        core::append_sample(out, "http_open_connections", "", static_cast<double>(impl->table->open()));
      });
}

Server::~Server() {
  impl_->acceptor.reset();
}

void Server::start() {
  // sendfile(2) has no MSG_NOSIGNAL: a peer that goes away mid-download would raise SIGPIPE and
  // end the process. Ignored, the call fails with EPIPE and only that connection ends.
  ::signal(SIGPIPE, SIG_IGN);
  auto& a = *impl_->acceptor;
  tcp::endpoint endpoint(asio::ip::make_address(impl_->options.host), impl_->options.port);
  a.open(endpoint.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(asio::socket_base::max_listen_connections);
  impl_->port = a.local_endpoint().port();
}

void Server::accept() {
  auto& a = *impl_->acceptor;
  asio::co_spawn(a.get_executor(), impl_->accept_loop(), asio::detached);
}

std::uint16_t Server::port() const {
  return impl_->port;
}

void Server::begin_drain() {
  impl_->draining = true;
  impl_->websockets.close_all();
  asio::post(*impl_->contexts.front(), [impl = impl_] {
    boost::system::error_code ec;
    if (impl->acceptor) impl->acceptor->close(ec);
  });
  impl_->table->close_all(true);
}

bool Server::draining() const {
  return impl_->draining;
}
std::size_t Server::in_flight() const {
  return impl_->in_flight.count();
}
bool Server::wait_idle(std::chrono::steady_clock::time_point deadline) {
  return impl_->in_flight.wait_idle(deadline);
}
bool Server::wait_websockets_closed(std::chrono::steady_clock::time_point deadline) {
  return impl_->websockets.wait_closed(deadline);
}
void Server::close_all() {
  impl_->table->close_all(false);
}

}  // namespace bookspace::http
