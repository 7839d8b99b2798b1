#include "auth_helpers.hpp"
#include "core/database.hpp"
#include "core/metrics.hpp"
#include "test_app.hpp"

#include <bookspace/auth/auth.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

using namespace bookspace;
using testing::HttpClient;
using testing::HttpResponse;
using testing::TestApp;
using namespace testing;  // auth_helpers.hpp
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr char const* password = "correct horse battery";

std::vector<fs::path> spooled(TestApp& app) {
  std::vector<fs::path> out;
  const fs::path dir = fs::path(app.database().dir()) / "mail";
  if (!fs::exists(dir)) return out;
  for (auto const& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".eml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Waits (bounded) for the n-th spooled mail and returns its text.
std::string mail_number(TestApp& app, std::size_t n) {
  for (int i = 0; i < 500 && spooled(app).size() < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto files = spooled(app);
  REQUIRE(files.size() >= n);
  std::ifstream in(files[n - 1]);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string token_in(std::string const& mail) {
  std::smatch m;
  REQUIRE(std::regex_search(mail, m, std::regex(R"(\r\n  ([A-Za-z0-9_-]{43})\r\n)")));
  return m[1];
}

HttpResponse confirm(HttpClient& c, std::string const& token, std::string const& next) {
  return c.post_json("/api/v1/auth/password-reset/confirm", {{"token", token}, {"new_password", next}});
}

}  // namespace

TEST_CASE("password reset: 202 always; the mailed token sets a new password once and signs out everywhere") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  auto reg = c.post_json("/api/v1/auth/register", {{"email", "rita@example.com"}, {"password", password}});
  REQUIRE(reg.status == 201);
  auto other = c.post_json("/api/v1/auth/login", {{"email", "rita@example.com"}, {"password", password}});
  REQUIRE(other.status == 200);

  auto unknown = c.post_json("/api/v1/auth/password-reset", {{"email", "nobody@example.com"}});
  CHECK(unknown.status == 202);
  CHECK(unknown.body.empty());
  auto known = c.post_json("/api/v1/auth/password-reset", {{"email", " Rita@Example.com "}});
  CHECK(known.status == 202);
  CHECK(known.body.empty());
  std::string mail = mail_number(app, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(spooled(app).size() == 1);  // nothing was sent for the unknown address
  CHECK(mail.find("To: rita@example.com\r\n") != std::string::npos);
  CHECK(mail.find("within 30 minutes") != std::string::npos);
  const std::string token = token_in(mail);

  auto weak = confirm(c, token, "short");
  CHECK(weak.status == 400);
  CHECK(weak.json().at("errors").at(0).at("field") == "new_password");
  auto common = confirm(c, token, "Qwerty123456");
  CHECK(common.status == 400);
  CHECK(common.json().at("errors").at(0).at("field") == "new_password");

  CHECK(confirm(c, token, "a brand new passphrase").status == 204);
  // Every session is gone: refresh and access tokens of both logins stop at once.
  for (auto const* r : {&reg, &other}) {
    CHECK(c.post_json("/api/v1/auth/refresh", {{"refresh_token", str(*r, "refresh_token")}}).status == 401);
    CHECK(c.get("/api/v1/auth/sessions", bearer(str(*r, "access_token"))).status == 401);
  }
  CHECK(c.post_json("/api/v1/auth/login", {{"email", "rita@example.com"}, {"password", password}}).status ==
        401);
  CHECK(c.post_json("/api/v1/auth/login",
                    {{"email", "rita@example.com"}, {"password", "a brand new passphrase"}})
            .status == 200);

  auto again = confirm(c, token, "yet another passphrase");  // single use
  CHECK(again.status == 400);
  CHECK(again.json().at("code") == "validation_failed");
  CHECK(again.json().at("errors").at(0).at("field") == "token");
  CHECK(confirm(c, "made-up-token", "yet another passphrase").status == 400);
  CHECK(c.post_json("/api/v1/auth/password-reset/confirm", {{"token", token}}).status == 400);
  CHECK(
      c.post_json("/api/v1/auth/password-reset", {{"email", "rita@example.com"}, {"role", "admin"}}).status ==
      400);
  CHECK(c.post_json("/api/v1/auth/password-reset", {{"email", "not an address"}}).status == 400);
}

TEST_CASE("password reset: a newer request supersedes the older token; expired tokens are refused") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  REQUIRE(
      c.post_json("/api/v1/auth/register", {{"email", "sam@example.com"}, {"password", password}}).status ==
      201);
  REQUIRE(c.post_json("/api/v1/auth/password-reset", {{"email", "sam@example.com"}}).status == 202);
  const std::string first = token_in(mail_number(app, 1));
  REQUIRE(c.post_json("/api/v1/auth/password-reset", {{"email", "sam@example.com"}}).status == 202);
  const std::string second = token_in(mail_number(app, 2));
  CHECK(first != second);
  CHECK(confirm(c, first, "a brand new passphrase").status == 400);

  // Age the live token past its 30 minutes, straight in the database.
  app.execute_sql("UPDATE auth_password_resets SET expires_at = 1");
  CHECK(confirm(c, second, "a brand new passphrase").status == 400);
  CHECK(c.post_json("/api/v1/auth/login", {{"email", "sam@example.com"}, {"password", password}}).status ==
        200);
}

TEST_CASE("password reset: disabled accounts get no mail; requests per email are rate limited") {
  TestApp app(generous([](app::Config& c) { c.set("auth.password_reset_per_email_per_hour", 2); }),
              auth_only());
  auto c = app.client();
  REQUIRE(
      c.post_json("/api/v1/auth/register", {{"email", "tom@example.com"}, {"password", password}}).status ==
      201);
  CHECK(c.post_json("/api/v1/auth/password-reset", {{"email", "tom@example.com"}}).status == 202);
  CHECK(c.post_json("/api/v1/auth/password-reset", {{"email", "TOM@example.com"}}).status == 202);
  auto limited = c.post_json("/api/v1/auth/password-reset", {{"email", "tom@example.com"}});
  CHECK(limited.status == 429);
  CHECK(limited.json().at("code") == "rate_limited");
  CHECK(std::stoi(limited.header("Retry-After")) >= 1);
  // Another address has its own budget.
  CHECK(c.post_json("/api/v1/auth/password-reset", {{"email", "someone@example.com"}}).status == 202);
  REQUIRE(mail_number(app, 2).find("To: tom@example.com") != std::string::npos);

  REQUIRE(
      c.post_json("/api/v1/auth/register", {{"email", "ulf@example.com"}, {"password", password}}).status ==
      201);
  app.execute_sql("UPDATE auth_accounts SET disabled = 1 WHERE email = 'ulf@example.com'");
  CHECK(c.post_json("/api/v1/auth/password-reset", {{"email", "ulf@example.com"}}).status == 202);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(spooled(app).size() == 2);
}

TEST_CASE("the configured reset link carries the token") {
  TestApp app(generous([](app::Config& c) {
                c.set("auth.password_reset_url", "https://books.example.com/reset?token={token}");
              }),
              auth_only());
  auto c = app.client();
  REQUIRE(
      c.post_json("/api/v1/auth/register", {{"email", "uma@example.com"}, {"password", password}}).status ==
      201);
  REQUIRE(c.post_json("/api/v1/auth/password-reset", {{"email", "uma@example.com"}}).status == 202);
  std::smatch m;
  std::string mail = mail_number(app, 1);
  REQUIRE(std::regex_search(mail, m,
                            std::regex(R"(https://books\.example\.com/reset\?token=([A-Za-z0-9_-]{43}))")));
  CHECK(confirm(c, m[1], "a brand new passphrase").status == 204);
}

TEST_CASE("the 10,000 most common passwords are refused, whatever their case") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  for (auto const* common : {"1q2w3e4r5t6y", "QWERTY123456", "leavemealone", "Justinbieber"}) {
    auto r = c.post_json("/api/v1/auth/register", {{"email", "vic@example.com"}, {"password", common}});
    CHECK(r.status == 400);
    CHECK(r.json().at("errors").at(0).at("field") == "password");
    CHECK(std::string(r.json().at("errors").at(0).at("message").as_string()).find("common") !=
          std::string::npos);
  }
  CHECK(c.post_json("/api/v1/auth/register", {{"email", "vic@example.com"}, {"password", "leavemealone!"}})
            .status == 201);
}

TEST_CASE("refreshes per session are rate limited") {
  TestApp app(generous([](app::Config& c) { c.set("auth.refresh_per_session_per_minute", 2); }), auth_only());
  auto c = app.client();
  auto reg = c.post_json("/api/v1/auth/register", {{"email", "wes@example.com"}, {"password", password}});
  REQUIRE(reg.status == 201);
  std::string token = str(reg, "refresh_token");
  for (int i = 0; i < 2; ++i) {
    auto r = c.post_json("/api/v1/auth/refresh", {{"refresh_token", token}});
    REQUIRE(r.status == 200);
    token = str(r, "refresh_token");
  }
  auto limited = c.post_json("/api/v1/auth/refresh", {{"refresh_token", token}});
  CHECK(limited.status == 429);
  CHECK(std::stoi(limited.header("Retry-After")) >= 1);
  // The refused attempt did not rotate: the token still works once the bucket refills, and another
  // session is not affected.
  auto login = c.post_json("/api/v1/auth/login", {{"email", "wes@example.com"}, {"password", password}});
  CHECK(c.post_json("/api/v1/auth/refresh", {{"refresh_token", str(login, "refresh_token")}}).status == 200);
}

TEST_CASE("password reset answers before it looks the address up: known and unknown take the same path") {
  // One database worker, held busy: a handler that awaited the account lookup could not answer
  // until it is released. Both answers must arrive while it is still held.
  TestApp app(generous([](app::Config& c) { c.set("database.pool_size", 1); }), auth_only());
  auto c = app.client();
  REQUIRE(register_user(c, "tess@example.com").status == 201);

  std::promise<void> release;
  std::promise<void> holding;
  REQUIRE(app.db().pool().try_submit([&](std::size_t) {
    holding.set_value();
    release.get_future().wait();
  }));
  holding.get_future().wait();
  auto known = std::async(std::launch::async, [&] {
    return HttpClient(app.port()).post_json("/api/v1/auth/password-reset", {{"email", "tess@example.com"}});
  });
  auto unknown = std::async(std::launch::async, [&] {
    return HttpClient(app.port()).post_json("/api/v1/auth/password-reset", {{"email", "nobody@example.com"}});
  });
  const bool known_answered = known.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  const bool unknown_answered = unknown.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  CHECK(spooled(app).empty());  // the lookup has not run yet…
  release.set_value();
  REQUIRE(known_answered);  // …and both were answered regardless
  REQUIRE(unknown_answered);
  auto k = known.get(), u = unknown.get();
  CHECK(k.status == 202);
  CHECK(u.status == 202);
  CHECK(k.body == u.body);
  // Afterwards the work is done: one mail, to the account that exists.
  CHECK(mail_number(app, 1).find("To: tess@example.com\r\n") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(spooled(app).size() == 1);
}
