// Fuzzes access-token verification, the one parser every request with a bearer token reaches.
// The first byte picks what the rest is:
//   0: a raw token string, as a client would send it;
//   1: "<header JSON>\n<claims JSON>" ($KID stands for the key's kid), encoded and *validly
//      signed* here, so the fuzzer gets past
//      the signature into header and claims checking (the part an attacker with a stolen key or
//      a confused-deputy bug would reach);
//   2: claim strings for issue_access_token; the issued token must verify to the same claims.
// Crashes, sanitizer reports and broken invariants (abort) are bugs.
#include "tokens.hpp"

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace bookspace;
using namespace bookspace::auth;

constexpr core::TimeMs now = 1'795'341'600'000;

KeyRing const& ring() {
  static KeyRing r = [] {
    if (sodium_init() < 0) std::abort();
    KeyRing out;
    out.add(KeyRing::from_seed("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));
    return out;
  }();
  return r;
}

std::string sign(std::string_view header, std::string_view claims) {
  std::string input = base64url_encode(header) + "." + base64url_encode(claims);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<unsigned char const*>(input.data()), input.size(),
                       ring().current().secret_key.data());
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char const*>(sig), sizeof sig));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0) return 0;
  const TokenSettings settings;
  const std::string_view rest(reinterpret_cast<char const*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      (void)verify_access_token(ring(), settings, rest, now);
      break;
    case 1: {
      auto nl = rest.find('\n');
      if (nl == std::string_view::npos) break;
      std::string header(rest.substr(0, nl));
      if (auto at = header.find("$KID"); at != std::string::npos) header.replace(at, 4, ring().current().kid);
      auto claims = verify_access_token(ring(), settings, sign(header, rest.substr(nl + 1)), now);
      // Whatever got through was a proper access token: EdDSA, at+jwt, our kid (checked by the
      // verifier); here only that the claims it returns are usable.
      if (claims && (claims->subject.empty() || claims->session_id.empty() || claims->role.empty()))
        std::abort();
      break;
    }
    default: {
      // Three NUL-separated ASCII strings: subject, session, role (the server only ever puts ids
      // and role names there; JSON cannot carry bytes that are not UTF-8).
      std::string parts[3];
      std::size_t i = 0;
      for (char c : rest) {
        if (static_cast<unsigned char>(c) >= 0x80) return 0;
        if (c == '\0') {
          if (++i == 3) break;
        } else {
          parts[i] += c;
        }
      }
      if (parts[0].empty() || parts[1].empty() || parts[2].empty()) break;
      // The verifier refuses claims over 4 KiB (tokens are small; a huge one is an attack): keep
      // what is issued here within what is ever issued (ids and role names are tens of bytes).
      if (parts[0].size() + parts[1].size() + parts[2].size() > 512) break;
      AccessClaims in{parts[0], parts[1], parts[2], "jti", now, now + 900'000};
      auto out = verify_access_token(ring(), settings, issue_access_token(ring(), settings, in), now);
      if (!out || out->subject != in.subject || out->session_id != in.session_id || out->role != in.role)
        std::abort();
    }
  }
  return 0;
}
