// API.md "Documents", through real HTTP on SQLite and PostgreSQL: the contract route by
// route, limits, sharing roles, comments, trash and its purge, Idempotency-Key, events.
#include "documents_helpers.hpp"

#include <bookspace/documents/events.hpp>
#include "test_app.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;

namespace {

std::size_t count(TestApp& app, std::string const& sql) {
  return static_cast<std::size_t>(std::stoll(app.query_strings(sql).at(0)));
}

std::vector<std::string> event_types(TestApp& app, std::string const& document) {
  return app.query_strings("SELECT type FROM events WHERE aggregate_id = '" + document + "' ORDER BY seq");
}

}  // namespace

TEST_CASE("create, read, update with If-Match, versions and restore") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");

  auto created =
      call(c, ann, "POST", "/api/v1/documents", R"({"title":" Plan ","content":"v1","tags":["Work"]})");
  REQUIRE(created.status == 201);
  const std::string id = str(created, "id");
  CHECK(created.header("etag") == "\"1\"");
  CHECK(created.header("location") == "/api/v1/documents/" + id);
  const json::value created_body = created.json();
  auto const& d = created_body.as_object();
  CHECK(d.at("title") == "Plan");
  CHECK(d.at("content") == "v1");
  CHECK(d.at("tags") == json::array{"work"});
  CHECK(d.at("owner_id") == ann.id.c_str());
  CHECK(d.at("version") == 1);
  CHECK(d.at("role") == "owner");
  CHECK(d.at("created_at").as_string().size() == 24);  // 2026-11-22T10:00:00.000Z

  auto got = call(c, ann, "GET", doc_path(id));
  REQUIRE(got.status == 200);
  CHECK(got.header("etag") == "\"1\"");
  CHECK(call(c, ann, "GET", doc_path(id), "", {{"If-None-Match", "\"1\""}}).status == 304);
  CHECK(call(c, ann, "GET", doc_path(id), "", {{"If-None-Match", "W/\"1\""}}).status == 304);
  CHECK(call(c, ann, "GET", doc_path(id), "", {{"If-None-Match", "\"7\""}}).status == 200);

  auto no_precondition = call(c, ann, "PATCH", doc_path(id), R"({"content":"v2"})");
  CHECK(no_precondition.status == 428);
  CHECK(no_precondition.json().at("code") == "precondition_required");
  auto stale = patch_doc(c, ann, id, R"({"content":"v2"})", "\"0\"");
  CHECK(stale.status == 412);
  CHECK(stale.json().at("code") == "precondition_failed");
  CHECK(patch_doc(c, ann, id, R"({"content":"v2"})", "W/\"1\"").status == 412);  // If-Match is strong

  auto v2 = patch_doc(c, ann, id, R"({"content":"v2"})", "\"1\"");
  REQUIRE(v2.status == 200);
  CHECK(v2.header("etag") == "\"2\"");
  CHECK(v2.json().at("version") == 2);
  CHECK(v2.json().at("title") == "Plan");  // untouched fields stay
  CHECK(v2.json().at("tags") == json::array{"work"});
  auto v3 = patch_doc(c, ann, id, R"({"title":"Plan B","tags":[]})", "\"2\"");
  REQUIRE(v3.status == 200);
  CHECK(v3.json().at("content") == "v2");
  CHECK(v3.json().at("tags") == json::array{});

  auto versions = call(c, ann, "GET", doc_path(id, "/versions"));
  REQUIRE(versions.status == 200);
  const json::value versions_body = versions.json();
  auto const& items = versions_body.at("items").as_array();
  REQUIRE(items.size() == 3);
  CHECK(items[0].at("version") == 3);
  CHECK(items[2].at("version") == 1);
  CHECK(items[0].at("title") == "Plan B");
  CHECK(items[0].at("author_id") == ann.id.c_str());
  CHECK_FALSE(items[0].as_object().contains("content"));
  auto paged = call(c, ann, "GET", doc_path(id, "/versions?limit=2"));
  CHECK(paged.json().at("items").as_array().size() == 2);
  auto rest = call(
      c, ann, "GET",
      doc_path(id, "/versions?limit=2&cursor=" + std::string(paged.json().at("next_cursor").as_string())));
  REQUIRE(rest.json().at("items").as_array().size() == 1);
  CHECK(rest.json().at("items").at(0).at("version") == 1);
  CHECK(rest.json().at("next_cursor").is_null());

  auto one = call(c, ann, "GET", doc_path(id, "/versions/1"));
  REQUIRE(one.status == 200);
  CHECK(one.json().at("content") == "v1");
  CHECK(one.json().at("tags") == json::array{"work"});
  CHECK(call(c, ann, "GET", doc_path(id, "/versions/9")).status == 404);
  CHECK(call(c, ann, "GET", doc_path(id, "/versions/x")).status == 404);

  CHECK(call(c, ann, "POST", doc_path(id, "/versions/1/restore")).status == 428);
  CHECK(call(c, ann, "POST", doc_path(id, "/versions/1/restore"), "", {{"If-Match", "\"2\""}}).status == 412);
  auto restored = call(c, ann, "POST", doc_path(id, "/versions/1/restore"), "", {{"If-Match", "\"3\""}});
  REQUIRE(restored.status == 200);
  CHECK(restored.json().at("version") == 4);
  CHECK(restored.json().at("title") == "Plan");
  CHECK(restored.json().at("content") == "v1");
  CHECK(restored.json().at("tags") == json::array{"work"});
  CHECK(restored.header("etag") == "\"4\"");
  CHECK(count(app, "SELECT COUNT(*) FROM documents_versions WHERE document_id = '" + id + "'") == 4);
  // The version rows are immutable: version 1 still holds what it held.
  CHECK(call(c, ann, "GET", doc_path(id, "/versions/1")).json().at("title") == "Plan");
  CHECK(call(c, ann, "GET", doc_path(id, "/versions/3")).json().at("title") == "Plan B");
}

