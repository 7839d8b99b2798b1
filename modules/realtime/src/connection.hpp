#pragma once

// One realtime connection: the protocol of docs/modules/realtime.md over an http::WebSocket.

#include "hub.hpp"

#include "core/async.hpp"

#include <chrono>
#include <memory>

namespace bookspace::core {
class Clock;
class Counter;
}  // namespace bookspace::core
namespace bookspace::http {
class Authenticator;
class WebSocket;
struct Request;
}  // namespace bookspace::http
namespace bookspace::documents {
class Access;
}

namespace bookspace::realtime {

struct ConnectionDeps {
  Hub& hub;
  http::Authenticator* authenticator;  ///< null: nobody can authenticate (no auth, no JWKS)
  documents::Access* access;           ///< null: documents is not enabled here (no document topics)
  core::Clock const& clock;
  std::chrono::milliseconds auth_timeout;
  core::Counter& auth_failures;
  int messages_per_second;  ///< a client's sustained rate (twice that in a burst); beyond: rate_limited
};

/// Runs one connection until it closes: `auth` first (within auth_timeout, else 4401), then
/// subscribe / unsubscribe / ping; the token's expiry closes it with 4401 unless a fresh `auth`
/// came first.
core::Awaitable<void> serve(ConnectionDeps& deps, http::Request& req,
                            std::shared_ptr<http::WebSocket> socket);

}  // namespace bookspace::realtime
