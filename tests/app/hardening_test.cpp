// Regression tests for defects outside probes reproduced against the real server (round 3): the
// kernel's start-up, JSON, database outages, the contract (license, tokens, CORS). On SQLite and
// PostgreSQL; each fails without its fix. The files module's are in hardening_files_test.cpp.
#include "files_helpers.hpp"
#include "test_app.hpp"

#include "core/database.hpp"
#include "core/log.hpp"
#include "http/router.hpp"

#include <bookspace/files/files.hpp>
#include <bookspace/jobs/events.hpp>
#include <bookspace/jobs/jobs.hpp>

#include "core/event_contract.hpp"
#include "core/event_log.hpp"
#include "probe_jobs.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>
#include <sodium.h>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace bookspace;
using namespace bookspace::testing;
namespace fs = std::filesystem;

namespace {

/// A module whose start() takes a while, with a route that says whether it has finished: the
/// stand-in for auth loading the sessions revoked before a restart.
class SlowStart final : public app::Module {
 public:
  void register_routes(http::Router& r) override {
    http::RouteOptions open;
    open.auth = http::Auth::none;
    r.add(
        http::Method::get, "/api/v1/slow/started",
        [this](http::Request&) -> core::Awaitable<http::Response> {
          co_return http::Response::json(200, {{"started", started_.load()}});
        },
        open);
  }
  void start() override {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    started_ = true;
  }

 private:
  std::atomic<bool> started_{false};
};

app::ModuleDescriptor slow_start_module() {
  return {.name = "slow",
          .summary = "test-only: a slow start()",
          .create = [](app::ModuleContext&) -> std::unique_ptr<app::Module> {
            return std::make_unique<SlowStart>();
          }};
}

}  // namespace