TEST_CASE("bad input: 400 for read-only or unknown fields, 413 beyond 1 MiB, 415 without JSON") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto post = [&](std::string const& body) { return call(c, ann, "POST", "/api/v1/documents", body).status; };
  for (auto const* body :
       {R"({"title":"x","owner_id":"u"})", R"({"title":"x","version":3})", R"({"title":"x","id":"1"})",
        R"({"title":"x","role":"owner"})", R"({"content":"no title"})", R"({"title":""})",
        R"({"title":"   "})", R"({"title":7})", R"({"title":"x","tags":"a"})", R"({"title":"x","tags":[""]})",
        R"({"title":"x","content":5})", R"({"title":"a\u0000b"})", R"({"title":"x","content":"a\u0000b"})",
        R"([1])", R"({"title":)"}) {
    INFO(body);
    CHECK(post(body) == 400);
  }
  CHECK(post(R"({"title":")" + std::string(500, 't') + "\"}") == 201);
  CHECK(post(R"({"title":")" + std::string(501, 't') + "\"}") == 400);
  json::array tags;
  for (int i = 0; i < 32; ++i) tags.emplace_back("tag" + std::to_string(i));
  CHECK(post(R"({"title":"x","tags":)" + json::serialize(tags) + "}") == 201);
  tags.emplace_back("one-too-many");
  CHECK(post(R"({"title":"x","tags":)" + json::serialize(tags) + "}") == 400);
  CHECK(post(R"({"title":"x","tags":[")" + std::string(64, 'a') + "\"]}") == 201);
  CHECK(post(R"({"title":"x","tags":[")" + std::string(65, 'a') + "\"]}") == 400);

  const std::string mib(1024 * 1024, 'a');
  CHECK(post(R"({"title":"big","content":")" + mib + "\"}") == 201);
  auto too_big = call(c, ann, "POST", "/api/v1/documents", R"({"title":"big","content":")" + mib + "a\"}");
  CHECK(too_big.status == 413);
  CHECK(too_big.json().at("code") == "payload_too_large");
  // Far beyond any valid document: refused before it is parsed.
  CHECK(post(R"({"title":"huge","content":")" + std::string(7 * 1024 * 1024, 'a') + "\"}") == 413);
  CHECK(call(c, ann, "POST", "/api/v1/documents", R"({"title":"x"})", {{"Content-Type", "text/plain"}})
            .status == 415);
  CHECK(c.post_json("/api/v1/documents", {{"title", "anonymous"}}).status == 401);

  const std::string id = create_doc(c, ann, "target");
  for (auto const* body :
       {R"({})", R"({"owner_id":"u"})", R"({"version":9})", R"({"id":"x"})", R"({"title":""})"}) {
    INFO(body);
    CHECK(patch_doc(c, ann, id, body, "\"1\"").status == 400);
  }
  CHECK(patch_doc(c, ann, id, R"({"content":")" + mib + "a\"}", "\"1\"").status == 413);
  CHECK(call(c, ann, "GET", doc_path(id)).json().at("version") == 1);  // nothing was written

  for (auto const* query :
       {"?limit=0", "?limit=101", "?limit=x", "?sort=size", "?scope=mine", "?cursor=garbage", "?tag="}) {
    INFO(query);
    CHECK(call(c, ann, "GET", std::string("/api/v1/documents") + query).status == 400);
  }
  // A cursor of one sort is not accepted by another.
  auto first = call(c, ann, "GET", "/api/v1/documents?limit=1&sort=title");
  std::string cursor(first.json().at("next_cursor").as_string());
  CHECK(call(c, ann, "GET", "/api/v1/documents?sort=updated_at&cursor=" + cursor).status == 400);
}

