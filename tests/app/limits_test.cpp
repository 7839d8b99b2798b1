// The server's own bounds on what clients can make it hold: bodies of requests refused from
// their headers are never read, buffered bodies share one budget, connections are capped per
// client address and in total, and accept() backs off when descriptors run out.

#include "core/database.hpp"
#include "core/metrics.hpp"
#include "documents_helpers.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

using namespace bookspace;
using namespace bookspace::testing;

namespace {

/// The value of an unlabelled sample in the app's metrics, read in-process (a /metrics request
/// would need a connection of its own).
double metric(TestApp& app, std::string const& name) {
  const std::string text = app.metrics().render();
  const auto at = text.find("\nbookspace_" + name + " ");
  REQUIRE(at != std::string::npos);
  return std::stod(text.substr(at + name.size() + 12));
}

double labelled_metric(TestApp& app, std::string const& series) {
  const std::string text = app.metrics().render();
  const auto at = text.find("\nbookspace_" + series + " ");
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + series.size() + 12));
}

std::string post_head(std::string const& path, std::size_t length, std::string const& token = "") {
  std::string head = "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  if (!token.empty()) head += "Authorization: Bearer " + token + "\r\n";
  return head + "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

/// A document body of exactly `length` bytes.
std::string document_body(std::size_t length) {
  const std::string open = R"({"title":"big","content":")", close = "\"}";
  return open + std::string(length - open.size() - close.size(), 'x') + close;
}

int status_of(std::string const& raw) {
  return raw.size() > 12 ? std::stoi(raw.substr(9, 3)) : 0;
}

}  // namespace

