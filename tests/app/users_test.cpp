#include "app/kernel_config.hpp"
#include "auth_helpers.hpp"
#include "test_app.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/users/users.hpp>

#include <doctest/doctest.h>

using namespace bookspace;
using testing::HttpClient;
using testing::TestApp;
using namespace testing;  // auth_helpers.hpp

namespace {

struct Member {
  std::string id, token;
};

Member join(HttpClient& c, std::string const& email, std::string const& name) {
  auto r = c.post_json("/api/v1/auth/register",
                       {{"email", email}, {"password", "correct horse battery"}, {"display_name", name}});
  REQUIRE(r.status == 201);
  return {std::string(r.json().at("user").at("id").as_string()),
          std::string(r.json().at("access_token").as_string())};
}

}  // namespace

TEST_CASE("GET /users/me works right after register; PATCH changes only the display name") {
  TestApp app(generous(), {auth::auth_module(), users::users_module()});
  auto c = app.client();
  auto nia = join(c, "nia@example.com", "Nia");
  auto me = c.get("/api/v1/users/me", bearer(nia.token));
  REQUIRE(me.status == 200);
  CHECK(me.json().at("id") == nia.id.c_str());
  CHECK(me.json().at("email") == "nia@example.com");
  CHECK(me.json().at("display_name") == "Nia");
  CHECK(me.json().at("role") == "member");
  CHECK(me.json().at("disabled") == false);
  CHECK(me.json().as_object().contains("updated_at"));
  CHECK(c.get("/api/v1/users/me").status == 401);

  auto patched = c.request("PATCH", "/api/v1/users/me", R"({"display_name":"  Nia B. "})",
                           {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + nia.token}});
  REQUIRE(patched.status == 200);
  CHECK(patched.json().at("display_name") == "Nia B.");
  for (auto const* body : {R"({"role":"admin"})", R"({"email":"x@y.z"})", R"({"id":"1"})",
                           R"({"disabled":true})", R"({"display_name":""})", R"({"display_name":5})"}) {
    INFO(body);
    CHECK(c.request("PATCH", "/api/v1/users/me", body,
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + nia.token}})
              .status == 400);
  }
  // Auth owns the name: the very next login shows it (no event to wait for).
  auto login = c.post_json("/api/v1/auth/login",
                           {{"email", "nia@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(login.status == 200);
  CHECK(login.json().at("user").at("display_name") == "Nia B.");
  CHECK(c.get("/api/v1/users/me", bearer(nia.token)).json().at("display_name") == "Nia B.");
}

TEST_CASE("public profiles show only id and display name; members cannot administer") {
  TestApp app(generous(), {auth::auth_module(), users::users_module()});
  auto c = app.client();
  auto oli = join(c, "oli@example.com", "Oli");
  auto pam = join(c, "pam@example.com", "Pam");
  auto pub = c.get("/api/v1/users/" + oli.id, bearer(pam.token));
  REQUIRE(pub.status == 200);
  CHECK(pub.json().as_object().size() == 2);
  CHECK(pub.json().at("display_name") == "Oli");
  CHECK(c.get("/api/v1/users/no-such-id", bearer(pam.token)).status == 404);
  CHECK(c.get("/api/v1/users", bearer(pam.token)).status == 403);
  auto forbidden =
      c.request("PATCH", "/api/v1/users/" + oli.id, R"({"role":"admin"})",
                {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + pam.token}});
  CHECK(forbidden.status == 403);
  CHECK(forbidden.json().at("code") == "forbidden");
}
