#include "http/peer.hpp"

#include "core/metrics.hpp"

#include <thread>

namespace bookspace::http {

namespace {

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::chrono::milliseconds backoff(int attempt) {
  return std::chrono::milliseconds(50 << std::min(attempt, 4));
}

}  // namespace

Peer::Peer(PeerOptions options, core::Metrics& metrics)
    : options_(std::move(options)),
      ok_(metrics.counter("bookspace_peer_calls_total", "Calls to other BookSpace processes, by outcome.",
                          "peer=\"" + core::Metrics::escape(options_.name) + "\",outcome=\"ok\"")),
      failed_(metrics.counter("bookspace_peer_calls_total", "Calls to other BookSpace processes, by outcome.",
                              "peer=\"" + core::Metrics::escape(options_.name) + "\",outcome=\"failed\"")),
      rejected_(
          metrics.counter("bookspace_peer_calls_total", "Calls to other BookSpace processes, by outcome.",
                          "peer=\"" + core::Metrics::escape(options_.name) + "\",outcome=\"rejected\"")) {
  metrics.collector("bookspace_peer_circuit_open",
                    "1 while calls to the peer fail at once (its circuit is open).", "gauge",
                    [circuit = circuit_,
                     label = "peer=\"" + core::Metrics::escape(options_.name) + "\""](std::string& out) {
                      core::append_sample(out, "bookspace_peer_circuit_open", label,
                                          now_ms() < circuit->open_until_ms.load() ? 1 : 0);
                    });
}

bool Peer::open() const {
  return now_ms() < circuit_->open_until_ms.load();
}

void Peer::admit() {
  if (!open()) return;
  rejected_.inc();
  throw PeerUnavailable("the " + options_.name + " process failed " +
                        std::to_string(circuit_->failures.load()) +
                        " calls in a row; calls fail at once for a while");
}

void Peer::record(bool ok) {
  (ok ? ok_ : failed_).inc();
  if (ok) {
    circuit_->failures = 0;
    return;
  }
  // Past the threshold every failure (the one let through after a cool-down too) opens it again.
  if (circuit_->failures.fetch_add(1) + 1 >= options_.failure_threshold)
    circuit_->open_until_ms = now_ms() + options_.cool_down.count();
}

ClientRequest Peer::request(std::string method, std::string url, std::string body) const {
  ClientRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.timeout = options_.timeout;
  if (!options_.service_key.empty()) r.headers = {{"Authorization", "Bearer " + options_.service_key}};
  return r;
}

core::Awaitable<ClientResponse> Peer::call(std::string method, std::string url, std::string body) {
  admit();
  std::string why;
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (attempt > 0) co_await core::sleep_for(backoff(attempt - 1));
    try {
      auto r = co_await fetch(request(method, url, body));
      record(r.status < 500);
      co_return r;
    } catch (ClientError const& e) {
      why = e.what();
    }
  }
  record(false);
  throw PeerUnavailable("the " + options_.name + " process cannot be reached: " + why);
}

ClientResponse Peer::call_blocking(std::string const& method, std::string const& url,
                                   std::string const& body) {
  admit();
  std::string why;
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(backoff(attempt - 1));
    try {
      auto r = fetch_blocking(request(method, url, body));
      record(r.status < 500);
      return r;
    } catch (ClientError const& e) {
      why = e.what();
    }
  }
  record(false);
  throw PeerUnavailable("the " + options_.name + " process cannot be reached: " + why);
}

}  // namespace bookspace::http
