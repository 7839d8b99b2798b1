#pragma once

// A small S3 client over libcurl: the calls the S3 blob store makes, each blocking (callers run
// them on the module's I/O pool or a transfer thread, never on an io thread). Requests are signed
// with AWS Signature Version 4 (s3_sign.cpp); payloads are sent with their SHA-256 where it is
// known, never aws-chunked. Idempotent calls are retried with backoff on connection failures,
// 5xx and 429; the others are not. Secrets and signatures are never logged or put in errors.

#include "core/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::files {

struct S3Config {
  std::string endpoint;  ///< scheme://host[:port], no path
  std::string region = "us-east-1";
  std::string bucket;
  std::string access_key_id;
  std::string secret_access_key;
  bool path_style = true;
  std::string prefix;  ///< prepended to every object key
  std::uint64_t part_size = 16u << 20;
  bool presign_downloads = false;
  std::string ca_file;  ///< empty: the system's CAs
};

/// A failed S3 call. It reaches clients as 503 + Retry-After (the server cannot store or read
/// content now); `status` is the HTTP status (0: no answer), `code` S3's error code.
class S3Error : public core::ApiError {
 public:
  S3Error(std::string operation, int status, std::string code, std::string message);
  int status() const { return status_; }
  std::string const& code() const { return code_; }
  /// Worth retrying: no answer, 5xx, 429 (SlowDown).
  bool transient() const { return status_ == 0 || status_ >= 500 || status_ == 429; }
  /// What went wrong, for a log line (no secret is ever part of it).
  std::string const& message() const { return message_; }
  char const* what() const noexcept override { return message_.c_str(); }

 private:
  int status_;
  std::string code_, message_;
};

/// SigV4 pieces, exposed for the signer's unit test (AWS's published example).
namespace sigv4 {
/// RFC 3986 percent-encoding as SigV4 wants it; `keep_slash` for object key paths.
std::string uri_encode(std::string_view text, bool keep_slash);
struct Request {
  std::string method, host, path;                            ///< path percent-encoded
  std::vector<std::pair<std::string, std::string>> query;    ///< raw (unencoded)
  std::vector<std::pair<std::string, std::string>> headers;  ///< signed, besides host
  std::string payload_hash;                                  ///< hex, or UNSIGNED-PAYLOAD
};
/// The Authorization header's value for `r` at `amz_date` (yyyymmddThhmmssZ).
std::string authorization(Request const& r, std::string const& amz_date, std::string const& region,
                          std::string const& access_key, std::string const& secret);
/// The query string of a presigned GET (X-Amz-*), its signature last.
std::string presigned_query(Request r, std::string const& amz_date, std::string const& region,
                            std::string const& access_key, std::string const& secret, std::int64_t expires_s);
}  // namespace sigv4

struct S3Object {
  std::string key;
  std::uint64_t size = 0;
  long long last_modified_ms = 0;
};
struct S3MultipartUpload {
  std::string key, upload_id;
  long long initiated_ms = 0;
};
struct S3Part {
  int number = 0;
  std::string etag;
};

class S3Client {
 public:
  explicit S3Client(S3Config config);
  ~S3Client();
  S3Client(S3Client const&) = delete;
  S3Client& operator=(S3Client const&) = delete;
  S3Config const& config() const { return config_; }

  /// HEAD of the bucket: throws S3Error (wrong credentials: 403; no bucket: 404; unreachable).
  void check_bucket();
  /// Creates the bucket (tests and first set-up); an existing one of ours is fine.
  void create_bucket();
  void put_object(std::string const& key, std::string_view bytes, std::string const& sha256_hex);
  /// Streams [first, last] (or all, `last` nullopt) of the object into `sink`, which returns
  /// false to stop early. Not retried (the caller knows how far it got). Throws S3Error.
  void get_object(std::string const& key, std::uint64_t first, std::optional<std::uint64_t> last,
                  std::function<bool(std::string_view)> const& sink);
  /// The object's size; nullopt when it does not exist.
  std::optional<std::uint64_t> head_object(std::string const& key);
  void delete_object(std::string const& key);  ///< a missing object is not an error

  std::string create_multipart(std::string const& key);
  std::string upload_part(std::string const& key, std::string const& upload_id, int number,
                          std::string_view bytes);
  void complete_multipart(std::string const& key, std::string const& upload_id,
                          std::vector<S3Part> const& parts);
  void abort_multipart(std::string const& key, std::string const& upload_id);  ///< gone already: fine
  /// Multipart uploads in progress under `prefix` (a key prefix, the configured prefix added).
  std::vector<S3MultipartUpload> list_multipart(std::string const& prefix);
  /// Objects under `prefix`, in key order after `after`, at most 1000 per call.
  std::vector<S3Object> list_objects(std::string const& prefix, std::string const& after);

  /// A GET URL that works without credentials for `expires_s` seconds.
  std::string presign_get(std::string const& key, std::int64_t expires_s,
                          std::vector<std::pair<std::string, std::string>> const& response_overrides);

  struct Call;  ///< one request (s3_client.cpp)

 private:
  struct Answer {
    long status = 0;
    std::string body;
  };
  struct Signed {
    std::string url;
    std::vector<std::string> header_lines;  ///< "name: value", Authorization among them
  };
  Signed sign(Call const& call) const;
  Answer perform(Call& call);
  Answer send(Call& call, bool idempotent, std::string_view operation);
  std::string url_path(std::string const& key) const;
  std::string host() const;

  S3Config config_;
  std::string scheme_, authority_;  ///< from the endpoint
  std::mutex handles_mutex_;
  std::vector<void*> handles_;  ///< idle CURL easy handles (their connections kept alive)
};

/// The text of every `<tag>…</tag>` in an S3 XML answer, entities decoded.
std::vector<std::string> xml_values(std::string_view xml, std::string_view tag);
/// Each `<tag>…</tag>` element's inner XML (for nested lists: <Upload>, <Contents>).
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);

}  // namespace bookspace::files