TEST_CASE("lists: sort orders, scope, tag filter and keyset pages without content") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto bob = join(c, "bob@example.com");
  std::vector<std::string> ann_ids;
  for (auto const* title : {"delta", "Alpha", "charlie", "bravo", "echo"}) {
    ann_ids.push_back(create_doc(c, ann, title, std::string(title) == "bravo" ? R"(,"tags":["Red"])" : ""));
  }
  const std::string bobs = create_doc(c, bob, "from bob", R"(,"tags":["red"])");
  REQUIRE(call(c, bob, "PUT", doc_path(bobs, "/shares/" + ann.id), R"({"role":"viewer"})").status == 200);
  // Touch "delta" so that it is the most recently updated.
  REQUIRE(patch_doc(c, ann, ann_ids[0], R"({"content":"new"})", "\"1\"").status == 200);

  auto titles = [&](std::string const& query) {
    std::vector<std::string> out;
    std::string next = "/api/v1/documents" + query;
    for (int i = 0; i < 20; ++i) {
      auto r = call(c, ann, "GET", next);
      REQUIRE(r.status == 200);
      const json::value body = r.json();
      for (auto const& item : body.at("items").as_array()) {
        CHECK_FALSE(item.as_object().contains("content"));
        out.emplace_back(item.at("title").as_string());
      }
      if (r.json().at("next_cursor").is_null()) break;
      next = "/api/v1/documents" + query + (query.empty() ? "?" : "&") +
             "cursor=" + std::string(r.json().at("next_cursor").as_string());
    }
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(titles("?sort=title&limit=2") == V{"Alpha", "bravo", "charlie", "delta", "echo", "from bob"});
  CHECK(titles("?limit=2") == V{"delta", "from bob", "echo", "bravo", "charlie", "Alpha"});
  CHECK(titles("?sort=updated_at&limit=4") == V{"Alpha", "charlie", "bravo", "echo", "from bob", "delta"});
  CHECK(titles("?scope=owned&sort=title") == V{"Alpha", "bravo", "charlie", "delta", "echo"});
  CHECK(titles("?scope=shared") == V{"from bob"});
  CHECK(titles("?tag=RED&sort=title") == V{"bravo", "from bob"});
  CHECK(titles("?tag=red&scope=owned") == V{"bravo"});
  CHECK(titles("?tag=blue").empty());
  auto shared = call(c, ann, "GET", "/api/v1/documents?scope=shared");
  CHECK(shared.json().at("items").at(0).at("role") == "viewer");
  CHECK(shared.json().at("items").at(0).at("owner_id") == bob.id.c_str());
  // Bob sees his own document only.
  auto bobs_list = call(c, bob, "GET", "/api/v1/documents");
  CHECK(bobs_list.json().at("items").as_array().size() == 1);
}

