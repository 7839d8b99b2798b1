#include "http/idempotency.hpp"

#include "core/error.hpp"
#include "core/ids.hpp"
#include "http/digesting_body.hpp"

#include <algorithm>
#include <exception>

namespace bookspace::http {

core::Awaitable<Response> run_idempotent(IdempotencyStore& store, Request& req, Route const& route,
                                         std::string_view key) {
  const bool sane = !key.empty() && key.size() <= 255 &&
                    std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!sane) {
    throw core::ApiError(core::Error::validation("Idempotency-Key", "1–255 visible ASCII characters"));
  }
  const std::string scope = req.ctx.principal.authenticated() ? req.ctx.principal.user_id : "anonymous";
  // A streamed body is not here yet: its digest is taken as it streams and stored on completion.
  const bool streamed = route.options.stream_body && req.body_stream;
  const std::string fingerprint = core::sha256_hex(req.method_text + " " + req.target + "\n" +
                                                   (streamed ? std::string("(streamed)") : req.body));
  auto outcome = co_await store.claim(scope, std::string(key), fingerprint);
  std::optional<DigestingBody> digesting;
  if (streamed) digesting.emplace(*req.body_stream);
  if (streamed && outcome.claim == IdempotencyStore::Claim::replay &&
      co_await digesting->finish() != outcome.body_digest)
    outcome.claim = IdempotencyStore::Claim::mismatch;
  switch (outcome.claim) {
    case IdempotencyStore::Claim::mismatch:
      throw core::ApiError(core::ErrorCode::idempotency_conflict,
                           "This Idempotency-Key was used with a different request.");
    case IdempotencyStore::Claim::running:
      throw core::ApiError(core::ErrorCode::conflict,
                           "A request with this Idempotency-Key is still being processed; retry shortly.");
    case IdempotencyStore::Claim::replay: {
      Response res{outcome.stored.status, {}, std::move(outcome.stored.body)};
      for (auto& [name, value] : outcome.stored.headers) res.headers.add(std::move(name), std::move(value));
      res.headers.add("Idempotent-Replayed", "true");
      co_return res;
    }
    case IdempotencyStore::Claim::fresh:
      break;
  }
  std::exception_ptr failure;
  Response res;
  BodyStream* const original = req.body_stream;
  if (digesting) req.body_stream = &*digesting;
  try {
    res = co_await route.handler(req);
  } catch (core::ApiError const& e) {
    res = problem(e.error(), req.ctx.request_id);  // a 4xx is an answer, remembered like any other
  } catch (...) {
    failure = std::current_exception();
  }
  req.body_stream = original;
  // A streamed request is remembered only when it succeeded: an early refusal (413, 507…) did
  // not read the body, so it could not tell a retry's body from another. What a successful
  // handler left unread (a multipart epilogue) is read into the digest too.
  std::string digest;
  if (!failure && digesting && res.status < 300) {
    try {
      digest = co_await digesting->finish();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  if (failure || res.status >= 500 || (digesting && digest.empty())) {
    co_await store.release(scope, std::string(key));
    if (failure) std::rethrow_exception(failure);
    co_return res;
  }
  StoredResponse stored{res.status, {}, res.body};
  for (auto const& [name, value] : res.headers) stored.headers.emplace_back(name, value);
  co_await store.complete(scope, std::string(key), std::move(stored), std::move(digest));
  co_return res;
}

}  // namespace bookspace::http
