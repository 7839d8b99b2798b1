#include "passwords.hpp"

#include "core/text.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

namespace bookspace::embedded {
std::string_view common_passwords();  // modules/auth/data/common-passwords.txt, compiled in
}  // namespace bookspace::embedded

namespace bookspace::auth {

namespace {

/// The 10,000 most common passwords (lower case), built once on first use.
std::unordered_set<std::string_view> const& common_password_set() {
  static const auto set = [] {
    std::unordered_set<std::string_view> words;
    std::string_view text = embedded::common_passwords();
    words.reserve(10'000);
    while (!text.empty()) {
      auto end = text.find('\n');
      auto line = text.substr(0, end);
      if (!line.empty()) words.insert(line);
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return words;
  }();
  return set;
}

}  // namespace

std::optional<std::string> password_problem(std::string_view password) {
  auto length = core::checked_code_points(password);
  if (!length) return "must be valid UTF-8";
  if (*length < 12) return "must be at least 12 characters";
  if (*length > 128) return "must be at most 128 characters";
  if (is_common_password(password)) return "is one of the most commonly used passwords";
  return std::nullopt;
}

bool is_common_password(std::string_view password) {
  std::string lower(password);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return common_password_set().contains(lower);
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