TEST_CASE("sharing: viewers read, editors write, only owners delete and share; revocation is immediate") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");
  auto eve = join(c, "eve@example.com");
  const std::string id = create_doc(c, ann, "shared plan");

  CHECK(call(c, ann, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"owner"})").status == 400);
  CHECK(call(c, ann, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"viewer","x":1})").status == 400);
  CHECK(call(c, ann, "PUT", doc_path(id, "/shares/" + ann.id), R"({"role":"viewer"})").status == 400);
  CHECK(call(c, ann, "PUT", doc_path(id, "/shares/no-such-user"), R"({"role":"viewer"})").status == 404);
  auto share = call(c, ann, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"viewer"})");
  REQUIRE(share.status == 200);
  CHECK(share.json().at("user_id") == vic.id.c_str());
  CHECK(share.json().at("role") == "viewer");
  REQUIRE(call(c, ann, "PUT", doc_path(id, "/shares/" + eve.id), R"({"role":"editor"})").status == 200);

  // viewer
  auto seen = call(c, vic, "GET", doc_path(id));
  REQUIRE(seen.status == 200);
  CHECK(seen.json().at("role") == "viewer");
  CHECK(patch_doc(c, vic, id, R"({"title":"mine"})", "\"1\"").status == 403);
  CHECK(call(c, vic, "POST", doc_path(id, "/versions/1/restore"), "", {{"If-Match", "\"1\""}}).status == 403);
  CHECK(call(c, vic, "DELETE", doc_path(id)).status == 403);
  CHECK(call(c, vic, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"editor"})").status == 403);
  CHECK(call(c, vic, "GET", doc_path(id, "/versions")).status == 200);
  auto shares = call(c, vic, "GET", doc_path(id, "/shares"));
  REQUIRE(shares.status == 200);
  CHECK(shares.json().at("items").as_array().size() == 2);

  // editor
  auto edited = patch_doc(c, eve, id, R"({"content":"by eve"})", "\"1\"");
  REQUIRE(edited.status == 200);
  CHECK(edited.json().at("role") == "editor");
  CHECK(call(c, eve, "GET", doc_path(id, "/versions/2")).json().at("author_id") == eve.id.c_str());
  CHECK(call(c, eve, "POST", doc_path(id, "/versions/1/restore"), "", {{"If-Match", "\"2\""}}).status == 200);
  CHECK(call(c, eve, "DELETE", doc_path(id)).status == 403);
  CHECK(call(c, eve, "DELETE", doc_path(id, "/shares/" + vic.id)).status == 403);

  // role change, then revocation: effective on the next request
  auto promoted = call(c, ann, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"editor"})");
  CHECK(promoted.json().at("role") == "editor");
  CHECK(promoted.json().at("created_at") == share.json().at("created_at"));
  CHECK(patch_doc(c, vic, id, R"({"content":"by vic"})", "\"3\"").status == 200);
  CHECK(call(c, ann, "DELETE", doc_path(id, "/shares/" + vic.id)).status == 204);
  CHECK(call(c, ann, "DELETE", doc_path(id, "/shares/" + vic.id)).status == 404);
  CHECK(call(c, vic, "GET", doc_path(id)).status == 404);
  CHECK(call(c, vic, "GET", "/api/v1/documents").json().at("items").as_array().empty());
  CHECK(call(c, eve, "GET", "/api/v1/documents?scope=shared").json().at("items").as_array().size() == 1);

  // Administrators get no implicit access.
  app.execute_sql("UPDATE auth_accounts SET role = 'admin' WHERE id = '" + vic.id + "'");
  auto login = c.post_json("/api/v1/auth/login",
                           {{"email", "vic@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(login.status == 200);
  Member admin{vic.id, str(login, "access_token")};
  CHECK(call(c, admin, "GET", doc_path(id)).status == 404);
  CHECK(call(c, admin, "DELETE", doc_path(id)).status == 404);
}

TEST_CASE("comments: any reader writes; the author or the owner deletes") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");
  auto eve = join(c, "eve@example.com");
  const std::string id = create_doc(c, ann, "talk");
  REQUIRE(call(c, ann, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"viewer"})").status == 200);
  REQUIRE(call(c, ann, "PUT", doc_path(id, "/shares/" + eve.id), R"({"role":"viewer"})").status == 200);

  auto first = call(c, vic, "POST", doc_path(id, "/comments"), R"({"body":"first!"})");
  REQUIRE(first.status == 201);
  CHECK(first.json().at("document_id") == id.c_str());
  CHECK(first.json().at("author_id") == vic.id.c_str());
  CHECK(first.json().at("body") == "first!");
  auto second = call(c, eve, "POST", doc_path(id, "/comments"), R"({"body":"second"})");
  REQUIRE(second.status == 201);
  for (auto const* body :
       {R"({})", R"({"body":""})", R"({"body":"  "})", R"({"body":1})", R"({"body":"x","id":"1"})"}) {
    INFO(body);
    CHECK(call(c, vic, "POST", doc_path(id, "/comments"), body).status == 400);
  }
  CHECK(call(c, vic, "POST", doc_path(id, "/comments"), R"({"body":")" + std::string(10'000, 'c') + "\"}")
            .status == 201);
  CHECK(call(c, vic, "POST", doc_path(id, "/comments"), R"({"body":")" + std::string(10'001, 'c') + "\"}")
            .status == 400);

  auto list = call(c, ann, "GET", doc_path(id, "/comments?limit=2"));
  REQUIRE(list.status == 200);
  CHECK(list.json().at("items").at(0).at("body") == "first!");  // oldest first
  CHECK(all_ids(c, ann, doc_path(id, "/comments?limit=1")).size() == 3);

  const std::string first_id = str(first, "id"), second_id = str(second, "id");
  CHECK(call(c, eve, "DELETE", doc_path(id, "/comments/" + first_id)).status == 403);
  CHECK(call(c, vic, "DELETE", doc_path(id, "/comments/" + first_id)).status == 204);
  CHECK(call(c, vic, "DELETE", doc_path(id, "/comments/" + first_id)).status == 404);
  CHECK(call(c, ann, "DELETE", doc_path(id, "/comments/" + second_id)).status == 204);
  // A comment id under another document is not found there.
  const std::string other = create_doc(c, ann, "other");
  auto third = call(c, ann, "POST", doc_path(other, "/comments"), R"({"body":"elsewhere"})");
  CHECK(call(c, ann, "DELETE", doc_path(id, "/comments/" + str(third, "id"))).status == 404);
}

