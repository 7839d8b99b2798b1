// A split deployment on one database (both engines): process A runs auth, users and documents;
// process B runs files, search, jobs and realtime with auth's and documents' stand-ins. B never
// reads auth's tables: tokens are verified with A's JWKS, revocations come from the event log,
// API keys and document access are A's internal routes.
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

using namespace bookspace;
using testing::HttpClient;
using testing::ServerProcess;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view service_key = "split-test-service-key-0123456789abcdef";
// 32-byte Ed25519 seeds, base64url.
constexpr std::string_view first_seed = "c3BsaXQtdGVzdC1zaWduaW5nLWtleS1udW1iZXItMDE";
constexpr std::string_view second_seed = "c3BsaXQtdGVzdC1zaWduaW5nLWtleS1udW1iZXItMDI";

struct Split {
  testing::TestDatabase db;
  std::uint16_t a_port = testing::free_port();  // A restarts on the same address
  std::optional<ServerProcess> a, b;

  std::map<std::string, std::string> env() const {
    return {{"BOOKSPACE_CLUSTER_SERVICE_KEY", std::string(service_key)},
            {"BOOKSPACE_EVENTS_POLL_INTERVAL_MS", "100"}};
  }
  void start_a(std::string_view seed) {
    a.reset();
    auto e = env();
    e["BOOKSPACE_AUTH_SIGNING_KEY"] = std::string(seed);
    a.emplace(
        testing::bookspace_binary(),
        std::vector<std::string>{"--database", db.url(), "--data-dir", db.dir() + "/a", "--listen",
                                 "127.0.0.1:" + std::to_string(a_port), "--modules", "auth,users,documents"},
        e);
  }
  void start_b() {
    auto e = env();
    const std::string origin = "http://127.0.0.1:" + std::to_string(a_port);
    e["BOOKSPACE_AUTH_JWKS_URL"] = origin + "/.well-known/jwks.json";
    e["BOOKSPACE_DOCUMENTS_REMOTE_URL"] = origin;
    b.emplace(testing::bookspace_binary(),
              std::vector<std::string>{"--database", db.url(), "--data-dir", db.dir() + "/b", "--listen",
                                       "127.0.0.1:0", "--modules", "files,search,jobs,realtime"},
              e);
  }
};

std::map<std::string, std::string> bearer(std::string const& token) {
  return {{"Authorization", "Bearer " + token}};
}

json::value registered(std::uint16_t port, std::string const& email) {
  HttpClient c(port);
  auto r = c.post_json("/api/v1/auth/register", {{"email", email}, {"password", "correct horse battery"}});
  REQUIRE(r.status == 201);
  return r.json();
}

std::string text(json::value const& v, std::string_view key) {
  return std::string(v.at(key).as_string());
}

int usage_status(std::uint16_t port, std::string const& credential) {
  HttpClient c(port);
  return c.get("/api/v1/files/usage", bearer(credential)).status;
}

}  // namespace

