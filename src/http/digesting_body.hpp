#pragma once

// A request body passed through while its SHA-256 is taken (kernel-private: the Dispatcher's
// Idempotency-Key support for stream_body routes).

#include "http/message.hpp"

#include <memory>
#include <string>

namespace bookspace::http {

class DigestingBody final : public BodyStream {
 public:
  explicit DigestingBody(BodyStream& inner);
  ~DigestingBody() override;
  core::Awaitable<std::string_view> next() override;
  std::optional<std::uint64_t> declared_length() const override { return inner_.declared_length(); }
  /// True once the whole body went through (next() answered empty).
  bool complete() const { return complete_; }
  /// Reads what is left, then answers the hex SHA-256 of the whole body.
  core::Awaitable<std::string> finish();

 private:
  struct Sha;
  BodyStream& inner_;
  std::unique_ptr<Sha> sha_;
  bool complete_ = false;
};

}  // namespace bookspace::http