TEST_CASE("trash: delete hides everywhere, restore brings back shares, permanent delete removes everything") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");
  const std::string id = create_doc(c, ann, "to trash");
  const std::string kept = create_doc(c, ann, "kept");
  REQUIRE(call(c, ann, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"viewer"})").status == 200);
  REQUIRE(call(c, vic, "POST", doc_path(id, "/comments"), R"({"body":"hi"})").status == 201);
  REQUIRE(patch_doc(c, ann, id, R"({"content":"v2"})", "\"1\"").status == 200);

  CHECK(call(c, ann, "DELETE", doc_path(id)).status == 204);
  CHECK(call(c, ann, "GET", doc_path(id)).status == 404);
  CHECK(call(c, vic, "GET", doc_path(id)).status == 404);
  CHECK(call(c, ann, "GET", doc_path(id, "/versions")).status == 404);
  CHECK(call(c, ann, "GET", doc_path(id, "/comments")).status == 404);
  CHECK(call(c, ann, "DELETE", doc_path(id)).status == 404);
  CHECK(all_ids(c, ann, "/api/v1/documents") == std::vector<std::string>{kept});
  CHECK(all_ids(c, vic, "/api/v1/documents").empty());

  auto trash = call(c, ann, "GET", "/api/v1/trash");
  REQUIRE(trash.status == 200);
  REQUIRE(trash.json().at("items").as_array().size() == 1);
  CHECK(trash.json().at("items").at(0).at("id") == id.c_str());
  CHECK(trash.json().at("items").at(0).at("title") == "to trash");
  CHECK(trash.json().at("items").at(0).as_object().contains("deleted_at"));
  CHECK(call(c, vic, "GET", "/api/v1/trash").json().at("items").as_array().empty());
  CHECK(call(c, vic, "POST", "/api/v1/trash/" + id + "/restore").status == 404);
  CHECK(call(c, vic, "DELETE", "/api/v1/trash/" + id).status == 404);
  CHECK(call(c, ann, "POST", "/api/v1/trash/" + kept + "/restore").status == 404);  // not in the trash

  auto restored = call(c, ann, "POST", "/api/v1/trash/" + id + "/restore");
  REQUIRE(restored.status == 200);
  CHECK(restored.json().at("version") == 2);
  CHECK(restored.json().at("content") == "v2");
  CHECK(call(c, vic, "GET", doc_path(id)).status == 200);  // the share is back

  REQUIRE(call(c, ann, "DELETE", doc_path(id)).status == 204);
  CHECK(call(c, ann, "DELETE", "/api/v1/trash/" + id).status == 204);
  CHECK(call(c, ann, "POST", "/api/v1/trash/" + id + "/restore").status == 404);
  CHECK(call(c, ann, "GET", "/api/v1/trash").json().at("items").as_array().empty());
  for (auto const* table :
       {"documents_versions", "documents_comments", "documents_members", "documents_tags"}) {
    INFO(table);
    CHECK(count(app, std::string("SELECT COUNT(*) FROM ") + table + " WHERE document_id = '" + id + "'") ==
          0);
  }
  CHECK(count(app, "SELECT COUNT(*) FROM documents_documents WHERE id = '" + id + "'") == 0);
  CHECK(call(c, ann, "GET", doc_path(kept)).status == 200);
}

