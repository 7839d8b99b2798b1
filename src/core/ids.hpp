#pragma once

#include "core/clock.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bookspace::core {

/// Makes identifiers; injected so tests can predict them.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  /// A UUIDv7 string: time-ordered, 74 random bits.
  virtual std::string uuid_v7() = 0;
};

/// UUIDv7 from the given clock and libsodium's CSPRNG. Within one millisecond the counter
/// bits keep ids of this generator increasing.
class RandomIdGenerator final : public IdGenerator {
 public:
  explicit RandomIdGenerator(Clock const& clock) : clock_(clock) {}
  std::string uuid_v7() override;

 private:
  Clock const& clock_;
  std::atomic<std::uint64_t> last_{0};  // (ms << 12) | counter
};

/// Cheap unique request ids: a random per-process prefix and a counter.
class RequestIdGenerator {
 public:
  RequestIdGenerator();
  std::string next();

 private:
  std::string prefix_;
  std::atomic<std::uint64_t> counter_{0};
};

/// Lower-case hex of `n` random bytes.
std::string random_hex(std::size_t n);
/// Lower-case hex SHA-256 of `text` (token and request fingerprints, S3 payload hashes).
std::string sha256_hex(std::string_view text);

/// A SHA-256 taken piece by piece (blobs as they stream), over OpenSSL, which uses the CPU's SHA
/// extensions (about 2 GB/s here against libsodium's portable 250 MB/s).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256 const&) = delete;
  Sha256& operator=(Sha256 const&) = delete;
  void update(std::string_view bytes);
  /// Lower-case hex of what was added; call once.
  std::string hex();

 private:
  void* ctx_;  ///< EVP_MD_CTX (OpenSSL stays out of this header)
};
/// Base64url without padding (RFC 4648 §5): tokens, keys, opaque cursors.
std::string base64url_encode(std::string_view bytes);
/// nullopt for anything that is not exactly base64url without padding.
std::optional<std::string> base64url_decode(std::string_view text);
/// True for a well-formed UUID string (any version), lower or upper case.
bool looks_like_uuid(std::string_view text);

}  // namespace bookspace::core
