#include "app/kernel_config.hpp"
#include "auth_helpers.hpp"
#include "test_app.hpp"

#include <bookspace/auth/auth.hpp>

#include <doctest/doctest.h>
#include <boost/json/serialize.hpp>

#include <future>
#include <regex>

using namespace bookspace;
using testing::HttpClient;
using testing::HttpResponse;
using testing::TestApp;
using namespace testing;  // auth_helpers.hpp
namespace json = boost::json;

namespace {

double metric(HttpClient& c, std::string const& name) {
  auto body = c.get("/metrics").body;
  auto at = body.find("\nbookspace_" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 12));
}

}  // namespace

TEST_CASE("register: 201 with tokens and the user; emails normalized and unique") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  auto r = c.post_json(
      "/api/v1/auth/register",
      {{"email", "  Alice@Example.COM "}, {"password", "correct horse battery"}, {"display_name", "Alice"}});
  REQUIRE(r.status == 201);
  auto body = r.json().as_object();
  CHECK(body.at("token_type") == "Bearer");
  CHECK(body.at("expires_in") == 900);
  CHECK(body.at("access_token").as_string().size() > 100);
  CHECK(body.at("refresh_token").as_string().size() >= 43);  // 256 bits
  auto const& user = body.at("user").as_object();
  CHECK(user.at("email") == "alice@example.com");
  CHECK(user.at("display_name") == "Alice");
  CHECK(user.at("role") == "member");
  CHECK(user.at("disabled") == false);
  CHECK(std::regex_match(std::string(user.at("created_at").as_string()),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));

  auto again = register_user(c, "ALICE@example.com");
  CHECK(again.status == 409);
  CHECK(again.json().at("code") == "email_taken");
}

TEST_CASE("register refuses bad input with 400/415, never 5xx") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  CHECK(register_user(c, "bob@example.com", "short").status == 400);
  CHECK(register_user(c, "bob@example.com", std::string(129, 'p')).status == 400);
  CHECK(register_user(c, "bob@example.com", "\xff\xfe\xfd invalid utf-8 bytes").status == 400);
  CHECK(register_user(c, "not-an-email").status == 400);
  CHECK(c.post_json("/api/v1/auth/register", {{"email", 5}, {"password", "correct horse battery"}}).status ==
        400);
  for (auto const* field : {"role", "id", "disabled"}) {
    INFO(field);
    json::object body{
        {"email", "carol@example.com"}, {"password", "correct horse battery"}, {field, "admin"}};
    auto r = c.post_json("/api/v1/auth/register", body);
    CHECK(r.status == 400);
    CHECK(r.json().at("errors").as_array()[0].at("field") == field);
  }
  CHECK(c.request("POST", "/api/v1/auth/register", "{}", {{"Content-Type", "text/plain"}}).status == 415);
  // 128 characters of Unicode (more bytes) are accepted, and all of them count.
  std::string long_unicode;
  for (int i = 0; i < 128; ++i) long_unicode += "é";
  REQUIRE(register_user(c, "dave@example.com", long_unicode).status == 201);
  CHECK(
      c.post_json("/api/v1/auth/login", {{"email", "dave@example.com"}, {"password", long_unicode}}).status ==
      200);
  CHECK(
      c.post_json("/api/v1/auth/login", {{"email", "dave@example.com"},
                                         {"password", long_unicode.substr(0, long_unicode.size() - 2) + "e"}})
          .status == 401);
}

TEST_CASE("login: unknown email and wrong password look the same and cost the same") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  REQUIRE(register_user(c, "erin@example.com").status == 201);
  auto ok = c.post_json("/api/v1/auth/login",
                        {{"email", "Erin@Example.com"}, {"password", "correct horse battery"}});
  CHECK(ok.status == 200);
  CHECK(ok.json().at("user").at("email") == "erin@example.com");

  const double before = metric(c, "auth_password_verifications_total");
  auto wrong =
      c.post_json("/api/v1/auth/login", {{"email", "erin@example.com"}, {"password", "wrong horse battery"}});
  const double after_wrong = metric(c, "auth_password_verifications_total");
  auto unknown = c.post_json("/api/v1/auth/login",
                             {{"email", "nobody@example.com"}, {"password", "wrong horse battery"}});
  const double after_unknown = metric(c, "auth_password_verifications_total");
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.header("WWW-Authenticate") == "Bearer");
  auto strip = [](HttpResponse const& r) {
    auto o = r.json().as_object();
    o.erase("request_id");
    return json::serialize(o);
  };
  CHECK(strip(wrong) == strip(unknown));
  // Both paths verified exactly one Argon2id hash (a dummy one for the unknown email).
  CHECK(after_wrong - before == 1);
  CHECK(after_unknown - after_wrong == 1);
}