TEST_CASE("the trash older than the retention is purged in the background, with an event") {
  TestApp app(generous([](app::Config& c) {
                c.set("documents.trash_retention_days", 1);
                c.set("documents.purge_interval_s", 1);
              }),
              with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const std::string old_one = create_doc(c, ann, "old");
  const std::string recent = create_doc(c, ann, "recent");
  REQUIRE(call(c, ann, "DELETE", doc_path(old_one)).status == 204);
  REQUIRE(call(c, ann, "DELETE", doc_path(recent)).status == 204);
  // Two days in the trash already.
  app.execute_sql("UPDATE documents_documents SET deleted_at = deleted_at - 172800000 WHERE id = '" +
                  old_one + "'");
  CHECK(eventually([&] {
    return count(app, "SELECT COUNT(*) FROM documents_documents WHERE id = '" + old_one + "'") == 0;
  }));
  CHECK(count(app, "SELECT COUNT(*) FROM documents_versions WHERE document_id = '" + old_one + "'") == 0);
  CHECK(event_types(app, old_one).back() == std::string(documents::Purged::type));
  CHECK(all_ids(c, ann, "/api/v1/trash") == std::vector<std::string>{recent});
}

TEST_CASE("POST /documents honours Idempotency-Key") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto first = call(c, ann, "POST", "/api/v1/documents", R"({"title":"once"})", {{"Idempotency-Key", "k-1"}});
  REQUIRE(first.status == 201);
  auto again = call(c, ann, "POST", "/api/v1/documents", R"({"title":"once"})", {{"Idempotency-Key", "k-1"}});
  CHECK(again.status == 201);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(again.body == first.body);
  CHECK(again.header("location") == first.header("location"));
  auto other =
      call(c, ann, "POST", "/api/v1/documents", R"({"title":"twice"})", {{"Idempotency-Key", "k-1"}});
  CHECK(other.status == 422);
  CHECK(other.json().at("code") == "idempotency_conflict");
  CHECK(all_ids(c, ann, "/api/v1/documents").size() == 1);
  // Keys belong to their user: another user's same key is a new request.
  auto bob = join(c, "bob@example.com");
  CHECK(
      call(c, bob, "POST", "/api/v1/documents", R"({"title":"once"})", {{"Idempotency-Key", "k-1"}}).status ==
      201);
  CHECK(all_ids(c, bob, "/api/v1/documents").size() == 1);
}

