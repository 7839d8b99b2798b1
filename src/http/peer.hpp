#pragma once

// Calls to another BookSpace process (a module's stand-in reaching the process that runs the
// module): the service key, retries with backoff, and a circuit breaker — after
// `failure_threshold` consecutive failures (unreachable, timed out, 5xx) calls fail at once for
// `cool_down`, instead of each waiting for a timeout while the peer is down; then one call is
// let through to try it again. Metrics per peer: bookspace_peer_calls_total{peer,outcome}
// (ok, failed, rejected) and bookspace_peer_circuit_open{peer}.

#include "core/async.hpp"
#include "http/client.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

namespace bookspace::core {
class Clock;
class Counter;
class Metrics;
}  // namespace bookspace::core

namespace bookspace::http {

struct PeerOptions {
  std::string name;         ///< "auth", "documents": the metrics label
  std::string service_key;  ///< sent as `Authorization: Bearer …`; empty: none
  std::chrono::milliseconds timeout{5000};
  int retries = 1;            ///< more attempts after a failure to reach it (50 ms, 100 ms… apart)
  int failure_threshold = 5;  ///< consecutive failed calls that open the circuit
  std::chrono::milliseconds cool_down{10'000};
};

/// The peer could not be reached, or its circuit is open: the caller's 503.
class PeerUnavailable : public ClientError {
 public:
  using ClientError::ClientError;
};

class Peer {
 public:
  Peer(PeerOptions options, core::Metrics& metrics);

  /// `url` absolute (http://a:8080/internal/…); `body` sent as JSON when not empty. A 5xx
  /// answer counts as a failure but is returned; PeerUnavailable when no answer came.
  core::Awaitable<ClientResponse> call(std::string method, std::string url, std::string body = {});
  /// The same for threads that may block (jobs, the scheduler, start-up).
  ClientResponse call_blocking(std::string const& method, std::string const& url,
                               std::string const& body = {});

  bool open() const;

 private:
  ClientRequest request(std::string method, std::string url, std::string body) const;
  /// Throws PeerUnavailable while the circuit is open.
  void admit();
  void record(bool ok);

  PeerOptions options_;
  core::Counter& ok_;
  core::Counter& failed_;
  core::Counter& rejected_;
  /// Shared with the metrics collector, which may outlive this object.
  struct Circuit {
    std::atomic<int> failures{0};
    std::atomic<long long> open_until_ms{0};
  };
  std::shared_ptr<Circuit> circuit_ = std::make_shared<Circuit>();
};

}  // namespace bookspace::http
