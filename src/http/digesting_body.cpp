#include "http/digesting_body.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace bookspace::http {

struct DigestingBody::Sha {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Sha() {
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("SHA-256 unavailable");
  }
  ~Sha() { EVP_MD_CTX_free(ctx); }
};

DigestingBody::DigestingBody(BodyStream& inner) : inner_(inner), sha_(std::make_unique<Sha>()) {}
DigestingBody::~DigestingBody() = default;

core::Awaitable<std::string_view> DigestingBody::next() {
  if (complete_) co_return std::string_view();
  const std::string_view chunk = co_await inner_.next();
  if (chunk.empty()) {
    complete_ = true;
  } else {
    EVP_DigestUpdate(sha_->ctx, chunk.data(), chunk.size());
  }
  co_return chunk;
}

core::Awaitable<std::string> DigestingBody::finish() {
  while (!complete_) co_await next();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(sha_->ctx, digest, &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  co_return out;
}

}  // namespace bookspace::http
