#pragma once

// A streaming multipart/form-data parser (RFC 7578) for uploads: fed the body chunk by chunk,
// it hands over the bytes of the part named `file` as they arrive and skips the others, holding
// no more than a part's headers (≤ 16 KiB) and a boundary's length of carry-over in memory.

#include "http/message.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bookspace::files {

/// The boundary of a `multipart/form-data; boundary=…` Content-Type; nullopt for other types.
/// Throws ApiError (400) for a multipart type with a missing or invalid boundary.
std::optional<std::string> multipart_boundary(std::string_view content_type);

class MultipartParser {
 public:
  explicit MultipartParser(std::string const& boundary);

  /// Feeds the next bytes of the body; appends the `file` part's bytes to `out`. Throws ApiError
  /// (400 on `body`) for anything that is not well-formed multipart, or a second `file` part.
  void feed(std::string_view data, std::string& out);
  /// The body ended: throws ApiError unless the closing boundary came and a `file` part was seen.
  void finish() const;

  /// From the `file` part's headers, once they have been read.
  std::optional<std::string> filename, content_type;

 private:
  enum class State { preamble, after_delimiter, headers, body, done };
  void parse_headers(std::string_view block);

  std::string delimiter_;  ///< "\r\n--" + boundary
  std::string buf_;
  State state_ = State::preamble;
  bool in_file_ = false, file_seen_ = false;
  std::size_t parts_ = 0;
};

/// The `file` part of a multipart body as a body of its own: what the service streams into the
/// blob store (the same path as a raw upload).
class MultipartFile final : public http::BodyStream {
 public:
  MultipartFile(http::BodyStream& body, std::string const& boundary) : body_(body), parser_(boundary) {}
  core::Awaitable<std::string_view> next() override;
  std::optional<std::uint64_t> declared_length() const override { return std::nullopt; }
  MultipartParser const& parser() const { return parser_; }

 private:
  http::BodyStream& body_;
  MultipartParser parser_;
  std::string out_;
  bool ended_ = false;
};

}  // namespace bookspace::files
