#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bookspace::auth {

/// Argon2id cost. OWASP's minimum: 19 MiB, 2 passes, 1 lane (libsodium always uses 1 lane).
struct HashCost {
  unsigned long long passes = 2;
  std::size_t memory_bytes = 19 * 1024 * 1024;
};

/// Why a new password is refused (length in Unicode code points: 12–128, never truncated;
/// valid UTF-8; not a common password), or nullopt when it is acceptable.
std::optional<std::string> password_problem(std::string_view password);

/// One of the 10,000 most common passwords (data/common-passwords.txt), compared ignoring ASCII
/// case. password_problem refuses these.
bool is_common_password(std::string_view password);

/// "$argon2id$v=19$m=19456,t=2,p=1$…": the parameters travel with the hash, so the cost can be
/// raised later (needs_rehash).
std::string hash_password(std::string_view password, HashCost cost);
bool verify_password(std::string_view encoded, std::string_view password);
bool needs_rehash(std::string_view encoded, HashCost cost);

}  // namespace bookspace::auth
