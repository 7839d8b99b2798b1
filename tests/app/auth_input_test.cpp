// Input rules of auth and users found loose by an outside probe: Unicode emails, invisible
// characters in names, wrong JSON types, list parameters, and login lock-out.

#include "auth_helpers.hpp"

#include <bookspace/users/users.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;

namespace {
HttpResponse register_as(HttpClient& c, std::string const& email, std::string const& name = "") {
  json::object body{{"email", email}, {"password", "correct horse battery"}};
  if (!name.empty()) body["display_name"] = name;
  return c.post_json("/api/v1/auth/register", body);
}

std::string field_of(HttpResponse const& r) {
  return std::string(r.json().at("errors").at(0).at("field").as_string());
}
}  // namespace

TEST_CASE("emails: one account per address, whatever the spelling; invisible characters refused") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  // Non-ASCII local parts are refused (the probe registered three accounts with these).
  for (std::string e : {"\xC3\x9Cn\xC3\xAF"
                        "code@Example.com",
                        "\xC3\xBCn\xC3\xAF"
                        "code@example.com",
                        "\xC3\x9C"
                        "N\xC3\x8F"
                        "CODE@EXAMPLE.COM"}) {
    auto r = register_as(c, e);
    CHECK(r.status == 400);
    CHECK(field_of(r) == "email");
  }
  // An international domain is one account however it is written.
  auto first = register_as(c,
                           "ann@B\xC3\x9C"
                           "CHER.example");
  REQUIRE(first.status == 201);
  CHECK(first.json().at("user").at("email") == "ann@xn--bcher-kva.example");
  CHECK(register_as(c,
                    "Ann@b\xC3\xBC"
                    "cher.example")
            .status == 409);
  CHECK(register_as(c, "ann@xn--bcher-kva.example").status == 409);
  CHECK(c.post_json("/api/v1/auth/login",
                    {{"email", "ANN@bücher.example"}, {"password", "correct horse battery"}})
            .status == 200);
  // NUL, zero-width space, right-to-left override: refused, never stored or mailed.
  for (std::string e :
       {std::string("eve\0@example.com", 16), std::string("eve\xE2\x80\x8B@example.com"),
        std::string("eve@exa\xE2\x80\x8Bmple.com"), std::string("eve\xE2\x80\xAE@example.com")}) {
    auto r = register_as(c, e);
    CHECK(r.status == 400);
    CHECK(c.post_json("/api/v1/auth/password-reset", {{"email", e}}).status == 400);
  }
}

TEST_CASE("display names and API-key names refuse control and format characters") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  for (std::string name : {std::string("Eve\0", 4),
                           std::string("Eve\xE2\x80\xAE"
                                       "gnp.exe"),
                           std::string("Eve\xE2\x80\x8B"), std::string("line\nbreak")}) {
    auto r = register_as(c, "eve" + std::to_string(name.size()) + "@example.com", name);
    CHECK(r.status == 400);
    CHECK(field_of(r) == "display_name");
  }
  auto ok =
      register_as(c, "zoe@example.com", "Zoë \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB");  // ZWJ emoji
  REQUIRE(ok.status == 201);
  const auto token = str(ok, "access_token");
  auto key = c.post_json("/api/v1/auth/api-keys", {{"name", std::string("ci\0key", 6)}}, bearer(token));
  CHECK(key.status == 400);
  CHECK(field_of(key) == "name");
  CHECK(c.post_json("/api/v1/auth/api-keys", {{"name", "ci key"}}, bearer(token)).status == 201);
}

TEST_CASE("PATCH /users/me refuses invisible characters in display_name") {
  TestApp app(generous(), {auth::auth_module(), users::users_module()});
  auto c = app.client();
  const auto token = str(register_as(c, "uma@example.com"), "access_token");
  auto headers = bearer(token);
  headers["Content-Type"] = "application/json";
  auto bad = c.request("PATCH", "/api/v1/users/me", R"({"display_name":"Uma\u202Eevil"})", headers);
  CHECK(bad.status == 400);
  CHECK(field_of(bad) == "display_name");
  CHECK(c.request("PATCH", "/api/v1/users/me", R"({"display_name":"Uma\u0000"})", headers).status == 400);
  CHECK(c.request("PATCH", "/api/v1/users/me", R"({"display_name":"Úma"})", headers).status == 200);
}

