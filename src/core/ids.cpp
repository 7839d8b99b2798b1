#include "core/ids.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <stdexcept>

namespace bookspace::core {

namespace {
constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, std::uint8_t const* bytes, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(hex_digits[bytes[i] >> 4]);
    out.push_back(hex_digits[bytes[i] & 0xf]);
  }
}
}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<unsigned char const*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the NUL libsodium writes
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t length = 0;
  char const* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        nullptr, &length, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string sha256_hex(std::string_view text) {
  Sha256 sha;
  sha.update(text);
  return sha.hex();
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    throw std::runtime_error("SHA-256 unavailable");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Sha256::update(std::string_view bytes) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(), bytes.size());
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &length) != 1)
    throw std::runtime_error("SHA-256 failed");
  char out[2 * EVP_MAX_MD_SIZE + 1];
  sodium_bin2hex(out, sizeof out, digest, length);
  return out;
}

std::string random_hex(std::size_t n) {
  std::string out;
  out.reserve(n * 2);
  std::array<std::uint8_t, 64> buf;
  while (n > 0) {
    std::size_t chunk = std::min(n, buf.size());
    randombytes_buf(buf.data(), chunk);
    append_hex(out, buf.data(), chunk);
    n -= chunk;
  }
  return out;
}

std::string RandomIdGenerator::uuid_v7() {
  const auto ms = static_cast<std::uint64_t>(clock_.now_ms());
  std::uint64_t next = ms << 12;
  std::uint64_t prev = last_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint64_t candidate = next > prev ? next : prev + 1;
    if (last_.compare_exchange_weak(prev, candidate, std::memory_order_relaxed)) {
      next = candidate;
      break;
    }
  }
  const std::uint64_t stamp = next >> 12;
  const std::uint16_t counter = static_cast<std::uint16_t>(next & 0xfff);
  std::array<std::uint8_t, 16> b;
  randombytes_buf(b.data(), b.size());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(stamp >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | (counter >> 8));
  b[7] = static_cast<std::uint8_t>(counter & 0xff);
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));
  std::string out;
  out.reserve(36);
  append_hex(out, b.data(), 4);
  out.push_back('-');
  append_hex(out, b.data() + 4, 2);
  out.push_back('-');
  append_hex(out, b.data() + 6, 2);
  out.push_back('-');
  append_hex(out, b.data() + 8, 2);
  out.push_back('-');
  append_hex(out, b.data() + 10, 6);
  return out;
}

RequestIdGenerator::RequestIdGenerator() : prefix_(random_hex(6)) {}

std::string RequestIdGenerator::next() {
  // "-" and the counter in hex, at least 10 digits (snprintf's "%010llx" cost more than the
  // rest of a /healthz's request id).
  auto n = static_cast<unsigned long long>(counter_.fetch_add(1, std::memory_order_relaxed));
  char digits[16];
  int len = 0;
  do {
    digits[len++] = "0123456789abcdef"[n & 0xf];
    n >>= 4;
  } while (n != 0);
  std::string out;
  out.reserve(prefix_.size() + 17);
  out += prefix_;
  out += '-';
  for (int pad = len; pad < 10; ++pad) out += '0';
  while (len > 0) out += digits[--len];
  return out;
}

bool looks_like_uuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace bookspace::core
