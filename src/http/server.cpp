#include "http/server.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/dispatcher.hpp"
#include "http/wire.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <span>

namespace bookspace::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using core::Awaitable;

namespace {

/// The Date header of one connection: formatted at most once a second, no lock needed.
struct DateCache {
  std::int64_t second = -1;
  std::string text;
  std::string_view now() {
    const auto t = static_cast<std::int64_t>(std::time(nullptr));
    if (t != second) {
      second = t;
      text = http_date(t);
    }
    return text;
  }
};

struct Connection {
  asio::any_io_executor executor;  // the connection's single-threaded io_context
  beast::tcp_stream* stream = nullptr;
  bool idle = true;  // touched only on the strand
};

Request to_request(bhttp::request<bhttp::string_body>&& msg, std::string client_ip) {
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
  req.body = std::move(msg.body());
  req.ctx.client_ip = std::move(client_ip);
  return req;
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
        connections_total(metrics.counter("http_connections_total", "TCP connections accepted.")),
        rejected_total(metrics.counter("http_connections_rejected_total",
                                       "Connections closed at once: over max_connections.")),
        parse_errors(metrics.counter("http_request_errors_total",
                                     "Requests refused before routing (malformed, too large, timeout).")) {}

  std::vector<asio::io_context*> contexts;
  std::size_t next_context = 0;
  Dispatcher& dispatcher;
  core::Logger& log;
  ServerOptions options;
  std::optional<tcp::acceptor> acceptor;  // reset by ~Server: it must not outlive its io_context
  core::RequestIdGenerator request_ids;
  core::Counter& connections_total;
  core::Counter& rejected_total;
  core::Counter& parse_errors;
  std::uint16_t port = 0;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::size_t> open_connections{0};
  std::mutex conn_mutex;
  std::list<Connection*> connections;

  Awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(*contexts[next_context++ % contexts.size()]);
      co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        log.warn("accept failed", {{"error", ec.message()}});
        continue;
      }
      connections_total.inc();
      if (open_connections.load() >= options.max_connections) {
        rejected_total.inc();
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, session(std::move(socket)), [self = shared_from_this()](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (std::exception const& ex) {
          self->log.error("connection failed", {{"error", ex.what()}});
        }
      });
    }
  }

  // After an early answer (413 before the body was read) the client may still be sending.
  // Closing with unread data makes the kernel send RST, and the client loses the answer; so stop
  // sending, then read and discard for a bounded time and amount, as nginx's lingering close does.
  Awaitable<void> linger(beast::tcp_stream& stream) {
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 16384> sink;
    std::size_t discarded = 0;
    stream.expires_after(std::chrono::milliseconds(1000));
    while (!ec && discarded < 16 * 1024 * 1024) {
      discarded +=
          co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  Awaitable<void> write_error(beast::tcp_stream& stream, core::ErrorCode code, std::string detail) {
    parse_errors.inc();
    Request req;
    Dispatcher::begin(req, request_ids.next());
    Response res = problem(code, std::move(detail), req.ctx.request_id);
    res.headers.set("X-Request-Id", req.ctx.request_id);
    DateCache date;
    co_await write(stream, res, false, false, false, date);
  }

  // Formats the head by hand (see wire.hpp) and sends head and body with one gather write:
  // measurably cheaper than Beast's generic serializer on small responses.
  Awaitable<void> write(beast::tcp_stream& stream, Response& res, bool keep_alive, bool head, bool http10,
                        DateCache& date) {
    std::string bytes = serialize_head(res, keep_alive, http10, date.now());
    std::array<asio::const_buffer, 2> buffers{asio::buffer(bytes), asio::buffer(res.body)};
    const std::size_t count = head || res.body.empty() ? 1 : 2;
    stream.expires_after(std::chrono::milliseconds(options.write_timeout_ms));
    boost::system::error_code ec;
    co_await asio::async_write(stream, std::span(buffers.data(), count),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw boost::system::system_error(ec);
  }

  Awaitable<void> session(tcp::socket socket) {
    boost::system::error_code ec;
    std::string client_ip;
    if (auto ep = socket.remote_endpoint(ec); !ec) client_ip = ep.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    Connection conn{stream.get_executor(), &stream, true};
    ++open_connections;
    std::list<Connection*>::iterator registration;
    {
      std::lock_guard lock(conn_mutex);
      registration = connections.insert(connections.end(), &conn);
    }
    struct Unregister {
      Impl& impl;
      std::list<Connection*>::iterator it;
      ~Unregister() {
        std::lock_guard lock(impl.conn_mutex);
        impl.connections.erase(it);
        --impl.open_connections;
      }
    } unregister{*this, registration};

    beast::flat_buffer buffer;
    DateCache date;
    try {
      while (!draining) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
        // The route decides the body limit; until its headers are read, none applies.
        parser.body_limit(boost::none);
        conn.idle = true;
        stream.expires_after(std::chrono::milliseconds(options.idle_timeout_ms));
        co_await bhttp::async_read_header(stream, buffer, parser,
                                          asio::redirect_error(asio::use_awaitable, ec));
        conn.idle = false;
        if (ec == bhttp::error::header_limit) {
          co_await write_error(
              stream, core::ErrorCode::request_header_fields_too_large,
              "The request line and headers exceed " + std::to_string(options.header_limit) + " bytes.");
          break;
        }
        if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
            ec == beast::error::timeout || ec == asio::error::connection_reset || ec == asio::error::eof) {
          break;
        }
        if (ec) {
          co_await write_error(stream, core::ErrorCode::validation_failed,
                               "Malformed HTTP request: " + ec.message() + ".");
          break;
        }
        ++in_flight;
        struct Done {
          std::atomic<std::size_t>& n;
          ~Done() { --n; }
        } done{in_flight};

        Request probe;
        auto& header = parser.get();
        probe.method_text = std::string(header.method_string());
        probe.method = parse_method(probe.method_text);
        std::string_view target = header.target();
        probe.path = std::string(target.substr(0, target.find('?')));
        Router::Match match = dispatcher.route(probe);
        std::size_t limit = options.body_limit;
        if (match.route && match.route->options.body_limit > 0) limit = match.route->options.body_limit;
        if (auto length = parser.content_length(); length && *length > limit) {
          co_await write_error(stream, core::ErrorCode::payload_too_large,
                               "The body exceeds " + std::to_string(limit) + " bytes.");
          co_await linger(stream);
          break;
        }
        parser.body_limit(limit);
        if (!parser.is_done()) {
          if (auto expect = header[bhttp::field::expect]; iequals(expect, "100-continue")) {
            bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
            stream.expires_after(std::chrono::milliseconds(options.write_timeout_ms));
            co_await bhttp::async_write(stream, cont, asio::use_awaitable);
          }
          stream.expires_after(std::chrono::milliseconds(options.read_timeout_ms));
          co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
          if (ec == bhttp::error::body_limit) {
            co_await write_error(stream, core::ErrorCode::payload_too_large,
                                 "The body exceeds " + std::to_string(limit) + " bytes.");
            co_await linger(stream);
            break;
          }
          if (ec == beast::error::timeout || ec == asio::error::operation_aborted) break;
          if (ec) {
            co_await write_error(stream, core::ErrorCode::validation_failed,
                                 "Malformed HTTP request: " + ec.message() + ".");
            break;
          }
        }
        const bool keep_alive_requested = parser.keep_alive();
        const bool http10 = parser.get().version() == 10;
        Request req = to_request(parser.release(), client_ip);
        req.ctx.started = std::chrono::steady_clock::now();
        Dispatcher::begin(req, request_ids.next());
        const bool head = req.method == Method::head;
        Response res = co_await dispatcher.dispatch(req, std::move(match));
        const bool keep_alive = keep_alive_requested && !draining;
        co_await write(stream, res, keep_alive, head, http10, date);
        if (!keep_alive) break;
      }
    } catch (boost::system::system_error const& e) {
      // The peer went away or a write timed out: nothing more to say on this connection.
      log.debug("connection closed", {{"error", e.what()}});
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.socket().close(ec);
  }

  void for_each_connection(bool only_idle) {
    std::lock_guard lock(conn_mutex);
    for (Connection* c : connections) {
      asio::post(c->executor, [c, only_idle, self = shared_from_this()] {
        // The connection may have ended meanwhile; look it up again on its own thread.
        std::lock_guard lock(self->conn_mutex);
        for (Connection* live : self->connections) {
          if (live == c && (!only_idle || c->idle)) {
            // Closing (not only cancelling) also ends connections whose handler is still
            // running past the drain deadline: the client sees the connection end.
            boost::system::error_code ec;
            c->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
            c->stream->socket().close(ec);
          }
        }
      });
    }
  }
};

Server::Server(std::vector<asio::io_context*> contexts, Dispatcher& dispatcher, core::Logger& log,
               core::Metrics& metrics, ServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(contexts), dispatcher, log, metrics, std::move(options))) {
  metrics.collector(
      "http_in_flight_requests", "Requests being handled.", "gauge", [impl = impl_](std::string& out) {
        core::append_sample(out, "http_in_flight_requests", "", static_cast<double>(impl->in_flight.load()));
      });
  metrics.collector("http_open_connections", "Open client connections.", "gauge",
                    [impl = impl_](std::string& out) {
                      core::append_sample(out, "http_open_connections", "",
                                          static_cast<double>(impl->open_connections.load()));
                    });
}

Server::~Server() {
  impl_->acceptor.reset();
}

void Server::start() {
  auto& a = *impl_->acceptor;
  tcp::endpoint endpoint(asio::ip::make_address(impl_->options.host), impl_->options.port);
  a.open(endpoint.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(asio::socket_base::max_listen_connections);
  impl_->port = a.local_endpoint().port();
  asio::co_spawn(a.get_executor(), impl_->accept_loop(), asio::detached);
}

std::uint16_t Server::port() const {
  return impl_->port;
}

void Server::begin_drain() {
  impl_->draining = true;
  asio::post(*impl_->contexts.front(), [impl = impl_] {
    boost::system::error_code ec;
    if (impl->acceptor) impl->acceptor->close(ec);
  });
  impl_->for_each_connection(true);
}

bool Server::draining() const {
  return impl_->draining;
}
std::size_t Server::in_flight() const {
  return impl_->in_flight.load();
}
void Server::close_all() {
  impl_->for_each_connection(false);
}

}  // namespace bookspace::http
