#include "http/body_io.hpp"

#include <utility>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <sys/sendfile.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace bookspace::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

StreamedBody::StreamedBody(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                           bhttp::request_parser<bhttp::string_body>&& head, std::size_t limit,
                           BodyTimeouts timeouts)
    : stream_(stream), buffer_(buffer), parser_(std::move(head)), limit_(limit), timeouts_(timeouts) {
  parser_.body_limit(limit);
  buffer_.reserve(64 * 1024);  // reads of 64 KiB, not of what the header left room for
  if (auto length = parser_.content_length()) declared_ = *length;
}

core::Awaitable<std::string_view> StreamedBody::next() {
  if (state_ == State::complete) co_return std::string_view();
  if (state_ != State::reading)
    throw core::ApiError(core::ErrorCode::validation_failed, "The body was not read.");
  if (!continued_) {
    continued_ = true;
    if (iequals(parser_.get()[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
      stream_.expires_after(std::chrono::milliseconds(timeouts_.write_ms));
      co_await bhttp::async_write(stream_, cont, asio::use_awaitable);
    }
  }
  // Fill the chunk: reads of up to 64 KiB each (Beast's read size) until it holds at least
  // half of it or the body ends, so the handler sees few large chunks, not many small ones.
  boost::system::error_code failed = std::exchange(pending_, {});
  parser_.get().body().data = chunk_.data();
  parser_.get().body().size = chunk_.size();
  std::size_t got = 0;
  while (!parser_.is_done() && got < chunk_.size() / 2) {
    boost::system::error_code ec = std::exchange(failed, {});
    if (!ec) {
      stream_.expires_after(std::chrono::milliseconds(timeouts_.read_ms));
      co_await bhttp::async_read_some(stream_, buffer_, parser_,
                                      asio::redirect_error(asio::use_awaitable, ec));
    }
    got = chunk_.size() - parser_.get().body().size;
    if (ec == bhttp::error::need_buffer) ec = {};  // the chunk is full: hand it over
    if (ec == bhttp::error::body_limit) {
      state_ = State::too_large;
      throw core::ApiError(core::ErrorCode::payload_too_large,
                           "The body exceeds " + std::to_string(limit_) + " bytes.");
    }
    if (ec && got > 0) {
      // What arrived before the failure is handed over first (a resumable upload keeps it);
      // the failure comes with the next call.
      pending_ = ec;
      co_return std::string_view(chunk_.data(), got);
    }
    if (ec) {
      // The parser's own verdict (a bad chunk size, say) is the client's mistake, answered 400;
      // a connection cut off or too slow has nobody left to answer.
      const bool malformed = ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() &&
                             ec != bhttp::error::partial_message;
      state_ = malformed ? State::malformed : State::broken;
      throw core::ApiError(core::ErrorCode::validation_failed,
                           malformed ? "The body is malformed (" + ec.message() + ")."
                                     : "The body was cut off or too slow (" + ec.message() + ").");
    }
  }
  if (got > 0) co_return std::string_view(chunk_.data(), got);
  state_ = State::complete;
  co_return std::string_view();
}

core::Awaitable<void> send_file(beast::tcp_stream& stream, FileBody const& file, int write_timeout_ms) {
  using namespace asio::experimental::awaitable_operators;
  auto& socket = stream.socket();
  socket.native_non_blocking(true);
  off_t offset = static_cast<off_t>(file.offset());
  std::uint64_t left = file.length();
  while (left > 0) {
    const ssize_t n = ::sendfile(socket.native_handle(), file.fd(), &offset,
                                 static_cast<std::size_t>(std::min<std::uint64_t>(left, 16u << 20)));
    if (n > 0) {
      left -= static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0) throw std::runtime_error("sendfile: the file is shorter than announced");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      throw boost::system::system_error(errno, boost::system::system_category());
    asio::steady_timer timer(socket.get_executor());
    timer.expires_after(std::chrono::milliseconds(write_timeout_ms));
    auto ready = co_await (socket.async_wait(tcp::socket::wait_write, asio::use_awaitable) ||
                           timer.async_wait(asio::use_awaitable));
    if (ready.index() == 1) throw boost::system::system_error(asio::error::timed_out);
  }
}

core::Awaitable<void> send_source(beast::tcp_stream& stream, BodySource& source, int write_timeout_ms) {
  std::uint64_t left = source.length();
  while (left > 0) {
    const std::string_view bytes = co_await source.next();
    if (bytes.empty() || bytes.size() > left)
      throw std::runtime_error("a streamed body differs from its length");
    stream.expires_after(std::chrono::milliseconds(write_timeout_ms));
    co_await asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
    left -= bytes.size();
  }
}

}  // namespace bookspace::http
