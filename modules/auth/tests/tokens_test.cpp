#include "tokens.hpp"
#include "passwords.hpp"

#include <doctest/doctest.h>
#include <sodium.h>
#include <boost/json/serialize.hpp>

using namespace bookspace;
using namespace bookspace::auth;
namespace json = boost::json;

namespace {

constexpr core::TimeMs now = 1795341600000;

struct Fixture {
  KeyRing ring;
  TokenSettings settings;
  AccessClaims claims{"user-1", "session-1", "member", "jti-1", now, now + 900'000};
  std::string seed = KeyRing::new_seed();
  Fixture() { ring.add(KeyRing::from_seed(seed)); }
  std::string token() const { return issue_access_token(ring, settings, claims); }
};

std::string part(json::object const& o) {
  return base64url_encode(json::serialize(o));
}

/// A token with any header and body, signed with `secret` (or unsigned).
std::string forge(json::object const& header, json::object const& body, unsigned char const* secret,
                  std::string_view signature_override = {}, bool use_override = false) {
  std::string input = part(header) + "." + part(body);
  if (use_override) return input + "." + std::string(signature_override);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<unsigned char const*>(input.data()), input.size(),
                       secret);
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char const*>(sig), sizeof sig));
}

json::object good_body() {
  return {{"iss", "bookspace"}, {"aud", "bookspace"}, {"sub", "user-1"},   {"sid", "session-1"},
          {"role", "admin"},    {"jti", "j"},         {"iat", now / 1000}, {"exp", now / 1000 + 900}};
}

}  // namespace