TEST_CASE("access tokens authenticate; forged or missing ones do not") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  auto reg = register_user(c, "fay@example.com");
  auto token = str(reg, "access_token");
  CHECK(c.get("/api/v1/auth/sessions", bearer(token)).status == 200);
  CHECK(c.get("/api/v1/auth/sessions").status == 401);
  CHECK(c.get("/api/v1/auth/sessions", bearer("garbage")).status == 401);
  CHECK(c.get("/api/v1/auth/sessions", bearer(str(reg, "refresh_token"))).status == 401);  // refresh ≠ access
  CHECK(c.get("/api/v1/auth/sessions?access_token=" + token).status == 401);  // never from the query
  auto dot = token.find('.');
  std::string none_header = "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0";  // {"alg":"none","typ":"at+jwt"}
  CHECK(c.get("/api/v1/auth/sessions", bearer(none_header + token.substr(dot, token.rfind('.') - dot) + "."))
            .status == 401);
  auto tampered = token;
  tampered[dot + 5] = tampered[dot + 5] == 'A' ? 'B' : 'A';
  CHECK(c.get("/api/v1/auth/sessions", bearer(tampered)).status == 401);
  // The token's kid is published.
  auto jwks = c.get("/.well-known/jwks.json");
  CHECK(jwks.status == 200);
  CHECK(jwks.json().at("keys").as_array().size() == 1);
}

TEST_CASE("refresh rotates; reusing a rotated token revokes the whole session") {
  TestApp app(generous([](app::Config& c) { c.set("auth.refresh_reuse_grace_ms", 0); }), auth_only());
  auto c = app.client();
  auto reg = register_user(c, "gus@example.com");
  auto first = str(reg, "refresh_token");
  auto refreshed = c.post_json("/api/v1/auth/refresh", {{"refresh_token", first}});
  REQUIRE(refreshed.status == 200);
  auto second = str(refreshed, "refresh_token");
  auto access = str(refreshed, "access_token");
  CHECK(second != first);
  CHECK_FALSE(refreshed.json().as_object().contains("user"));
  CHECK(c.get("/api/v1/auth/sessions", bearer(access)).status == 200);

  auto reuse = c.post_json("/api/v1/auth/refresh", {{"refresh_token", first}});
  CHECK(reuse.status == 401);
  // The session is gone: its newest refresh token and its access tokens stop working at once.
  CHECK(c.post_json("/api/v1/auth/refresh", {{"refresh_token", second}}).status == 401);
  CHECK(c.get("/api/v1/auth/sessions", bearer(access)).status == 401);
  CHECK(c.get("/api/v1/auth/sessions", bearer(str(reg, "access_token"))).status == 401);
  CHECK(c.post_json("/api/v1/auth/refresh", {{"refresh_token", "made-up"}}).status == 401);
  CHECK(c.post_json("/api/v1/auth/refresh", json::object{}).status == 400);
}

TEST_CASE("two concurrent refreshes with one token: at most one succeeds") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  auto token = str(register_user(c, "hal@example.com"), "refresh_token");
  const auto port = app.port();
  for (int round = 0; round < 3; ++round) {
    auto attempt = [port, token] {
      return HttpClient(port).post_json("/api/v1/auth/refresh", {{"refresh_token", token}}).status;
    };
    auto a = std::async(std::launch::async, attempt);
    auto b = std::async(std::launch::async, attempt);
    int ok = (a.get() == 200) + (b.get() == 200);
    // The first round rotates the token once; every later round presents a rotated-out token,
    // which is reuse: refused (and the session revoked).
    CHECK(ok == (round == 0 ? 1 : 0));
  }
}