TEST_CASE("no request is answered before every module has started") {
  const auto port = free_port();
  std::unique_ptr<TestApp> app;
  std::thread starting([&] {
    app = std::make_unique<TestApp>(
        [port](app::Config& c) {
          c.set("server.listen", boost::json::string("127.0.0.1:" + std::to_string(port)));
        },
        std::vector<app::ModuleDescriptor>{slow_start_module()});
  });
  // The first connection the server takes, as early as it takes one.
  std::optional<RawConnection> raw;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!raw && std::chrono::steady_clock::now() < give_up) {
    try {
      raw.emplace(port);
    } catch (std::runtime_error const&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  REQUIRE(raw);
  REQUIRE(raw->send("GET /api/v1/slow/started HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto response = raw->read_until("}", std::chrono::seconds(10));
  starting.join();
  CHECK(response.find("\"started\":true") != std::string::npos);
  app.reset();
}

TEST_CASE("a JSON body with a non-finite number is refused (400) on every route") {
  TestApp app;
  auto c = app.client();
  for (auto const* body : {R"({"text":"a","n":1e999999})", R"({"text":"a","n":[-1e400]})",
                           R"({"text":"a","n":{"deep":[{"x":2e308}]}})"}) {
    CAPTURE(body);
    auto r = c.request("POST", "/api/v1/probe/notes", body, {{"Content-Type", "application/json"}});
    CHECK(r.status == 400);
    CHECK(r.json().at("code").as_string() == "validation_failed");
  }
  auto fine = c.request("POST", "/api/v1/probe/notes", R"({"text":"a","n":1.7e308})",
                        {{"Content-Type", "application/json"}});
  CHECK(fine.status / 100 == 2);
}

TEST_CASE("PostgreSQL unreachable: every request that needs it answers 503 with Retry-After, then recovers" *
          doctest::skip(backend() != core::Dialect::postgresql)) {
  TestApp app;
  auto c = app.client();
  auto made = c.request("POST", "/api/v1/probe/notes", R"({"text":"before"})",
                        {{"Content-Type", "application/json"}});
  REQUIRE(made.status / 100 == 2);
  const std::string id = str(made, "id");

  // The database refuses new connections and drops the app's: what a restart or an outage does.
  const std::string url = app.database().url();
  const std::string name = url.substr(url.rfind('/') + 1);
  const std::string admin_url = url.substr(0, url.rfind('/') + 1) + "postgres";
  auto on_admin = [&](std::string const& statement) {
    core::Logger quiet(core::LogLevel::off);
    core::DatabaseOptions options;
    options.url = admin_url;
    options.pool_size = 1;
    core::Database db(options, quiet);
    db.run_blocking([&](soci::session& sql) { sql << statement; });
  };
  on_admin("ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS false");
  on_admin("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + name + "'");

  int unavailable = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = i % 2 ? c.get("/api/v1/probe/notes/" + id)
                   : c.request("POST", "/api/v1/probe/notes", R"({"text":"during"})",
                               {{"Content-Type", "application/json"}});
    CAPTURE(r.body);
    CHECK(r.status == 503);
    if (r.status == 503) {
      CHECK(!r.header("Retry-After").empty());
      CHECK(r.json().at("code").as_string() == "overloaded");
      ++unavailable;
    }
  }
  CHECK(unavailable == 20);
  CHECK(c.get("/readyz").status == 503);

  on_admin("ALTER DATABASE \"" + name + "\" ALLOW_CONNECTIONS true");
  CHECK(eventually([&] { return c.get("/api/v1/probe/notes/" + id).status == 200; }));
}

TEST_CASE("the OpenAPI document names the MIT license with its URL; LICENSE is at the root") {
  TestApp app;
  auto spec = app.client().get("/openapi.json").json();
  auto const& license = spec.at("info").at("license");
  CHECK(license.at("name").as_string() == "MIT");
  CHECK(license.at("url").as_string() == "https://opensource.org/licenses/MIT");
  std::ifstream file(std::string(BOOKSPACE_SOURCE_DIR) + "/LICENSE");
  std::string first;
  std::getline(file, first);
  CHECK(first == "MIT License");
}

namespace {

/// The claims of a JWT, unverified.
boost::json::object jwt_claims(std::string const& token) {
  const auto first = token.find('.'), second = token.find('.', first + 1);
  std::string part = token.substr(first + 1, second - first - 1);
  std::string raw(part.size(), '\0');
  std::size_t len = 0;
  REQUIRE(sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), part.data(),
                            part.size(), nullptr, &len, nullptr,
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0);
  raw.resize(len);
  return boost::json::parse(raw).as_object();
}

}  // namespace

TEST_CASE("access tokens carry RFC 9068's client_id; auth.audience sets aud and is checked") {
  SUBCASE("default: aud is the issuer") {
    TestApp app(generous(), auth_only());
    auto c = app.client();
    auto who = join(c, "rfc9068@example.com");
    auto claims = jwt_claims(who.token);
    CHECK(claims.at("client_id").as_string() == "bookspace");
    CHECK(claims.at("aud").as_string() == "bookspace");
    CHECK(claims.at("iss").as_string() == "bookspace");
  }
  SUBCASE("a configured audience") {
    TestApp app(generous([](app::Config& c) { c.set("auth.audience", "https://api.example.com"); }),
                auth_only());
    auto c = app.client();
    auto who = join(c, "aud@example.com");
    CHECK(jwt_claims(who.token).at("aud").as_string() == "https://api.example.com");
    CHECK(call(c, who, "GET", "/api/v1/auth/sessions").status == 200);
  }
}

TEST_CASE(
    "CORS: every answer to an allowed origin carries it, errors included; preflights list each method once") {
  TestApp app([](app::Config& c) { c.set("server.cors_origins", boost::json::array{"https://app.example"}); },
              files_modules());
  auto c = app.client();
  auto who = join(c, "cors@example.com");
  const std::map<std::string, std::string> origin = {{"Origin", "https://app.example"}};
  auto with = [&](std::map<std::string, std::string> more) {
    more.insert(origin.begin(), origin.end());
    return more;
  };
  // Errors from every stage: authentication, routing, validation, a handler's refusal.
  std::vector<HttpResponse> answers = {
      c.request("GET", "/api/v1/files", "", origin),
      c.request("GET", "/api/v1/nowhere", "", origin),
      c.request("PUT", "/api/v1/files", "", origin),
      call(c, who, "GET", "/api/v1/files?limit=0", "", origin),
      call(c, who, "GET", "/api/v1/files/nope", "", origin),
      call(c, who, "POST", "/api/v1/files/nope/links", "{}", origin),
  };
  for (auto const& r : answers) {
    CAPTURE(r.status);
    CHECK(r.status >= 400);
    CHECK(r.header("Access-Control-Allow-Origin") == "https://app.example");
    CHECK(r.header("Access-Control-Expose-Headers").find("X-Request-Id") != std::string::npos);
  }
  auto made =
      call(c, who, "POST", "/api/v1/files?name=a.txt", "hello", with({{"Content-Type", "text/plain"}}));
  REQUIRE(made.status == 201);
  CHECK(made.header("Access-Control-Allow-Origin") == "https://app.example");
  const std::string expose = made.header("Access-Control-Expose-Headers");
  for (auto const* h : {"ETag", "Location", "Content-Disposition", "Content-Range", "Retry-After",
                        "X-Request-Id", "Idempotent-Replayed"}) {
    CAPTURE(h);
    CHECK(expose.find(h) != std::string::npos);
  }
  // Another origin gets nothing.
  auto other = c.request("GET", "/api/v1/files", "", {{"Origin", "https://evil.example"}});
  CHECK(other.header("Access-Control-Allow-Origin").empty());

  for (auto const* path :
       {"/api/v1/uploads", "/api/v1/uploads/x", "/api/v1/files/x/content", "/api/v1/files/usage"}) {
    CAPTURE(path);
    auto pre = c.request("OPTIONS", path, "", with({{"Access-Control-Request-Method", "GET"}}));
    CHECK(pre.status == 204);
    const std::string allow = pre.header("Allow");
    std::vector<std::string> methods;
    for (std::size_t at = 0; at < allow.size();) {
      auto comma = allow.find(',', at);
      if (comma == std::string::npos) comma = allow.size();
      std::string m = allow.substr(at, comma - at);
      m.erase(0, m.find_first_not_of(' '));
      CHECK(std::find(methods.begin(), methods.end(), m) == methods.end());
      methods.push_back(m);
      at = comma + 1;
    }
    CHECK(!methods.empty());
  }
}