TEST_CASE("a token verifies with its claims, and not after it expires") {
  Fixture f;
  auto claims = verify_access_token(f.ring, f.settings, f.token(), now + 1000);
  REQUIRE(claims);
  CHECK(claims->subject == "user-1");
  CHECK(claims->session_id == "session-1");
  CHECK(claims->role == "member");
  CHECK(verify_access_token(f.ring, f.settings, f.token(), now + 900'000 + 59'000));  // within leeway
  CHECK_FALSE(verify_access_token(f.ring, f.settings, f.token(), now + 900'000 + 61'000));
  CHECK_FALSE(verify_access_token(f.ring, f.settings, f.token(), now - 61'000));  // issued in the future
}

TEST_CASE("the JWT attack set is refused") {
  Fixture f;
  auto const& key = f.ring.current();
  json::object header{{"alg", "EdDSA"}, {"typ", "at+jwt"}, {"kid", key.kid}};
  CHECK(verify_access_token(f.ring, f.settings, forge(header, good_body(), key.secret_key.data()), now));

  for (auto const* alg : {"none", "None", "NONE", "HS256", "RS256", "ES256", "eddsa"}) {
    INFO(alg);
    json::object h = header;
    h["alg"] = alg;
    CHECK_FALSE(verify_access_token(f.ring, f.settings, forge(h, good_body(), key.secret_key.data()), now));
    CHECK_FALSE(verify_access_token(f.ring, f.settings, forge(h, good_body(), nullptr, "", true), now));
  }
  // HS256 "signed" with the public key as the HMAC secret.
  {
    json::object h = header;
    h["alg"] = "HS256";
    std::string input = part(h) + "." + part(good_body());
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key.public_key.data(), key.public_key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<unsigned char const*>(input.data()), input.size());
    crypto_auth_hmacsha256_final(&st, mac);
    auto token =
        input + "." + base64url_encode(std::string_view(reinterpret_cast<char const*>(mac), sizeof mac));
    CHECK_FALSE(verify_access_token(f.ring, f.settings, token, now));
  }
  // Empty or truncated signature; two or four parts.
  CHECK_FALSE(verify_access_token(f.ring, f.settings, forge(header, good_body(), nullptr, "", true), now));
  std::string good = forge(header, good_body(), key.secret_key.data());
  CHECK_FALSE(verify_access_token(f.ring, f.settings, good.substr(0, good.size() - 4), now));
  CHECK_FALSE(verify_access_token(f.ring, f.settings, good.substr(0, good.rfind('.')), now));
  CHECK_FALSE(verify_access_token(f.ring, f.settings, good + ".x", now));
  // kid traversal, SQL text, unknown kid.
  for (auto const* kid : {"../../etc/passwd", "' OR 1=1 --", "unknown", ""}) {
    json::object h = header;
    h["kid"] = kid;
    CHECK_FALSE(verify_access_token(f.ring, f.settings, forge(h, good_body(), key.secret_key.data()), now));
  }
  // Keys offered by the token itself are never used; such headers are refused outright.
  unsigned char pk[32], sk[64];
  crypto_sign_keypair(pk, sk);
  for (auto const* field : {"jku", "jwk", "x5u", "x5c", "crit"}) {
    json::object h = header;
    h[field] = "https://attacker.example/keys";
    CHECK_FALSE(verify_access_token(f.ring, f.settings, forge(h, good_body(), key.secret_key.data()), now));
  }
  // Signed by another key that claims our kid.
  CHECK_FALSE(verify_access_token(f.ring, f.settings, forge(header, good_body(), sk), now));
  // Wrong typ (e.g. a refresh or ID token), wrong aud, wrong iss, not-yet-valid, missing claims.
  json::object jwt_typ = header;
  jwt_typ["typ"] = "JWT";
  CHECK_FALSE(
      verify_access_token(f.ring, f.settings, forge(jwt_typ, good_body(), key.secret_key.data()), now));
  for (auto const& [field, value] : std::initializer_list<std::pair<char const*, json::value>>{
           {"aud", "other"}, {"iss", "other"}, {"nbf", now / 1000 + 120}, {"exp", "soon"}}) {
    INFO(field);
    json::object body = good_body();
    body[field] = value;
    CHECK_FALSE(verify_access_token(f.ring, f.settings, forge(header, body, key.secret_key.data()), now));
  }
  for (auto const* missing : {"sub", "sid", "role", "jti", "exp", "iat"}) {
    json::object body = good_body();
    body.erase(missing);
    CHECK_FALSE(verify_access_token(f.ring, f.settings, forge(header, body, key.secret_key.data()), now));
  }
  // Refresh tokens are opaque random strings, never JWTs.
  CHECK_FALSE(verify_access_token(f.ring, f.settings, base64url_encode(std::string(32, 'r')), now));
  CHECK_FALSE(verify_access_token(f.ring, f.settings, "", now));
}

TEST_CASE("rotated keys: tokens of a previous key verify; JWKS publishes both") {
  Fixture old_key;
  std::string token = old_key.token();
  KeyRing ring;
  ring.add(KeyRing::from_seed(KeyRing::new_seed()));
  ring.add(KeyRing::from_public(base64url_encode(
      std::string_view(reinterpret_cast<char const*>(old_key.ring.current().public_key.data()), 32))));
  CHECK(verify_access_token(ring, old_key.settings, token, now));
  CHECK(ring.current().kid != old_key.ring.current().kid);
  auto jwks = ring.jwks();
  CHECK(jwks.at("keys").as_array().size() == 2);
  CHECK(jwks.at("keys").as_array()[0].at("kty") == "OKP");
  CHECK(json::serialize(jwks).find("secret") == std::string::npos);
  CHECK_THROWS(KeyRing::from_seed("short"));
}

TEST_CASE("passwords: length in code points, never truncated, Argon2id with its parameters") {
  CHECK(password_problem("short") == "must be at least 12 characters");
  CHECK_FALSE(password_problem("correct horse"));
  CHECK_FALSE(password_problem("ünïcødé-pâss"));       // 12 code points, more bytes
  CHECK(password_problem("ünïcødé-pâs").has_value());  // 11 code points
  CHECK(password_problem(std::string(129, 'a')).has_value());
  CHECK(password_problem("\xff\xfe invalid utf8 here").value() == "must be valid UTF-8");
  HashCost cheap{1, 8 * 1024 * 1024};
  std::string long_password(128, 'x');
  auto hash = hash_password(long_password, cheap);
  CHECK(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
  CHECK(verify_password(hash, long_password));
  CHECK_FALSE(verify_password(hash, std::string(127, 'x') + "y"));  // the last character counts
  CHECK(needs_rehash(hash, HashCost{}));
  CHECK_FALSE(needs_rehash(hash, cheap));
  CHECK_FALSE(verify_password("not a hash", "whatever"));
}
