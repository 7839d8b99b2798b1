#include "passwords.hpp"

#include <sodium.h>

#include <stdexcept>

namespace bookspace::auth {

namespace {

/// Code points of valid UTF-8, or nullopt.
std::optional<std::size_t> utf8_length(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return std::nullopt;
    }
    i += n;
    ++count;
  }
  return count;
}

}  // namespace

std::optional<std::string> password_problem(std::string_view password) {
  auto length = utf8_length(password);
  if (!length) return "must be valid UTF-8";
  if (*length < 12) return "must be at least 12 characters";
  if (*length > 128) return "must be at most 128 characters";
  return std::nullopt;
}

std::string hash_password(std::string_view password, HashCost cost) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.passes, cost.memory_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  std::string copy(encoded);  // libsodium wants a NUL-terminated string
  return crypto_pwhash_str_verify(copy.c_str(), password.data(), password.size()) == 0;
}

bool needs_rehash(std::string_view encoded, HashCost cost) {
  std::string copy(encoded);
  return crypto_pwhash_str_needs_rehash(copy.c_str(), cost.passes, cost.memory_bytes) != 0;
}

}  // namespace bookspace::auth
