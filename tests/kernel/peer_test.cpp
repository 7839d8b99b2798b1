// http::Peer, the client stand-ins use for another process's internal routes: after a run of
// failures its circuit opens and calls fail at once (no connect, no timeout), a cool-down lets
// one call through again, and a success closes it.
#include "http/peer.hpp"
#include "core/metrics.hpp"
#include "test_app.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace bookspace;
using namespace std::chrono_literals;

namespace {

double sample(core::Metrics const& m, std::string const& series) {
  const std::string text = m.render();
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("a peer that keeps failing is not waited for: its circuit opens, then lets one call try again") {
  core::Metrics metrics;
  const std::string down = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/internal/x";
  http::Peer peer({.name = "test", .timeout = 2s, .retries = 0, .failure_threshold = 3, .cool_down = 300ms},
                  metrics);
  for (int i = 0; i < 3; ++i) {
    CHECK_THROWS_WITH_AS(peer.call_blocking("GET", down), doctest::Contains("cannot be reached"),
                         http::PeerUnavailable);
  }
  CHECK(peer.open());
  CHECK(sample(metrics, "bookspace_peer_circuit_open{peer=\"test\"}") == 1);
  // Open: refused at once, without trying.
  const auto before = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(peer.call_blocking("GET", down), doctest::Contains("fail at once"),
                       http::PeerUnavailable);
  CHECK(std::chrono::steady_clock::now() - before < 50ms);
  CHECK(sample(metrics, "bookspace_peer_calls_total{peer=\"test\",outcome=\"rejected\"}") == 1);
  CHECK(sample(metrics, "bookspace_peer_calls_total{peer=\"test\",outcome=\"failed\"}") == 3);
  // After the cool-down one call goes through again (and, failing, opens it again).
  std::this_thread::sleep_for(350ms);
  CHECK_FALSE(peer.open());
  CHECK_THROWS_WITH_AS(peer.call_blocking("GET", down), doctest::Contains("cannot be reached"),
                       http::PeerUnavailable);
  CHECK(peer.open());
}

TEST_CASE("a peer that answers closes the circuit; retries cover a single failure") {
  testing::TestApp app;
  core::Metrics metrics;
  const std::string up = "http://127.0.0.1:" + std::to_string(app.port()) + "/healthz";
  const std::string down = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/healthz";
  http::Peer peer({.name = "live", .timeout = 2s, .retries = 1, .failure_threshold = 2, .cool_down = 200ms},
                  metrics);
  CHECK(peer.call_blocking("GET", up).status == 200);
  CHECK_THROWS_AS(peer.call_blocking("GET", down), http::PeerUnavailable);  // one call, two attempts
  CHECK_FALSE(peer.open());  // one failed call is under the threshold of 2
  CHECK(peer.call_blocking("GET", up).status == 200);
  CHECK(sample(metrics, "bookspace_peer_calls_total{peer=\"live\",outcome=\"ok\"}") == 2);
  CHECK(sample(metrics, "bookspace_peer_calls_total{peer=\"live\",outcome=\"failed\"}") == 1);
}
