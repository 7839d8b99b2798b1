// /openapi.json must describe exactly what the server answers (API.md): every route of the
// enabled modules documents its success response, and real responses match those schemas —
// every field listed, no field undocumented.
#include "documents_helpers.hpp"
#include "test_app.hpp"

#include "probe_jobs.hpp"

#include <bookspace/auth/auth.hpp>
#include <bookspace/files/files.hpp>
#include <bookspace/jobs/jobs.hpp>
#include <bookspace/search/search.hpp>
#include <bookspace/users/users.hpp>

#include <doctest/doctest.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <tuple>
#include <vector>

using namespace bookspace;
using testing::generous;
using testing::HttpResponse;
using testing::TestApp;
namespace json = boost::json;

namespace {

/// Problems of `v` against `schema` (OpenAPI 3.0 subset: $ref, object/properties/required/
/// additionalProperties, array/items, nullable, string/integer/boolean, enum).
void check(json::value const& v, json::object const& schema, json::object const& components,
           std::string const& at, std::vector<std::string>& problems) {
  if (auto const* r = schema.if_contains("$ref")) {
    std::string name(r->as_string());
    name = name.substr(name.rfind('/') + 1);
    auto const* target = components.at("schemas").as_object().if_contains(name);
    if (!target) {
      problems.push_back(at + ": unknown schema " + name);
      return;
    }
    check(v, target->as_object(), components, at, problems);
    return;
  }
  if (v.is_null()) {
    if (!schema.contains("nullable")) problems.push_back(at + ": null but not nullable");
    return;
  }
  std::string type = schema.contains("type") ? std::string(schema.at("type").as_string()) : "";
  if (type == "object") {
    if (!v.is_object()) return problems.push_back(at + ": not an object");
    if (!schema.contains("properties")) {  // a free-form object (a job's payload and result)
      if (schema.contains("additionalProperties") && schema.at("additionalProperties") == true) return;
      return problems.push_back(at + ": an object schema without properties must allow any");
    }
    auto const& props = schema.at("properties").as_object();
    for (auto const& [k, val] : v.as_object()) {
      if (auto const* p = props.if_contains(k))
        check(val, p->as_object(), components, at + "." + std::string(k), problems);
      else
        problems.push_back(at + ": undocumented field " + std::string(k));
    }
    if (auto const* req = schema.if_contains("required")) {
      for (auto const& name : req->as_array()) {
        if (!v.as_object().contains(name.as_string()))
          problems.push_back(at + ": missing " + std::string(name.as_string()));
      }
    }
  } else if (type == "array") {
    if (!v.is_array()) return problems.push_back(at + ": not an array");
    for (std::size_t i = 0; i < v.as_array().size(); ++i)
      check(v.as_array()[i], schema.at("items").as_object(), components, at + "[" + std::to_string(i) + "]",
            problems);
  } else if (type == "string") {
    if (!v.is_string()) problems.push_back(at + ": not a string");
  } else if (type == "integer") {
    if (!v.is_int64() && !v.is_uint64()) problems.push_back(at + ": not an integer");
  } else if (type == "boolean") {
    if (!v.is_bool()) problems.push_back(at + ": not a boolean");
  }
}

struct Contract {
  json::object doc;
  /// Problems of a response against the documented one for (method, path template).
  std::vector<std::string> problems(std::string const& method, std::string const& path,
                                    HttpResponse const& r) const {
    std::vector<std::string> out;
    auto const* item = doc.at("paths").as_object().if_contains(path);
    if (!item || !item->as_object().contains(method)) return {"undocumented route " + method + " " + path};
    auto const& responses = item->as_object().at(method).at("responses").as_object();
    auto const* documented = responses.if_contains(std::to_string(r.status));
    if (!documented) return {method + " " + path + ": status " + std::to_string(r.status) + " undocumented"};
    auto const* content = documented->as_object().if_contains("content");
    if (!content) {
      if (!r.body.empty()) out.push_back(method + " " + path + ": body where none is documented");
      return out;
    }
    auto const& schema = content->at("application/json").at("schema").as_object();
    check(r.json(), schema, doc.at("components").as_object(), method + " " + path, out);
    return out;
  }
};

}  // namespace