TEST_CASE("a logout answers once every live instance has acknowledged the revocation") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  auto reg = register_user(c, "una@example.com");
  const auto token = str(reg, "access_token");
  CHECK(app.query_strings("SELECT COUNT(*) FROM auth_instances") == std::vector<std::string>{"1"});
  // A second instance that is live (a fresh heartbeat) but never acknowledges: the logout waits
  // for it, up to its limit, then answers anyway.
  app.execute_sql("INSERT INTO auth_instances (id, seen_at) VALUES ('silent', " +
                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()) +
                  ")");
  const auto started = std::chrono::steady_clock::now();
  CHECK(c.request("POST", "/api/v1/auth/logout", "", bearer(token)).status == 204);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(900));  // it waited
  // This instance acknowledged it (its watch put the session into its cache).
  CHECK(app.query_strings("SELECT COUNT(*) FROM auth_revocation_acks a JOIN auth_instances i ON "
                          "i.id = a.instance_id WHERE i.id <> 'silent'") == std::vector<std::string>{"1"});
  CHECK(c.get("/api/v1/auth/sessions", bearer(token)).status == 401);
}

TEST_CASE("logout and session deletion take effect at once; other sessions live on") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  auto reg = register_user(c, "ivy@example.com");
  auto other = c.post_json("/api/v1/auth/login",
                           {{"email", "ivy@example.com"}, {"password", "correct horse battery"}});
  auto a = str(reg, "access_token"), b = str(other, "access_token");
  auto sessions = c.get("/api/v1/auth/sessions", bearer(a)).json().at("items").as_array();
  REQUIRE(sessions.size() == 2);
  int current = 0;
  for (auto const& s : sessions) current += s.at("current").as_bool();
  CHECK(current == 1);

  CHECK(c.request("POST", "/api/v1/auth/logout", "", bearer(a)).status == 204);
  CHECK(c.get("/api/v1/auth/sessions", bearer(a)).status == 401);
  CHECK(c.post_json("/api/v1/auth/refresh", {{"refresh_token", str(reg, "refresh_token")}}).status == 401);
  auto left = c.get("/api/v1/auth/sessions", bearer(b));
  REQUIRE(left.status == 200);
  REQUIRE(left.json().at("items").as_array().size() == 1);

  // Another user cannot see or delete Ivy's session: 404, and it keeps working.
  auto mallory = str(register_user(c, "mallory@example.com"), "access_token");
  std::string ivy_session(left.json().at("items").as_array()[0].at("id").as_string());
  CHECK(c.request("DELETE", "/api/v1/auth/sessions/" + ivy_session, "", bearer(mallory)).status == 404);
  CHECK(c.get("/api/v1/auth/sessions", bearer(b)).status == 200);
  CHECK(c.request("DELETE", "/api/v1/auth/sessions/" + ivy_session, "", bearer(b)).status == 204);
  CHECK(c.get("/api/v1/auth/sessions", bearer(b)).status == 401);
  CHECK(c.request("DELETE", "/api/v1/auth/sessions/" + ivy_session, "", bearer(mallory)).status == 404);
}

TEST_CASE("failed logins per email (from one client) are rate limited with 429") {
  TestApp app(generous([](app::Config& c) { c.set("auth.login_failures_per_email_and_ip_per_minute", 3); }),
              auth_only());
  auto c = app.client();
  REQUIRE(register_user(c, "jay@example.com").status == 201);
  for (int i = 0; i < 3; ++i) {
    CHECK(c.post_json("/api/v1/auth/login", {{"email", "jay@example.com"}, {"password", "nope nope nope"}})
              .status == 401);
  }
  auto limited = c.post_json("/api/v1/auth/login",
                             {{"email", "jay@example.com"}, {"password", "correct horse battery"}});
  CHECK(limited.status == 429);
  CHECK_FALSE(limited.header("Retry-After").empty());
  CHECK(c.post_json("/api/v1/auth/login", {{"email", "other@example.com"}, {"password", "x"}}).status == 401);
}

TEST_CASE("a session revoked on one instance is refused by another at once") {
  testing::TestDatabase db;
  auto modules = auth_only();
  auto schema = app::full_schema(modules);
  auto config = [&] {
    auto c = testing::test_config(schema, db.url(), db.dir());
    generous()(c);
    return c;
  };
  testing::CapturedLog log_a, log_b;
  app::Application a(config(), modules, log_a.logger());
  a.start();
  app::Application b(config(), modules, log_b.logger());  // same data dir: same signing key
  b.start();
  HttpClient ca(a.port()), cb(b.port());
  auto token = str(register_user(ca, "kim@example.com"), "access_token");
  REQUIRE(cb.get("/api/v1/auth/sessions", bearer(token)).status == 200);  // cached on b now
  REQUIRE(ca.request("POST", "/api/v1/auth/logout", "", bearer(token)).status == 204);
  CHECK(testing::eventually([&] { return cb.get("/api/v1/auth/sessions", bearer(token)).status == 401; },
                            std::chrono::milliseconds(2000)));
  a.stop();
  b.stop();
}