TEST_CASE("anonymous bodies for routes that need a principal are answered 401 from the headers, never read") {
  TestApp app(generous(), with_documents());
  std::vector<RawConnection> clients;
  for (int i = 0; i < 24; ++i) {
    auto& c = clients.emplace_back(app.port());
    // 6 MB announced (under the route's limit), only 64 KiB sent: the answer must not wait
    // for the rest.
    REQUIRE(c.send(post_head("/api/v1/documents", 6'000'000) + std::string(64 * 1024, 'x')));
  }
  for (auto& c : clients) {
    std::string raw = c.read_until("\r\n\r\n");
    CHECK(status_of(raw) == 401);
    CHECK(raw.find("Connection: close") != std::string::npos);
  }
  // All 24 are still open (the server lingers, the clients hold their unsent bytes): nothing of
  // their bodies is held in memory.
  CHECK(metric(app, "http_request_body_bytes_buffered") == 0);
  for (auto& c : clients) CHECK(c.closed_within(std::chrono::milliseconds(5000)));

  // A small body on the same refusal is read and dropped, and the connection is kept.
  RawConnection small(app.port());
  REQUIRE(small.send(post_head("/api/v1/documents", 2) + "{}" + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string both = small.read_until("{\"status\":\"ok\"}");
  CHECK(status_of(both) == 401);
  CHECK(both.find("HTTP/1.1 200") != std::string::npos);
}

TEST_CASE("request bodies share one server-wide budget: past it 503 overloaded, and the budget comes back") {
  TestApp app(generous([](app::Config& c) { c.set("server.body_budget_bytes", 1 << 20); }), with_documents());
  auto c = app.client();
  const Member ann = join(c, "ann@example.com");
  const std::size_t length = 700'000;
  const std::string body = document_body(length);

  RawConnection first(app.port());
  REQUIRE(first.send(post_head("/api/v1/documents", length, ann.token) + body.substr(0, 1000)));
  CHECK(eventually([&] { return metric(app, "http_request_body_bytes_buffered") >= length; }));

  RawConnection second(app.port());
  REQUIRE(second.send(post_head("/api/v1/documents", length, ann.token)));
  std::string refused = second.read_until("\r\n\r\n");
  CHECK(status_of(refused) == 503);
  CHECK(refused.find("Retry-After: 1") != std::string::npos);
  CHECK(second.read_until("\"overloaded\"").find("\"code\":\"overloaded\"") != std::string::npos);
  CHECK(labelled_metric(app, "http_body_budget_refusals_total") == 1);

  REQUIRE(first.send(body.substr(1000)));
  CHECK(status_of(first.read_until("\r\n\r\n")) == 201);
  CHECK(eventually([&] { return metric(app, "http_request_body_bytes_buffered") == 0; }));
  CHECK(call(c, ann, "POST", "/api/v1/documents", body).status == 201);

  // A chunked body is counted as it grows.
  RawConnection chunked(app.port());
  std::string head =
      "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Authorization: Bearer " +
      ann.token + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  REQUIRE(chunked.send(head));
  std::string raw;
  for (int i = 0; i < 40 && status_of(raw) == 0; ++i) {
    std::string chunk(64 * 1024, 'y');
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    if (!chunked.send(size + chunk + "\r\n")) break;
    raw = chunked.read_until("\r\n\r\n", std::chrono::milliseconds(20));
  }
  raw = chunked.read_until("\r\n\r\n");
  CHECK(status_of(raw) == 503);
  CHECK(eventually([&] { return metric(app, "http_request_body_bytes_buffered") == 0; }));
}

TEST_CASE("one client address cannot take every connection; others still get in") {
  TestApp app([](app::Config& c) {
    c.set("server.max_connections_per_ip", 4);
    c.set("server.max_connections", 50);
  });
  std::vector<RawConnection> hog;
  for (int i = 0; i < 4; ++i) hog.emplace_back(app.port());
  // Make sure the four are counted before the fifth arrives.
  for (auto& c : hog) {
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(status_of(c.read_until("{\"status\":\"ok\"}")) == 200);
  }
  RawConnection fifth(app.port());
  CHECK(fifth.closed_within(std::chrono::milliseconds(3000)));
  CHECK(labelled_metric(app, "http_connections_rejected_total{reason=\"per_ip\"}") >= 1);

  RawConnection other(app.port(), "127.0.0.2");
  REQUIRE(other.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(status_of(other.read_until("\r\n\r\n")) == 200);

  hog.pop_back();  // a slot of that address frees up
  CHECK(eventually([&] {
    RawConnection again(app.port());
    if (!again.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) return false;
    return status_of(again.read_until("\r\n\r\n", std::chrono::milliseconds(500))) == 200;
  }));
}

TEST_CASE("at max_connections the oldest idle connection gives way to a new one") {
  TestApp app([](app::Config& c) { c.set("server.max_connections", 6); });
  std::vector<RawConnection> idle;
  for (int i = 0; i < 6; ++i) {
    auto& c = idle.emplace_back(app.port(), "127.0.0." + std::to_string(10 + i));
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(status_of(c.read_until("{\"status\":\"ok\"}")) == 200);
  }
  RawConnection probe(app.port(), "127.0.0.99");
  REQUIRE(probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(status_of(probe.read_until("\r\n\r\n")) == 200);
  CHECK(idle.front().closed_within(std::chrono::milliseconds(3000)));
  CHECK(labelled_metric(app, "http_connections_evicted_total") == 1);
}

TEST_CASE("accept() out of descriptors backs off and logs once a second, then serves the waiting client") {
  TestApp app;
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  // A client socket made now, connected once the process has no descriptor left to give.
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(client >= 0);
  int highest = 0;
  for (auto const& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    highest = std::max(highest, std::stoi(entry.path().filename().string()));
  }
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(highest + 8);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  std::vector<int> filler;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.push_back(fd);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(app.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);  // lands in the backlog
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(client, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const double failures = labelled_metric(app, "http_accept_errors_total");

  for (int fd : filler) ::close(fd);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);

  CHECK(failures >= 2);   // it kept trying…
  CHECK(failures <= 40);  // …at 10 ms doubling to 1 s, not millions of times
  std::size_t logged = 0;
  for (auto const& line : app.log().lines()) logged += line.find("accept failed") != std::string::npos;
  CHECK(logged >= 1);
  CHECK(logged <= 3);
  // Once descriptors are back, the waiting client is served.
  std::string got;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(client);
  CHECK(status_of(got) == 200);
}