TEST_CASE("every auth and users route documents a success response") {
  TestApp app(generous(), {auth::auth_module(), users::users_module()});
  auto c = app.client();
  auto doc = c.get("/openapi.json").json().as_object();
  int routes = 0;
  for (auto const& [path, item] : doc.at("paths").as_object()) {
    if (!path.starts_with("/api/v1/") && path != "/.well-known/jwks.json") continue;
    for (auto const& [method, op] : item.as_object()) {
      ++routes;
      bool success = false;
      for (auto const& [status, resp] : op.at("responses").as_object())
        success = success || status.starts_with("2");
      const std::string what = std::string(method) + " " + std::string(path);
      CHECK_MESSAGE(success, what);
      CHECK_MESSAGE(op.as_object().contains("summary"), what);
    }
  }
  CHECK(routes == 18);  // auth 13 (incl. JWKS), users 5
}

TEST_CASE("real auth and users responses match their documented schemas exactly") {
  TestApp app(generous(), {auth::auth_module(), users::users_module()});
  auto c = app.client();
  Contract contract{c.get("/openapi.json").json().as_object()};
  auto expect = [&](char const* method, char const* path, HttpResponse const& r) {
    for (auto const& p : contract.problems(method, path, r)) FAIL_CHECK(p);
  };

  auto reg = c.post_json("/api/v1/auth/register",
                         {{"email", "oa@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(reg.status == 201);
  expect("post", "/api/v1/auth/register", reg);
  auto auth = std::map<std::string, std::string>{
      {"Authorization", "Bearer " + std::string(reg.json().at("access_token").as_string())}};
  auto login =
      c.post_json("/api/v1/auth/login", {{"email", "oa@example.com"}, {"password", "correct horse battery"}});
  expect("post", "/api/v1/auth/login", login);
  auto refreshed = c.post_json("/api/v1/auth/refresh", {{"refresh_token", login.json().at("refresh_token")}});
  expect("post", "/api/v1/auth/refresh", refreshed);
  expect("get", "/api/v1/auth/sessions", c.get("/api/v1/auth/sessions", auth));
  auto key = c.post_json("/api/v1/auth/api-keys", {{"name", "ci"}}, auth);
  expect("post", "/api/v1/auth/api-keys", key);
  auto expiring = c.post_json("/api/v1/auth/api-keys", {{"name", "tmp"}, {"expires_in_days", 3}}, auth);
  expect("post", "/api/v1/auth/api-keys", expiring);
  expect("get", "/api/v1/auth/api-keys", c.get("/api/v1/auth/api-keys", auth));
  expect("get", "/.well-known/jwks.json", c.get("/.well-known/jwks.json"));
  expect("post", "/api/v1/auth/password-reset",
         c.post_json("/api/v1/auth/password-reset", {{"email", "oa@example.com"}}));
  auto me = c.get("/api/v1/users/me", auth);
  expect("get", "/api/v1/users/me", me);
  expect("patch", "/api/v1/users/me",
         c.request("PATCH", "/api/v1/users/me", R"({"display_name":"Oa"})",
                   {{"Authorization", auth["Authorization"]}, {"Content-Type", "application/json"}}));
  expect("get", "/api/v1/users/{id}",
         c.get("/api/v1/users/" + std::string(me.json().at("id").as_string()), auth));
  expect(
      "delete", "/api/v1/auth/api-keys/{id}",
      c.request("DELETE", "/api/v1/auth/api-keys/" + std::string(key.json().at("id").as_string()), "", auth));
  expect("post", "/api/v1/auth/logout", c.request("POST", "/api/v1/auth/logout", "", auth));
}

TEST_CASE("real documents responses match their documented schemas exactly") {
  TestApp app(generous(), {auth::auth_module(), documents::documents_module()});
  auto c = app.client();
  Contract contract{c.get("/openapi.json").json().as_object()};
  auto expect = [&](char const* method, char const* path, HttpResponse const& r) {
    INFO(method << " " << path << " " << r.status);
    CHECK(r.status < 400);
    for (auto const& p : contract.problems(method, path, r)) FAIL_CHECK(p);
  };
  auto ann = testing::join(c, "ann@example.com");
  auto bob = testing::join(c, "bob@example.com");
  using testing::call;
  using testing::doc_path;
  auto created = call(c, ann, "POST", "/api/v1/documents", R"({"title":"t","content":"c","tags":["a"]})");
  expect("post", "/api/v1/documents", created);
  const std::string id = testing::str(created, "id");
  expect("get", "/api/v1/documents", call(c, ann, "GET", "/api/v1/documents?limit=1"));
  expect("get", "/api/v1/documents/{id}", call(c, ann, "GET", doc_path(id)));
  expect("get", "/api/v1/documents/{id}",
         call(c, ann, "GET", doc_path(id), "", {{"If-None-Match", "\"1\""}}));
  expect("patch", "/api/v1/documents/{id}", testing::patch_doc(c, ann, id, R"({"title":"u"})", "\"1\""));
  expect("get", "/api/v1/documents/{id}/versions", call(c, ann, "GET", doc_path(id, "/versions?limit=1")));
  expect("get", "/api/v1/documents/{id}/versions/{n}", call(c, ann, "GET", doc_path(id, "/versions/1")));
  expect("post", "/api/v1/documents/{id}/versions/{n}/restore",
         call(c, ann, "POST", doc_path(id, "/versions/1/restore"), "", {{"If-Match", "\"2\""}}));
  expect("put", "/api/v1/documents/{id}/shares/{user_id}",
         call(c, ann, "PUT", doc_path(id, "/shares/" + bob.id), R"({"role":"viewer"})"));
  expect("get", "/api/v1/documents/{id}/shares", call(c, ann, "GET", doc_path(id, "/shares")));
  expect("delete", "/api/v1/documents/{id}/shares/{user_id}",
         call(c, ann, "DELETE", doc_path(id, "/shares/" + bob.id)));
  auto comment = call(c, ann, "POST", doc_path(id, "/comments"), R"({"body":"b"})");
  expect("post", "/api/v1/documents/{id}/comments", comment);
  expect("get", "/api/v1/documents/{id}/comments", call(c, ann, "GET", doc_path(id, "/comments")));
  expect("delete", "/api/v1/documents/{id}/comments/{cid}",
         call(c, ann, "DELETE", doc_path(id, "/comments/" + testing::str(comment, "id"))));
  expect("delete", "/api/v1/documents/{id}", call(c, ann, "DELETE", doc_path(id)));
  expect("get", "/api/v1/trash", call(c, ann, "GET", "/api/v1/trash"));
  expect("post", "/api/v1/trash/{id}/restore", call(c, ann, "POST", "/api/v1/trash/" + id + "/restore"));
  REQUIRE(call(c, ann, "DELETE", doc_path(id)).status == 204);
  expect("delete", "/api/v1/trash/{id}", call(c, ann, "DELETE", "/api/v1/trash/" + id));
}

TEST_CASE("real jobs responses match their documented schemas exactly; the submission lists the types") {
  TestApp app(generous([](app::Config& c) { c.set("jobs.poll_interval_ms", 50); }),
              {auth::auth_module(), jobs::jobs_module(), testing::probe_jobs_module()});
  auto c = app.client();
  auto doc = c.get("/openapi.json").json().as_object();
  Contract contract{doc};
  auto types = doc.at("components").at("schemas").at("JobSubmission").at("properties").at("type").at("enum");
  CHECK(
      json::serialize(types) ==
      R"(["auth.send_reset_mail","probe.admin","probe.cancelled_at_end","probe.fail","probe.noop","probe.record","probe.slow"])");
  auto expect = [&](char const* method, char const* path, HttpResponse const& r) {
    INFO(method << " " << path << " " << r.status);
    CHECK(r.status < 400);
    for (auto const& p : contract.problems(method, path, r)) FAIL_CHECK(p);
  };
  auto ann = testing::join(c, "ann@example.com");
  using testing::call;
  auto queued =
      call(c, ann, "POST", "/api/v1/jobs", R"({"type":"probe.noop","run_at":"2999-01-01T00:00:00Z"})");
  expect("post", "/api/v1/jobs", queued);
  const std::string later = testing::str(queued, "id");
  expect("post", "/api/v1/jobs/{id}/cancel", call(c, ann, "POST", "/api/v1/jobs/" + later + "/cancel"));
  expect("post", "/api/v1/jobs/{id}/retry", call(c, ann, "POST", "/api/v1/jobs/" + later + "/retry"));
  auto ran =
      call(c, ann, "POST", "/api/v1/jobs", R"({"type":"probe.record","payload":{"a":[1,{"b":null}]}})");
  const std::string id = testing::str(ran, "id");
  REQUIRE(testing::eventually(
      [&] { return call(c, ann, "GET", "/api/v1/jobs/" + id).json().at("status") == "succeeded"; }));
  expect("get", "/api/v1/jobs/{id}", call(c, ann, "GET", "/api/v1/jobs/" + id));
  expect("get", "/api/v1/jobs", call(c, ann, "GET", "/api/v1/jobs?limit=1"));
  expect("get", "/api/v1/jobs/{id}/attempts", call(c, ann, "GET", "/api/v1/jobs/" + id + "/attempts"));
  expect("get", "/api/v1/jobs/{id}/attempts", call(c, ann, "GET", "/api/v1/jobs/" + later + "/attempts"));
}

TEST_CASE("the document names every status API.md names, every response's headers, and the codes") {
  TestApp app(generous(), {auth::auth_module(), users::users_module(), documents::documents_module(),
                           files::files_module(), jobs::jobs_module(), search::search_module()});
  auto doc = app.client().get("/openapi.json").json().as_object();
  auto const& paths = doc.at("paths").as_object();
  auto op = [&](std::string const& method, std::string const& path) -> json::object const& {
    return paths.at(path).at(method).as_object();
  };
  const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> statuses = {
      {"post", "/api/v1/auth/register", {"201", "409", "429"}},
      {"post", "/api/v1/auth/login", {"200", "401", "429"}},
      {"patch", "/api/v1/documents/{id}", {"200", "403", "412", "428"}},
      {"post", "/api/v1/documents/{id}/versions/{n}/restore", {"200", "403", "412", "428"}},
      {"get", "/api/v1/documents/{id}", {"200", "304"}},
      {"post", "/api/v1/files", {"201", "403", "413", "415", "507"}},
      {"get", "/api/v1/files/{id}/content", {"200", "206", "304", "410", "416"}},
      {"head", "/api/v1/files/{id}/content", {"200", "206", "304", "416"}},
      {"post", "/api/v1/jobs/{id}/cancel", {"200", "409"}},
      {"patch", "/api/v1/uploads/{id}", {"204", "409", "412", "413", "415"}},
      {"get", "/api/v1/users", {"200", "403"}},
  };
  for (auto const& [method, path, codes] : statuses) {
    for (auto const& code : codes) {
      CAPTURE(method);
      CAPTURE(path);
      CAPTURE(code);
      CHECK(op(method, path).at("responses").as_object().contains(code));
    }
  }
  // Every inline response names X-Request-Id; the shared problem responses do too.
  for (auto const& [path, item] : paths) {
    for (auto const& [method, operation] : item.as_object()) {
      for (auto const& [status, response] : operation.at("responses").as_object()) {
        if (response.as_object().contains("$ref")) continue;
        CAPTURE(path);
        CAPTURE(status);
        CHECK(response.at("headers").as_object().contains("X-Request-Id"));
      }
    }
  }
  auto const& responses = doc.at("components").at("responses").as_object();
  CHECK(responses.at("ProblemRetry").at("headers").as_object().contains("Retry-After"));
  CHECK(responses.at("Unauthorized").at("headers").as_object().contains("WWW-Authenticate"));
  auto header_of = [&](std::string const& method, std::string const& path, std::string const& status) {
    return op(method, path).at("responses").at(status).at("headers").as_object();
  };
  CHECK(header_of("post", "/api/v1/documents", "201").contains("ETag"));
  CHECK(header_of("post", "/api/v1/documents", "201").contains("Location"));
  CHECK(header_of("post", "/api/v1/documents", "201").contains("Idempotent-Replayed"));
  CHECK(header_of("get", "/api/v1/files/{id}/content", "206").contains("Content-Range"));
  CHECK(header_of("get", "/api/v1/files/{id}/content", "200").contains("Content-Disposition"));
  CHECK(header_of("patch", "/api/v1/uploads/{id}", "204").contains("BookSpace-File-Id"));
  // The signed link works without a credential; `q` is required; codes and job types are enums.
  CHECK(json::serialize(op("get", "/api/v1/files/{id}/content").at("security")) == R"([{},{"bearer":[]}])");
  bool q_required = false;
  for (auto const& p : op("get", "/api/v1/search").at("parameters").as_array())
    if (p.at("name") == "q") q_required = p.at("required").as_bool();
  CHECK(q_required);
  auto const& schemas = doc.at("components").at("schemas").as_object();
  auto const& codes = schemas.at("Problem").at("properties").at("code").at("enum").as_array();
  CHECK(std::find(codes.begin(), codes.end(), json::value("insufficient_storage")) != codes.end());
  CHECK(std::find(codes.begin(), codes.end(), json::value("link_expired")) != codes.end());
  CHECK(schemas.at("Job").at("properties").at("type").as_object().contains("enum"));
  CHECK(op("post", "/api/v1/auth/logout").contains("requestBody"));
  CHECK(op("patch", "/api/v1/uploads/{id}")
            .at("requestBody")
            .at("content")
            .as_object()
            .contains("application/offset+octet-stream"));
  CHECK(op("post", "/api/v1/files")
            .at("requestBody")
            .at("content")
            .as_object()
            .contains("multipart/form-data"));
}
