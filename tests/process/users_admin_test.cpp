#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace bookspace;
using testing::HttpClient;

namespace {

std::map<std::string, std::string> bearer(std::string const& token) {
  return {{"Authorization", "Bearer " + token}};
}

std::map<std::string, std::string> generous_env() {
  return {{"BOOKSPACE_AUTH_LOGIN_PER_IP_PER_MINUTE", "100000"},
          {"BOOKSPACE_AUTH_LOGIN_PER_EMAIL_PER_MINUTE", "100000"},
          {"BOOKSPACE_AUTH_REGISTER_PER_IP_PER_MINUTE", "100000"}};
}

std::string login(HttpClient& c, std::string const& email, std::string const& password, int expect = 200) {
  auto r = c.post_json("/api/v1/auth/login", {{"email", email}, {"password", password}});
  REQUIRE(r.status == expect);
  return expect == 200 ? std::string(r.json().at("access_token").as_string()) : "";
}

}  // namespace

TEST_CASE("users create-admin, then administration through the API") {
  testing::TestDatabase db;
  std::vector<std::string> where{"--database", db.url(), "--data-dir", db.dir()};
  auto cmd = [&](std::vector<std::string> args, std::string const& stdin_text) {
    args.insert(args.begin(), testing::bookspace_binary());
    args.insert(args.end(), where.begin(), where.end());
    return testing::run_command(args, {}, stdin_text);
  };
  auto created = cmd({"users", "create-admin", "--email", "Root@Example.com"}, "an admin password 123\n");
  REQUIRE(created.exit_code == 0);
  CHECK(created.output.find("created admin root@example.com") != std::string::npos);
  CHECK(cmd({"users", "create-admin", "--email", "root@example.com"}, "another password 123\n").exit_code ==
        1);
  CHECK(cmd({"users", "create-admin", "--email", "nope"}, "").exit_code == 2);
  CHECK(cmd({"users", "create-admin", "--email", "weak@example.com"}, "short\n").exit_code == 2);
  auto generated = cmd({"users", "create-admin", "--email", "second@example.com"}, "");
  REQUIRE(generated.exit_code == 0);
  auto at = generated.output.find("password: ");
  REQUIRE(at != std::string::npos);
  std::string generated_password =
      generated.output.substr(at + 10, generated.output.find('\n', at) - at - 10);

  auto args = where;
  args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  testing::ServerProcess server(testing::bookspace_binary(), args, generous_env());
  HttpClient c(server.port());
  auto admin = login(c, "root@example.com", "an admin password 123");
  login(c, "second@example.com", generated_password);
  auto reg = c.post_json("/api/v1/auth/register",
                         {{"email", "quinn@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(reg.status == 201);
  std::string quinn_id(reg.json().at("user").at("id").as_string());
  std::string quinn_token(reg.json().at("access_token").as_string());

  // Profiles follow accounts through the event log (the CLI-created ones once a server runs).
  REQUIRE(testing::eventually([&] {
    return c.get("/api/v1/users?limit=100", bearer(admin)).json().at("items").as_array().size() == 3;
  }));
  // List with keyset pagination and search.
  auto page1 = c.get("/api/v1/users?limit=2", bearer(admin));
  REQUIRE(page1.status == 200);
  CHECK(page1.json().at("items").as_array().size() == 2);
  std::string cursor(page1.json().at("next_cursor").as_string());
  auto page2 = c.get("/api/v1/users?limit=2&cursor=" + cursor, bearer(admin));
  REQUIRE(page2.status == 200);
  CHECK(page2.json().at("items").as_array().size() == 1);
  CHECK(page2.json().at("next_cursor").is_null());
  auto found = c.get("/api/v1/users?q=QUINN", bearer(admin));
  REQUIRE(found.json().at("items").as_array().size() == 1);
  CHECK(found.json().at("items").as_array()[0].at("email") == "quinn@example.com");
  // `%` and `_` are text, not LIKE wildcards: no address holds a `%`.
  CHECK(c.get("/api/v1/users?q=%25", bearer(admin)).json().at("items").as_array().empty());
  CHECK(c.get("/api/v1/users?q=_", bearer(admin)).json().at("items").as_array().empty());
  // The cursor is opaque: a raw id, or another list's cursor, is refused.
  CHECK(c.get("/api/v1/users?cursor=" + quinn_id, bearer(admin)).status == 400);
  CHECK(c.get("/api/v1/users?limit=0", bearer(admin)).status == 400);
  CHECK(c.get("/api/v1/users?limit=101", bearer(admin)).status == 400);
  CHECK(c.get("/api/v1/users", bearer(quinn_token)).status == 403);

  auto patch = [&](std::string const& id, std::string const& body) {
    return c.request("PATCH", "/api/v1/users/" + id, body,
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin}});
  };
  CHECK(patch(quinn_id, R"({"role":"owner"})").status == 400);
  CHECK(patch(quinn_id, R"({"email":"x@y.z"})").status == 400);
  CHECK(patch("no-such-user", R"({"role":"admin"})").status == 404);
  auto promoted = patch(quinn_id, R"({"role":"admin"})");
  REQUIRE(promoted.status == 200);
  CHECK(promoted.json().at("role") == "admin");
  // Disabling revokes every session at once and blocks login.
  auto disabled = patch(quinn_id, R"({"disabled":true})");
  REQUIRE(disabled.status == 200);
  CHECK(disabled.json().at("disabled") == true);
  CHECK(c.get("/api/v1/users/me", bearer(quinn_token)).status == 401);
  login(c, "quinn@example.com", "correct horse battery", 401);
  CHECK(patch(quinn_id, R"({"disabled":false})").status == 200);
  login(c, "quinn@example.com", "correct horse battery");
}

TEST_CASE("a session revoked before a restart is refused from the very first connection after it") {
  testing::TestDatabase db;
  const std::uint16_t port = testing::free_port();
  const std::vector<std::string> args = {"--database", db.url(),    "--data-dir",
                                         db.dir(),     "--listen",  "127.0.0.1:" + std::to_string(port),
                                         "--modules",  "auth,users"};
  const std::map<std::string, std::string> env = {{"BOOKSPACE_SERVER_DRAIN_DELAY_MS", "0"}};
  std::string token;
  {
    testing::ServerProcess server(testing::bookspace_binary(), args, env);
    testing::HttpClient c(server.port());
    auto reg = c.post_json("/api/v1/auth/register",
                           {{"email", "r@example.com"}, {"password", "correct horse battery"}});
    REQUIRE(reg.status == 201);
    token = std::string(reg.json().at("access_token").as_string());
    REQUIRE(c.request("POST", "/api/v1/auth/logout", "", {{"Authorization", "Bearer " + token}}).status ==
            204);
  }
  // Every restart: a client connecting as early as the port takes connections, asking at once.
  for (int restart = 0; restart < 8; ++restart) {
    CAPTURE(restart);
    std::atomic<bool> up{false};
    std::string first;
    std::thread early([&] {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (std::chrono::steady_clock::now() < give_up) {
        try {
          testing::RawConnection raw(port);
          if (!raw.send("GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                        "\r\n\r\n"))
            continue;
          first = raw.read_until("\r\n\r\n", std::chrono::seconds(20));
          if (!first.empty()) return;
        } catch (std::runtime_error const&) {
        }
        if (up) return;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
    testing::ServerProcess server(testing::bookspace_binary(), args, env);
    up = true;
    early.join();
    CHECK(first.starts_with("HTTP/1.1 401"));
  }
}