TEST_CASE("the signing key survives restarts; tokens issued before still verify") {
  testing::TestDatabase db;
  auto modules = auth_only();
  auto schema = app::full_schema(modules);
  std::string token;
  {
    testing::CapturedLog log;
    auto c = testing::test_config(schema, db.url(), db.dir());
    generous()(c);
    app::Application a(c, modules, log.logger());
    a.start();
    HttpClient client(a.port());
    token = str(register_user(client, "lee@example.com"), "access_token");
    a.stop();
  }
  testing::CapturedLog log;
  auto c = testing::test_config(schema, db.url(), db.dir());
  app::Application a(c, modules, log.logger());
  a.start();
  CHECK(HttpClient(a.port()).get("/api/v1/auth/sessions", bearer(token)).status == 200);
  a.stop();
}

TEST_CASE("changing the password keeps this session and revokes all others") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  auto reg = register_user(c, "max@example.com");
  auto here = str(reg, "access_token");
  auto elsewhere = str(c.post_json("/api/v1/auth/login",
                                   {{"email", "max@example.com"}, {"password", "correct horse battery"}}),
                       "access_token");
  auto change = [&](std::string const& current, std::string const& next) {
    return c.request("POST", "/api/v1/auth/password",
                     json::serialize(json::object{{"current_password", current}, {"new_password", next}}),
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + here}});
  };
  auto wrong = change("not the password", "a brand new password");
  CHECK(wrong.status == 400);
  CHECK(wrong.json().at("errors").as_array()[0].at("field") == "current_password");
  CHECK(change("correct horse battery", "short").status == 400);
  CHECK(change("correct horse battery", "a brand new password").status == 204);
  CHECK(c.get("/api/v1/auth/sessions", bearer(here)).status == 200);
  CHECK(c.get("/api/v1/auth/sessions", bearer(elsewhere)).status == 401);
  CHECK(
      c.post_json("/api/v1/auth/login", {{"email", "max@example.com"}, {"password", "correct horse battery"}})
          .status == 401);
  CHECK(
      c.post_json("/api/v1/auth/login", {{"email", "max@example.com"}, {"password", "a brand new password"}})
          .status == 200);
}

TEST_CASE("API keys: shown once, stored hashed, usable as Bearer, revoked at once") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  auto owner = str(register_user(c, "nora@example.com"), "access_token");
  auto other = str(register_user(c, "otto@example.com"), "access_token");
  auto create = [&](std::string const& token, json::object body) {
    return c.request("POST", "/api/v1/auth/api-keys", json::serialize(body),
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  };
  auto made = create(owner, {{"name", "ci"}, {"expires_in_days", 30}});
  REQUIRE(made.status == 201);
  std::string key(made.json().at("key").as_string());
  std::string id(made.json().at("id").as_string());
  CHECK(key.starts_with("bsk_"));
  CHECK(made.json().at("expires_at").is_string());
  CHECK(made.header("Cache-Control") == "no-store");
  CHECK(create(owner, {{"name", "forever"}}).json().at("expires_at").is_null());
  CHECK(create(owner, {{"name", "bad"}, {"expires_in_days", 0}}).status == 400);
  CHECK(create(owner, {{"name", ""}}).status == 400);
  CHECK(create(owner, {{"name", "x"}, {"key", "mine"}}).status == 400);

  auto listed = c.get("/api/v1/auth/api-keys", bearer(key));  // the key itself authenticates
  REQUIRE(listed.status == 200);
  CHECK(listed.json().at("items").as_array().size() == 2);
  CHECK(json::serialize(listed.json()).find(key) == std::string::npos);  // never shown again
  CHECK_FALSE(listed.json().at("items").as_array()[0].as_object().contains("key"));

  CHECK(c.request("DELETE", "/api/v1/auth/api-keys/" + id, "", bearer(other)).status == 404);
  CHECK(c.get("/api/v1/auth/api-keys", bearer(key)).status == 200);
  CHECK(c.request("DELETE", "/api/v1/auth/api-keys/" + id, "", bearer(owner)).status == 204);
  CHECK(c.get("/api/v1/auth/api-keys", bearer(key)).status == 401);
  CHECK(c.get("/api/v1/auth/api-keys", bearer("bsk_made-up")).status == 401);
}
