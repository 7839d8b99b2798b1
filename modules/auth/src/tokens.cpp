#include "tokens.hpp"

#include <sodium.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace bookspace::auth {

namespace json = boost::json;

namespace {

std::string kid_of(std::array<unsigned char, 32> const& pk) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, pk.data(), pk.size());
  return base64url_encode(std::string_view(reinterpret_cast<char const*>(digest), 12));
}

std::optional<json::object> decode_json_part(std::string_view part) {
  if (part.size() > 4096) return std::nullopt;
  auto raw = base64url_decode(part);
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 8;
  auto value = json::parse(*raw, ec, {}, options);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::optional<std::string> string_claim(json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  if (!v || !v->is_string() || v->as_string().empty()) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<std::int64_t> int_claim(json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() < (1ULL << 62)) return static_cast<std::int64_t>(v->as_uint64());
  return std::nullopt;
}

}  // namespace

SigningKey KeyRing::from_seed(std::string_view seed_b64) {
  auto seed = base64url_decode(seed_b64);
  if (!seed || seed->size() != crypto_sign_SEEDBYTES)
    throw std::invalid_argument("signing key must be 32 bytes, base64url");
  SigningKey key;
  crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(),
                           reinterpret_cast<unsigned char const*>(seed->data()));
  sodium_memzero(seed->data(), seed->size());
  key.kid = kid_of(key.public_key);
  key.can_sign = true;
  return key;
}

SigningKey KeyRing::from_public(std::string_view public_b64) {
  auto pk = base64url_decode(public_b64);
  if (!pk || pk->size() != crypto_sign_PUBLICKEYBYTES)
    throw std::invalid_argument("public key must be 32 bytes, base64url");
  SigningKey key;
  std::copy(pk->begin(), pk->end(), key.public_key.begin());
  key.kid = kid_of(key.public_key);
  return key;
}

std::string KeyRing::new_seed() {
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  return base64url_encode(seed);
}

void KeyRing::add(SigningKey key) {
  if (key.can_sign && !current_.can_sign) current_ = key;
  keys_[key.kid] = std::move(key);
}

SigningKey const* KeyRing::find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

json::object KeyRing::jwks() const {
  json::array keys;
  for (auto const& [kid, key] : keys_) {
    keys.push_back({{"kty", "OKP"},
                    {"crv", "Ed25519"},
                    {"x", base64url_encode(std::string_view(
                              reinterpret_cast<char const*>(key.public_key.data()), key.public_key.size()))},
                    {"kid", kid},
                    {"alg", "EdDSA"},
                    {"use", "sig"}});
  }
  return {{"keys", std::move(keys)}};
}

KeyRing KeyRing::from_jwks(json::value const& jwks) {
  KeyRing ring;
  auto const* doc = jwks.if_object();
  auto const* keys = doc ? doc->if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) return ring;
  for (auto const& k : keys->get_array()) {
    auto const* o = k.if_object();
    if (!o || string_claim(*o, "kty") != "OKP" || string_claim(*o, "crv") != "Ed25519") continue;
    auto x = string_claim(*o, "x");
    if (!x) continue;
    try {
      auto key = from_public(*x);
      if (string_claim(*o, "kid") == key.kid) ring.add(std::move(key));
    } catch (std::invalid_argument const&) {
      continue;
    }
  }
  return ring;
}

std::optional<std::string> token_kid(std::string_view token) {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto header = decode_json_part(token.substr(0, dot));
  if (!header) return std::nullopt;
  return string_claim(*header, "kid");
}

std::string issue_access_token(KeyRing const& ring, TokenSettings const& settings,
                               AccessClaims const& claims) {
  auto const& key = ring.current();
  if (!key.can_sign) throw std::logic_error("no signing key");
  json::object header{{"alg", "EdDSA"}, {"typ", "at+jwt"}, {"kid", key.kid}};
  json::object body{{"iss", settings.issuer},
                    {"aud", settings.audience},
                    {"sub", claims.subject},
                    {"sid", claims.session_id},
                    {"role", claims.role},
                    {"jti", claims.token_id},
                    {"client_id", settings.client_id},
                    {"iat", claims.issued_at / 1000},
                    {"exp", claims.expires_at / 1000}};
  std::string input =
      base64url_encode(json::serialize(header)) + "." + base64url_encode(json::serialize(body));
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<unsigned char const*>(input.data()), input.size(),
                       key.secret_key.data());
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char const*>(sig), sizeof sig));
}

std::optional<AccessClaims> verify_access_token(KeyRing const& ring, TokenSettings const& settings,
                                                std::string_view token, core::TimeMs now_ms) {
  if (token.size() > 8192) return std::nullopt;
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return std::nullopt;
  auto header = decode_json_part(token.substr(0, dot1));
  if (!header) return std::nullopt;
  if (string_claim(*header, "alg") != "EdDSA" || string_claim(*header, "typ") != "at+jwt")
    return std::nullopt;
  for (auto const* forbidden : {"jku", "jwk", "x5u", "x5c", "crit"}) {
    if (header->contains(forbidden)) return std::nullopt;
  }
  auto kid = string_claim(*header, "kid");
  if (!kid) return std::nullopt;
  SigningKey const* key = ring.find(*kid);
  if (!key) return std::nullopt;
  auto sig = base64url_decode(token.substr(dot2 + 1));
  if (!sig || sig->size() != crypto_sign_BYTES) return std::nullopt;
  const std::string_view input = token.substr(0, dot2);
  if (crypto_sign_verify_detached(reinterpret_cast<unsigned char const*>(sig->data()),
                                  reinterpret_cast<unsigned char const*>(input.data()), input.size(),
                                  key->public_key.data()) != 0) {
    return std::nullopt;
  }
  auto body = decode_json_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!body) return std::nullopt;
  if (string_claim(*body, "iss") != settings.issuer || string_claim(*body, "aud") != settings.audience) {
    return std::nullopt;
  }
  auto exp = int_claim(*body, "exp");
  auto iat = int_claim(*body, "iat");
  const std::int64_t now_s = now_ms / 1000;
  if (!exp || !iat || *exp + settings.leeway_s <= now_s || *iat - settings.leeway_s > now_s)
    return std::nullopt;
  if (auto nbf = int_claim(*body, "nbf");
      body->contains("nbf") && (!nbf || *nbf - settings.leeway_s > now_s)) {
    return std::nullopt;
  }
  AccessClaims claims;
  auto sub = string_claim(*body, "sub");
  auto sid = string_claim(*body, "sid");
  auto role = string_claim(*body, "role");
  auto jti = string_claim(*body, "jti");
  if (!sub || !sid || !role || !jti) return std::nullopt;
  claims.subject = *sub;
  claims.session_id = *sid;
  claims.role = *role;
  claims.token_id = *jti;
  claims.issued_at = *iat * 1000;
  claims.expires_at = *exp * 1000;
  return claims;
}

}  // namespace bookspace::auth
