#pragma once

#include "core/clock.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

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
/// Lower-case hex SHA-256 of `text` (token and request fingerprints).
std::string sha256_hex(std::string_view text);
/// Base64url without padding (RFC 4648 §5): tokens, keys, opaque cursors.
std::string base64url_encode(std::string_view bytes);
/// nullopt for anything that is not exactly base64url without padding.
std::optional<std::string> base64url_decode(std::string_view text);
/// True for a well-formed UUID string (any version), lower or upper case.
bool looks_like_uuid(std::string_view text);

}  // namespace bookspace::core
