#pragma once

#include "core/async.hpp"
#include "core/error.hpp"

#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bookspace::http {

enum class Method { get, head, post, put, patch, del, options, other };
std::string_view to_string(Method method);
Method parse_method(std::string_view text);

/// Header fields in arrival order; names compare case-insensitively.
class Headers {
 public:
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  /// Replaces every field of that name.
  void set(std::string_view name, std::string value);
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool iequals(std::string_view a, std::string_view b);

/// Who is calling, set by the authentication middleware; empty when anonymous.
struct Principal {
  std::string user_id;
  std::string role;             ///< "admin" | "member"
  std::string session_id;       ///< empty for API keys
  std::int64_t expires_at = 0;  ///< ms since the epoch when the credential stops working; 0: no expiry
  std::string key_hash;         ///< API keys: SHA-256 hex of the key (revocations name it)
  bool authenticated() const { return !user_id.empty(); }
};

/// Per-request facts the kernel fills in before the handler runs.
struct RequestContext {
  std::string request_id;
  std::string trace_id;     ///< from `traceparent`, else empty
  std::string traceparent;  ///< the header as received, when well-formed
  std::string client_ip;
  std::string_view route;  ///< the matched template, "/api/v1/documents/{id}"
  Principal principal;
  std::chrono::steady_clock::time_point started{};
};

/// A request body its handler reads as it arrives (RouteOptions::stream_body): the body never
/// sits whole in memory, and a client that sends faster than the handler consumes is slowed by
/// TCP (nothing is read until the handler asks).
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  /// The next bytes of the body (up to a few hundred KiB), valid until the next call; empty
  /// once the body is complete. Throws ApiError: payload_too_large as soon as the body crosses
  /// the route's limit (chunked, or longer than its Content-Length), validation_failed when it
  /// is malformed, cut off or too slow (the connection is then closed).
  virtual core::Awaitable<std::string_view> next() = 0;
  /// The declared Content-Length; nullopt for a chunked body.
  virtual std::optional<std::uint64_t> declared_length() const = 0;
};

/// A body already in memory, read as a stream: what a stream_body route gets when the request
/// carried no body to stream (Content-Length: 0, none at all) or came in whole (tests).
class BufferedBodyStream final : public BodyStream {
 public:
  explicit BufferedBodyStream(std::string_view body) : body_(body) {}
  core::Awaitable<std::string_view> next() override;
  std::optional<std::uint64_t> declared_length() const override { return body_.size(); }

 private:
  std::string_view body_;
  bool read_ = false;
};

/// A fully read HTTP request; transport-agnostic so handlers are testable without a socket.
struct Request {
  Method method = Method::get;
  std::string method_text;
  std::string target;  ///< as sent: path + query
  std::string path;    ///< as sent (percent-encoded); route params are decoded
  std::string query;   ///< raw query string, without '?'
  Headers headers;
  std::string body;  ///< empty on stream_body routes: read body_stream instead
  /// Set on stream_body routes while the handler runs, never null there: a request without a
  /// body gets an empty stream (the dispatcher sees to it).
  BodyStream* body_stream = nullptr;
  std::vector<std::pair<std::string, std::string>> params;  ///< from the route template
  RequestContext ctx;

  std::string_view param(std::string_view name) const;
  /// Decoded query parameter; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
};

/// Bytes of an open file sent as a response body without passing through user space
/// (sendfile): [offset, offset + length) of `fd`, which it owns and closes.
class FileBody {
 public:
  FileBody(int fd, std::uint64_t offset, std::uint64_t length) : fd_(fd), offset_(offset), length_(length) {}
  ~FileBody();
  FileBody(FileBody const&) = delete;
  FileBody& operator=(FileBody const&) = delete;
  int fd() const { return fd_; }
  std::uint64_t offset() const { return offset_; }
  std::uint64_t length() const { return length_; }

 private:
  int fd_;
  std::uint64_t offset_, length_;
};

/// A response body made as it is sent (a download from a remote store): next() is asked for
/// more only once the previous bytes are written, so a client that reads slowly slows the
/// source instead of making the server hold the body.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual std::uint64_t length() const = 0;  ///< sent as Content-Length
  /// The next bytes, valid until the next call; empty at the end. A throw, or an end before
  /// `length` bytes, closes the connection (the client sees a short body, never a wrong one).
  virtual core::Awaitable<std::string_view> next() = 0;
};

/// A response; the server adds Date, Content-Length, X-Request-Id, Connection.
struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  /// When set, the body is these bytes of a file instead of `body` (downloads).
  std::shared_ptr<FileBody> file;
  /// When set, the body comes from this source instead of `body` (remote downloads).
  std::shared_ptr<BodySource> source;
  std::uint64_t body_length() const {
    return file ? file->length() : source ? source->length() : body.size();
  }

  static Response json(int status, boost::json::value const& value);
  /// A JSON body already serialized (core::JsonWriter).
  static Response json_text(int status, std::string body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response no_content() { return Response{204, {}, {}}; }
};

/// problem+json for an error (RFC 9457), with the request id.
Response problem(core::Error const& error, std::string_view request_id = {});
Response problem(core::ErrorCode code, std::string detail, std::string_view request_id = {});

/// Parses a JSON request body: 415 unless the content type is application/json (or +json),
/// 400 for malformed JSON, depth over 64, or a body that is not an object. Throws ApiError.
boost::json::object parse_json_object(Request const& req);

/// API.md: unknown or read-only fields → 400. Throws ApiError naming the first such field.
void only_fields(boost::json::object const& body, std::initializer_list<std::string_view> allowed);
/// A string field; absent or null → "" unless `required` (then 400); any other type → 400.
std::string string_field(boost::json::object const& body, std::string_view name, bool required = true);

/// API.md lists: `?limit=` 1–100, default 20; anything else → 400 on field `limit`.
int list_limit(Request const& req);

}  // namespace bookspace::http
