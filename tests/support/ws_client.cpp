#include "ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace bookspace::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  bool reading = false;  ///< an async_read is pending
  bool ready = false;    ///< it completed with a message in `buffer`
  std::optional<int> closed;
  std::string reason;

  void start_read() {
    if (reading || closed) return;
    reading = true;
    ws.async_read(buffer, [this](boost::system::error_code ec, std::size_t) {
      reading = false;
      if (ec) {
        closed = ws.reason().code != 0 ? static_cast<int>(ws.reason().code) : 1006;
        reason = std::string(ws.reason().reason.data(), ws.reason().reason.size());
        return;
      }
      ready = true;
    });
  }

  /// Waits up to `timeout` for a message; nullopt on timeout or close.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    if (!ready) {
      start_read();
      io.restart();
      io.poll();  // what has arrived already (also with a zero timeout)
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (!ready && !closed && std::chrono::steady_clock::now() < deadline) {
        io.run_one_until(deadline);
      }
    }
    if (!ready) return std::nullopt;
    ready = false;
    std::string text = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    return text;
  }
};

WsClient::WsClient(std::uint16_t port, std::string const& target, int receive_buffer)
    : impl_(std::make_unique<Impl>()) {
  auto& socket = beast::get_lowest_layer(impl_->ws).socket();
  socket.open(asio::ip::tcp::v4());
  if (receive_buffer > 0) socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
  beast::get_lowest_layer(impl_->ws).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(impl_->ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  impl_->ws.handshake("127.0.0.1:" + std::to_string(port), target);
  beast::get_lowest_layer(impl_->ws).expires_never();
}

WsClient::~WsClient() {
  boost::system::error_code ec;
  beast::get_lowest_layer(impl_->ws).socket().close(ec);
}

void WsClient::send(std::string const& text) {
  impl_->ws.text(true);
  beast::get_lowest_layer(impl_->ws).expires_after(std::chrono::seconds(10));
  impl_->ws.write(asio::buffer(text));
  beast::get_lowest_layer(impl_->ws).expires_never();
}

void WsClient::send(boost::json::value const& message) {
  send(boost::json::serialize(message));
}

std::optional<boost::json::value> WsClient::auth(std::string const& token) {
  send(boost::json::value{{"type", "auth"}, {"token", token}});
  return answer();
}

std::optional<boost::json::value> WsClient::subscribe(std::string const& topic) {
  send(boost::json::value{{"type", "subscribe"}, {"topic", topic}});
  return answer();
}

std::optional<boost::json::value> WsClient::answer() {
  // Events of earlier subscriptions may come first: the answer is the next message of another type.
  for (;;) {
    auto m = next();
    if (!m || m->at("type") != "event") return m;
  }
}

std::optional<boost::json::value> WsClient::next(std::chrono::milliseconds timeout) {
  auto text = impl_->next(timeout);
  if (!text) return std::nullopt;
  return boost::json::parse(*text);
}

std::optional<boost::json::value> WsClient::next_of(std::string const& type,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = next(left);
    if (!m) return std::nullopt;
    if (auto const* t = m->as_object().if_contains("type"); t && *t == type.c_str()) return m;
  }
}

std::optional<int> WsClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->closed && std::chrono::steady_clock::now() < deadline) {
    impl_->next(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  }
  return impl_->closed;
}

std::optional<int> WsClient::close_code() const {
  return impl_->closed;
}

std::string WsClient::close_reason() const {
  return impl_->reason;
}

}  // namespace bookspace::testing