TEST_CASE("split: B verifies A's tokens from its JWKS and learns revocations from the event log") {
  Split s;
  s.start_a(first_seed);
  // Revoked before B starts: B's stand-in replays the event log from one token lifetime back.
  const auto early = registered(s.a_port, "early@example.com");
  const std::string early_token = text(early, "access_token");
  REQUIRE(HttpClient(s.a_port).request("POST", "/api/v1/auth/logout", "", bearer(early_token)).status == 204);

  s.start_b();
  const auto ann = registered(s.a_port, "ann@example.com");
  const std::string token = text(ann, "access_token");
  CHECK(usage_status(s.b->port(), token) == 200);
  CHECK(usage_status(s.b->port(), early_token) == 401);
  std::string forged = token;  // one signature character changed (not the last: it has spare bits)
  forged[forged.size() - 10] = forged[forged.size() - 10] == 'A' ? 'B' : 'A';
  CHECK(usage_status(s.b->port(), forged) == 401);

  SUBCASE("a logout on A answers once B refuses the token too") {
    // B's stand-in heartbeats to A and acknowledges the revocation its watch applied.
    REQUIRE(HttpClient(s.a_port).request("POST", "/api/v1/auth/logout", "", bearer(token)).status == 204);
    CHECK(usage_status(s.b->port(), token) == 401);
  }

  SUBCASE("a new signing key on A: B fetches the JWKS again for the unknown kid") {
    s.start_a(second_seed);
    const auto bob = registered(s.a_port, "bob@example.com");
    const std::string rotated = text(bob, "access_token");
    // B's last fetch may be under a second old (its refetches are at most one a second).
    CHECK(testing::eventually([&] { return usage_status(s.b->port(), rotated) == 200; }, 5s));
    // A token verified before the rotation stays verified until it expires, as on A itself.
    CHECK(usage_status(s.b->port(), token) == 200);
    CHECK(s.b->log().find("JWKS not fetched") == std::string::npos);
  }

  SUBCASE("API keys: B asks A, and forgets a revoked key") {
    HttpClient c(s.a_port);
    auto created = c.post_json("/api/v1/auth/api-keys", {{"name", "split"}}, bearer(token));
    REQUIRE(created.status == 201);
    const json::value key = created.json();
    CHECK(usage_status(s.b->port(), text(key, "key")) == 200);
    CHECK(usage_status(s.b->port(), "bsk_not-a-key") == 401);
    REQUIRE(c.request("DELETE", "/api/v1/auth/api-keys/" + text(key, "id"), "", bearer(token)).status == 204);
    CHECK(testing::eventually([&] { return usage_status(s.b->port(), text(key, "key")) == 401; }, 5s));
  }

  SUBCASE("document access from B is A's answer; A down is a 503, never a guess") {
    HttpClient c(s.a_port);
    auto doc = c.post_json("/api/v1/documents", {{"title", "split"}}, bearer(token));
    REQUIRE(doc.status == 201);
    const std::string id = text(doc.json(), "id");
    const auto carl = registered(s.a_port, "carl@example.com");
    HttpClient cb(s.b->port());
    auto headers = bearer(token);
    headers["Content-Type"] = "text/plain";
    CHECK(cb.request("POST", "/api/v1/files?name=a.txt&document_id=" + id, "hello", headers).status == 201);
    auto stranger = bearer(text(carl, "access_token"));
    stranger["Content-Type"] = "text/plain";
    CHECK(cb.request("POST", "/api/v1/files?name=a.txt&document_id=" + id, "hello", stranger).status == 400);

    s.a.reset();  // A stops
    auto down = HttpClient(s.b->port())
                    .request("POST", "/api/v1/files?name=a.txt&document_id=" + id, "hello", headers);
    CHECK(down.status == 503);
    CHECK(down.header("content-type") == "application/problem+json");
  }
}

TEST_CASE("split: internal routes need the service key, and exist only with one") {
  testing::TestDatabase db;
  ServerProcess keyless(testing::bookspace_binary(),
                        {"--database", db.url(), "--data-dir", db.dir(), "--listen", "127.0.0.1:0"});
  HttpClient c(keyless.port());
  CHECK(c.get("/internal/documents/ids").status == 404);
  CHECK(c.get("/internal/documents/ids", bearer(std::string(service_key))).status == 404);
  auto openapi = c.get("/openapi.json").json();
  for (auto const& [path, _] : openapi.at("paths").as_object()) CHECK_FALSE(path.starts_with("/internal/"));

  ServerProcess keyed(testing::bookspace_binary(),
                      {"--database", db.url(), "--data-dir", db.dir(), "--listen", "127.0.0.1:0"},
                      {{"BOOKSPACE_CLUSTER_SERVICE_KEY", std::string(service_key)}});
  HttpClient k(keyed.port());
  CHECK(k.get("/internal/documents/ids").status == 401);
  CHECK(k.get("/internal/documents/ids", bearer("wrong-" + std::string(service_key))).status == 401);
  auto ids = k.get("/internal/documents/ids", bearer(std::string(service_key)));
  CHECK(ids.status == 200);
  CHECK(ids.json().at("ids").as_array().empty());
}

TEST_CASE("split: a process without a module its modules need says which key to set") {
  testing::TestDatabase db;
  auto r = testing::run_command({testing::bookspace_binary(), "serve", "--database", db.url(), "--data-dir",
                                 db.dir(), "--listen", "127.0.0.1:0", "--modules", "files,search,jobs"});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("auth.jwks_url") != std::string::npos);
}
