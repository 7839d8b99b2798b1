#pragma once

// Private to http/server.cpp: one request's exchange over a Beast stream (http::Exchange), and
// the writes the server makes outside the pipeline.

#include "core/async.hpp"
#include "http/body_budget.hpp"
#include "http/body_io.hpp"
#include "http/connection_table.hpp"
#include "http/dispatcher.hpp"
#include "http/message.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace bookspace::core {
class Counter;
class Logger;
}  // namespace bookspace::core

namespace bookspace::http {

struct ServerOptions;
class WebSockets;
using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// The Date header of one connection: formatted at most once a second, no lock needed.
struct DateCache {
  std::int64_t second = -1;
  std::string text;
  std::string_view now();
};

/// Writes a response: the head formatted by hand (wire.hpp) and sent with the body in one
/// gather write — measurably cheaper than Beast's generic serializer on small responses — or
/// the head, then the file with sendfile(2); then, with `then_linger`, a lingering close.
core::Awaitable<void> write_response(boost::beast::tcp_stream& stream, Response& res, bool keep_alive,
                                     bool head, bool http10, DateCache& date, int write_timeout_ms,
                                     bool then_linger = false);

/// After an early answer (413 before the body was read) the client may still be sending.
/// Closing with unread data makes the kernel send RST, and the client loses the answer; so stop
/// sending, then read and discard for a bounded time and amount, as nginx's lingering close does.
core::Awaitable<void> linger(boost::beast::tcp_stream& stream);

/// What one connection shares with each of its exchanges.
struct ConnectionState {
  boost::beast::tcp_stream& stream;
  boost::beast::flat_buffer& buffer;
  ServerOptions const& options;
  BodyBudget& budget;
  core::Counter& budget_refusals;
  WebSockets& websockets;
  ConnectionTable& table;
  ConnectionTable::Slot& slot;
  core::Logger& log;
  DateCache& date;
  std::atomic<bool> const& draining;
};

/// One request on a connection, its head read into `parser`. Afterwards the connection is kept
/// (keep_alive()) only when the body was consumed whole and both sides want it.
class SocketExchange final : public Exchange {
 public:
  SocketExchange(ConnectionState& connection, RequestParser& parser);

  bool body_done() const override;
  std::optional<std::uint64_t> declared_length() const override;
  std::size_t body_limit(std::size_t route_limit) const override;
  core::Awaitable<Read> read_body(std::string& into, std::size_t limit) override;
  BodyStream& stream_body(std::size_t limit) override;
  core::Awaitable<void> skip_body() override;
  bool upgrade_requested() const override;
  core::Awaitable<std::optional<Response>> upgrade(Request& req, WebSocketOptions const& options) override;
  core::Awaitable<void> answer(Response& res) override;

  /// The stream went to a WebSocket: the HTTP session ends without touching it.
  bool upgraded() const { return upgraded_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  core::Awaitable<Read> read_into_parser(std::size_t limit);

  ConnectionState& c_;
  RequestParser& parser_;
  BodyBudget::Share share_;
  std::optional<StreamedBody> streamed_;
  bool consumed_;             ///< the body was read whole (or there was none)
  bool silent_ = false;       ///< the body was cut off: close without an answer
  bool close_after_ = false;  ///< refused: answer, then close
  bool upgraded_ = false;
  bool keep_alive_ = false;
  // Taken from the head up front: a streamed body takes the parser over.
  const bool wants_keep_alive_;
  const bool http10_;
  const bool head_;
};

}  // namespace bookspace::http