TEST_CASE("wrong JSON types are 400 naming the field, not 401 or 204") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  const auto token = str(register_as(c, "tom@example.com"), "access_token");
  auto login = c.request("POST", "/api/v1/auth/login", R"({"email":123,"password":"x"})",
                         {{"Content-Type", "application/json"}});
  CHECK(login.status == 400);
  CHECK(field_of(login) == "email");
  CHECK(c.request("POST", "/api/v1/auth/login", R"({"email":"tom@example.com","password":[1]})",
                  {{"Content-Type", "application/json"}})
            .status == 400);
  auto headers = bearer(token);
  headers["Content-Type"] = "application/json";
  for (std::string body : {R"({"refresh_token":123})", R"({"refresh_token":[1]})",
                           R"({"refresh_token":1e999999})", R"({"other":"x"})"}) {
    CHECK_MESSAGE(c.request("POST", "/api/v1/auth/logout", body, headers).status == 400, body);
  }
  CHECK(c.get("/api/v1/auth/sessions", bearer(token)).status == 200);  // still signed in
  CHECK(c.request("POST", "/api/v1/auth/logout", R"({"refresh_token":"abc"})", headers).status == 204);
}

TEST_CASE("sessions and API keys are paginated lists with validated limit and cursor") {
  TestApp app(generous(), auth_only());
  auto c = app.client();
  const auto token = str(register_as(c, "pam@example.com"), "access_token");
  for (int i = 0; i < 4; ++i) {
    REQUIRE(c.post_json("/api/v1/auth/login",
                        {{"email", "pam@example.com"}, {"password", "correct horse battery"}})
                .status == 200);
    REQUIRE(
        c.post_json("/api/v1/auth/api-keys", {{"name", "key " + std::to_string(i)}}, bearer(token)).status ==
        201);
  }
  for (std::string list : {"/api/v1/auth/sessions", "/api/v1/auth/api-keys"}) {
    for (std::string bad :
         {"?limit=-1", "?limit=0", "?limit=101", "?limit=abc", "?cursor=garbage", "?limit=%zz"}) {
      auto r = c.get(list + bad, bearer(token));
      CHECK_MESSAGE(r.status == 400, (list + bad));
    }
    std::vector<std::string> ids;
    std::string next = list + "?limit=2";
    for (int pages = 0; pages < 10; ++pages) {
      auto r = c.get(next, bearer(token));
      REQUIRE(r.status == 200);
      auto body = r.json();
      CHECK(body.at("items").as_array().size() <= 2);
      for (auto const& item : body.at("items").as_array()) ids.emplace_back(item.at("id").as_string());
      if (body.at("next_cursor").is_null()) break;
      next = list + "?limit=2&cursor=" + std::string(body.at("next_cursor").as_string());
    }
    CHECK(ids.size() == (list.ends_with("sessions") ? 5u : 4u));
    std::sort(ids.begin(), ids.end());
    CHECK(std::unique(ids.begin(), ids.end()) == ids.end());
  }
  // A cursor of one list is not a cursor of the other.
  auto first = c.get("/api/v1/auth/sessions?limit=1", bearer(token)).json();
  CHECK(
      c.get("/api/v1/auth/api-keys?cursor=" + std::string(first.at("next_cursor").as_string()), bearer(token))
          .status == 400);
}

TEST_CASE("failed logins lock out the failing client, never the owner") {
  TestApp app(generous([](app::Config& c) {
                c.set("server.trusted_proxies", json::array{"127.0.0.1"});
                c.set("auth.login_failures_per_email_and_ip_per_minute", 3);
                c.set("auth.login_per_email_per_minute", 5);
              }),
              auth_only());
  auto c = app.client();
  REQUIRE(register_as(c, "owner@example.com").status == 201);
  auto login_from = [&](std::string const& ip, std::string const& password) {
    return c
        .post_json("/api/v1/auth/login", {{"email", "owner@example.com"}, {"password", password}},
                   {{"X-Forwarded-For", ip}})
        .status;
  };
  for (int i = 0; i < 3; ++i) CHECK(login_from("6.6.6.6", "wrong guess number " + std::to_string(i)) == 401);
  CHECK(login_from("6.6.6.6", "wrong guess again") == 429);
  CHECK(login_from("6.6.6.6", "correct horse battery") == 429);  // that client is out, even when right
  CHECK(login_from("7.7.7.7", "correct horse battery") == 200);  // the owner is not

  // Spread over more addresses, the per-email ceiling (5) is reached…
  CHECK(login_from("6.6.6.1", "wrong") == 401);
  CHECK(login_from("6.6.6.2", "wrong") == 401);
  // …after which a client with a recent failure is refused even below its own limit…
  CHECK(login_from("6.6.6.1", "wrong") == 429);
  // …while a client with none may still sign in.
  CHECK(login_from("7.7.7.8", "correct horse battery") == 200);
  // Successful logins never count.
  for (int i = 0; i < 5; ++i) CHECK(login_from("7.7.7.9", "correct horse battery") == 200);
}