TEST_CASE("events: one per committed change, none for refused ones, with the reader set") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");
  const std::string id = create_doc(c, ann, "evented", R"(,"content":"hello")");
  REQUIRE(patch_doc(c, ann, id, R"({"content":"v2"})", "\"1\"").status == 200);
  REQUIRE(patch_doc(c, ann, id, R"({"content":"stale"})", "\"1\"").status == 412);
  REQUIRE(patch_doc(c, vic, id, R"({"content":"not theirs"})", "\"2\"").status == 404);
  REQUIRE(call(c, ann, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"viewer"})").status == 200);
  REQUIRE(patch_doc(c, vic, id, R"({"content":"viewer"})", "\"2\"").status == 403);
  REQUIRE(call(c, vic, "POST", doc_path(id, "/comments"), R"({"body":"hi"})").status == 201);
  REQUIRE(call(c, ann, "DELETE", doc_path(id, "/shares/" + vic.id)).status == 204);
  REQUIRE(call(c, ann, "DELETE", doc_path(id)).status == 204);
  REQUIRE(call(c, ann, "POST", "/api/v1/trash/" + id + "/restore").status == 200);
  REQUIRE(call(c, ann, "DELETE", doc_path(id)).status == 204);
  REQUIRE(call(c, ann, "DELETE", "/api/v1/trash/" + id).status == 204);
  CHECK(event_types(app, id) ==
        std::vector<std::string>{
            std::string(documents::Created::type), std::string(documents::Updated::type),
            std::string(documents::Shared::type), std::string(documents::CommentAdded::type),
            std::string(documents::Unshared::type), std::string(documents::Deleted::type),
            std::string(documents::Restored::type), std::string(documents::Deleted::type),
            std::string(documents::Purged::type)});
  auto payloads =
      app.query_strings("SELECT payload FROM events WHERE aggregate_id = '" + id + "' ORDER BY seq");
  auto created = json::parse(payloads.at(0)).as_object();
  CHECK(created.at("content") == "hello");
  CHECK(created.at("version") == 1);
  CHECK(created.at("readers") == json::array{ann.id.c_str()});
  auto updated = json::parse(payloads.at(1)).as_object();
  CHECK(updated.at("content") == "v2");
  CHECK(updated.at("version") == 2);
  auto shared = json::parse(payloads.at(2)).as_object();
  CHECK(shared.at("user_id") == vic.id.c_str());
  CHECK(shared.at("readers") == json::array{ann.id.c_str(), vic.id.c_str()});
  auto unshared = json::parse(payloads.at(4)).as_object();
  CHECK(unshared.at("readers") == json::array{ann.id.c_str()});
  auto deleted = json::parse(payloads.at(5)).as_object();
  CHECK(deleted.at("readers") == json::array{});
  CHECK(deleted.at("former_readers") == json::array{ann.id.c_str()});
}

TEST_CASE("CORS headers come from the routes: documents' preconditions and ETag, none of them elsewhere") {
  TestApp app(generous([](app::Config& c) {
                c.set("server.cors_origins", boost::json::array{"https://app.example"});
              }),
              {auth::auth_module(), documents::documents_module()});
  auto c = app.client();
  const Member ann = join(c, "cors@example.com");
  const std::string id = create_doc(c, ann, "CORS");
  auto pre = c.request("OPTIONS", doc_path(id), "",
                       {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "PATCH"}});
  CHECK(pre.status == 204);
  const std::string allowed = pre.header("Access-Control-Allow-Headers");
  CHECK(allowed.find("If-Match") != std::string::npos);
  CHECK(allowed.find("Authorization") != std::string::npos);
  CHECK(allowed.find("Upload-Offset") == std::string::npos);  // no module here declares tus headers
  auto create_pre = c.request("OPTIONS", "/api/v1/documents", "",
                              {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(create_pre.header("Access-Control-Allow-Headers").find("Idempotency-Key") != std::string::npos);
  auto got = call(c, ann, "GET", doc_path(id), "", {{"Origin", "https://app.example"}});
  CHECK(got.header("Access-Control-Expose-Headers").find("ETag") != std::string::npos);
  auto login_pre = c.request("OPTIONS", "/api/v1/auth/login", "",
                             {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(login_pre.header("Access-Control-Allow-Headers").find("If-Match") == std::string::npos);
}
