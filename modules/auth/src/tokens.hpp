#pragma once

#include "core/clock.hpp"
#include "core/ids.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::auth {

using core::base64url_decode;
using core::base64url_encode;

/// An Ed25519 key: `kid` is derived from the public key, so every instance names it alike.
struct SigningKey {
  std::string kid;
  std::array<unsigned char, 32> public_key{};
  std::array<unsigned char, 64> secret_key{};  ///< zero for verify-only (previous) keys
  bool can_sign = false;
};

/// The current key (signs) and previous keys (verify until their tokens expire).
class KeyRing {
 public:
  /// From a 32-byte seed (base64url); throws std::invalid_argument when malformed.
  static SigningKey from_seed(std::string_view seed_b64);
  /// A verify-only key from a 32-byte public key (base64url).
  static SigningKey from_public(std::string_view public_b64);
  static std::string new_seed();
  /// The verify-only ring of a JWKS document (KeyRing::jwks()): Ed25519 keys whose `kid` is the
  /// one their public key gives; anything else in it is skipped.
  static KeyRing from_jwks(boost::json::value const& jwks);

  void add(SigningKey key);
  SigningKey const& current() const { return current_; }
  SigningKey const* find(std::string_view kid) const;
  bool empty() const { return keys_.empty(); }
  /// {"keys":[{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}]}
  boost::json::object jwks() const;

 private:
  SigningKey current_;
  std::map<std::string, SigningKey, std::less<>> keys_;
};

struct AccessClaims {
  std::string subject;     ///< account id
  std::string session_id;  ///< sid
  std::string role;
  std::string token_id;  ///< jti
  core::TimeMs issued_at = 0;
  core::TimeMs expires_at = 0;
};

struct TokenSettings {
  std::string issuer = "bookspace";
  std::string audience = "bookspace";
  std::string client_id = "bookspace";  ///< RFC 9068's client_id: the first-party client
  int lifetime_s = 900;
  int leeway_s = 60;
};

/// A JWT (`typ` at+jwt, `alg` EdDSA) signed with the ring's current key.
std::string issue_access_token(KeyRing const& ring, TokenSettings const& settings,
                               AccessClaims const& claims);

/// The `kid` of a token's header, unverified: which key to look for.
std::optional<std::string> token_kid(std::string_view token);

/// Verifies an access token. Refuses: anything but three base64url parts; `alg` other than
/// EdDSA (none, HS256…); `typ` other than at+jwt; an unknown kid; jku/jwk/x5u/x5c/crit headers
/// (keys never come from the token); a bad signature; wrong iss/aud; expired or not yet valid
/// beyond the leeway; missing sub/sid/role/jti. Returns the claims or nullopt.
std::optional<AccessClaims> verify_access_token(KeyRing const& ring, TokenSettings const& settings,
                                                std::string_view token, core::TimeMs now_ms);

}  // namespace bookspace::auth
