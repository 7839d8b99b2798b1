#pragma once

// Bodies the server moves without holding them whole (kernel-private: http::Server only):
// request bodies a stream_body route reads as they arrive, and file bodies sent with sendfile.

#include "core/async.hpp"
#include "http/message.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace bookspace::http {

struct BodyTimeouts {
  int read_ms = 30'000;   ///< each read of the body must make progress within this
  int write_ms = 30'000;  ///< the 100 Continue, and each wait for the socket to drain
};

/// A stream_body route's body, read as the handler asks for it (BodyStream). The parser
/// switches to a buffer body after the header, so a chunk lands in `chunk` and nothing more is
/// held; each read must make progress within the read timeout.
class StreamedBody final : public BodyStream {
 public:
  enum class State { reading, complete, too_large, malformed, broken };

  StreamedBody(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
               boost::beast::http::request_parser<boost::beast::http::string_body>&& head, std::size_t limit,
               BodyTimeouts timeouts);
  State state() const { return state_; }

  std::optional<std::uint64_t> declared_length() const override { return declared_; }
  core::Awaitable<std::string_view> next() override;

 private:
  boost::beast::tcp_stream& stream_;
  boost::beast::flat_buffer& buffer_;
  boost::beast::http::request_parser<boost::beast::http::buffer_body> parser_;
  std::size_t limit_;
  BodyTimeouts timeouts_;
  std::optional<std::uint64_t> declared_;
  std::vector<char> chunk_ = std::vector<char>(512 * 1024);
  State state_ = State::reading;
  boost::system::error_code pending_;  ///< a read failure kept while the bytes before it go out
  bool continued_ = false;
};

/// Sends [offset, offset + length) of the file with sendfile(2): no read loop, no user-space
/// buffer. Waits for the socket to drain between calls, each wait within `write_timeout_ms`. The
/// file's pages come from the page cache (a cold file blocks this thread on the disk, as nginx's
/// sendfile does without aio). SIGPIPE must be ignored (http::Server does).
core::Awaitable<void> send_file(boost::beast::tcp_stream& stream, FileBody const& file, int write_timeout_ms);

/// Sends the source's bytes as they come, each write within `write_timeout_ms`; throws when the
/// source ends short of its length (the connection then closes).
core::Awaitable<void> send_source(boost::beast::tcp_stream& stream, BodySource& source, int write_timeout_ms);

}  // namespace bookspace::http
