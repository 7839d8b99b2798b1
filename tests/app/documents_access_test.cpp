// The documents module under hostile and concurrent use, on SQLite and PostgreSQL: another
// user's documents by id and by neighbouring ids (BOLA), parallel writers holding one ETag
// (one process and two), and keyset pages while documents come and go.
#include "app/kernel_config.hpp"
#include "documents_helpers.hpp"
#include "test_app.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;

namespace {

/// `id` with its last hex digit changed: an id next to a real one.
std::string neighbour(std::string id, int step) {
  const std::string digits = "0123456789abcdef";
  auto& last = id.back();
  last = digits[(digits.find(last) + static_cast<std::size_t>(step)) % 16];
  return id;
}

}  // namespace

TEST_CASE("BOLA: another user's document, versions, comments and shares answer 404 on every route") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto cat = join(c, "cat@example.com");
  auto mal = join(c, "mal@example.com");
  const std::string id = create_doc(c, ann, "secret", R"(,"content":"the plan","tags":["x"])");
  REQUIRE(patch_doc(c, ann, id, R"({"content":"the plan v2"})", "\"1\"").status == 200);
  REQUIRE(call(c, ann, "PUT", doc_path(id, "/shares/" + cat.id), R"({"role":"editor"})").status == 200);
  auto comment = call(c, ann, "POST", doc_path(id, "/comments"), R"({"body":"note to self"})");
  REQUIRE(comment.status == 201);
  const std::string cid = str(comment, "id");
  const std::string trashed = create_doc(c, ann, "trashed secret");
  REQUIRE(call(c, ann, "DELETE", doc_path(trashed)).status == 204);
  const std::string own = create_doc(c, mal, "mal's own");

  auto attack = [&](std::string const& target, std::string const& comment_id) {
    struct Try {
      std::string method, path, body;
      std::map<std::string, std::string> headers;
    };
    std::vector<Try> tries = {
        {"GET", doc_path(target), "", {}},
        {"GET", doc_path(target), "", {{"If-None-Match", "\"2\""}}},
        {"PATCH", doc_path(target), R"({"title":"owned"})", {{"If-Match", "\"2\""}}},
        {"PATCH", doc_path(target), R"({"title":"owned"})", {}},  // 404, not 428
        {"DELETE", doc_path(target), "", {}},
        {"GET", doc_path(target, "/versions"), "", {}},
        {"GET", doc_path(target, "/versions/1"), "", {}},
        {"POST", doc_path(target, "/versions/1/restore"), "", {{"If-Match", "\"2\""}}},
        {"GET", doc_path(target, "/shares"), "", {}},
        {"PUT", doc_path(target, "/shares/" + mal.id), R"({"role":"editor"})", {}},
        {"DELETE", doc_path(target, "/shares/" + cat.id), "", {}},
        {"GET", doc_path(target, "/comments"), "", {}},
        {"POST", doc_path(target, "/comments"), R"({"body":"hi"})", {}},
        {"DELETE", doc_path(target, "/comments/" + comment_id), "", {}},
        {"POST", "/api/v1/trash/" + target + "/restore", "", {}},
        {"DELETE", "/api/v1/trash/" + target, "", {}},
    };
    for (auto const& t : tries) {
      INFO(t.method << " " << t.path);
      auto r = call(c, mal, t.method, t.path, t.body, t.headers);
      CHECK(r.status == 404);
      CHECK(r.json().at("code") == "not_found");
    }
  };
  attack(id, cid);
  attack(trashed, cid);
  for (int step : {1, 15}) {
    attack(neighbour(id, step), cid);
    attack(neighbour(own, step), cid);
  }
  attack("00000000-0000-7000-8000-000000000000", "x");
  attack("../" + id, cid);

  // The answer for a real but foreign document is the answer for no document at all.
  auto foreign = call(c, mal, "GET", doc_path(id));
  auto missing = call(c, mal, "GET", doc_path(neighbour(id, 1)));
  CHECK(json::parse(foreign.body).at("detail") == json::parse(missing.body).at("detail"));
  // Lists never show it; search by tag neither.
  CHECK(all_ids(c, mal, "/api/v1/documents") == std::vector<std::string>{own});
  CHECK(all_ids(c, mal, "/api/v1/documents?tag=x").empty());
  CHECK(all_ids(c, mal, "/api/v1/trash").empty());

  // Ann's document is exactly as she left it.
  auto after = call(c, ann, "GET", doc_path(id));
  REQUIRE(after.status == 200);
  CHECK(after.json().at("version") == 2);
  CHECK(after.json().at("title") == "secret");
  CHECK(after.json().at("content") == "the plan v2");
  CHECK(all_ids(c, ann, doc_path(id, "/comments")) == std::vector<std::string>{cid});
  auto shares = call(c, ann, "GET", doc_path(id, "/shares"));
  REQUIRE(shares.json().at("items").as_array().size() == 1);
  CHECK(shares.json().at("items").at(0).at("user_id") == cat.id.c_str());
  CHECK(all_ids(c, ann, "/api/v1/trash") == std::vector<std::string>{trashed});
  CHECK(call(c, cat, "GET", doc_path(id)).status == 200);
}

TEST_CASE("concurrent PATCHes with one If-Match: exactly one 200, the rest 412") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const std::string id = create_doc(c, ann, "contended");
  for (int round = 0; round < 3; ++round) {
    const std::string etag = "\"" + std::to_string(round + 1) + "\"";
    std::vector<std::future<int>> writers;
    for (int i = 0; i < 8; ++i) {
      writers.push_back(std::async(std::launch::async, [&, i] {
        HttpClient own(app.port());
        return patch_doc(own, ann, id, R"({"content":"writer )" + std::to_string(i) + "\"}", etag).status;
      }));
    }
    int ok = 0, stale = 0;
    for (auto& w : writers) {
      int s = w.get();
      ok += s == 200;
      stale += s == 412;
    }
    CHECK(ok == 1);
    CHECK(stale == 7);
  }
  auto d = call(c, ann, "GET", doc_path(id));
  CHECK(d.json().at("version") == 4);
  CHECK(all_ids(c, ann, "/api/v1/documents") == std::vector<std::string>{id});
  CHECK(app.query_strings("SELECT COUNT(*) FROM documents_versions WHERE document_id = '" + id + "'").at(0) ==
        "4");
}

TEST_CASE("concurrent PATCHes with one If-Match across two instances on one database") {
  TestDatabase db;
  auto modules = with_documents();
  auto schema = app::full_schema(modules);
  auto config = [&] {
    auto cfg = test_config(schema, db.url(), db.dir());
    generous()(cfg);
    return cfg;
  };
  CapturedLog log_a, log_b;
  app::Application a(config(), modules, log_a.logger());
  a.start();
  app::Application b(config(), modules, log_b.logger());
  b.start();
  HttpClient c(a.port());
  auto ann = join(c, "ann@example.com");
  const std::string id = create_doc(c, ann, "contended");
  std::vector<std::future<int>> writers;
  for (int i = 0; i < 8; ++i) {
    const auto port = i % 2 ? a.port() : b.port();
    writers.push_back(std::async(std::launch::async, [&, port, i] {
      HttpClient own(port);
      return patch_doc(own, ann, id, R"({"content":"writer )" + std::to_string(i) + "\"}", "\"1\"").status;
    }));
  }
  int ok = 0, stale = 0;
  for (auto& w : writers) {
    int s = w.get();
    ok += s == 200;
    stale += s == 412;
  }
  CHECK(ok == 1);
  CHECK(stale == 7);
  HttpClient cb(b.port());
  CHECK(call(cb, ann, "GET", doc_path(id)).json().at("version") == 2);
  b.stop();
  a.stop();
}

TEST_CASE("keyset pages stay exact while other documents are created and deleted") {
  TestApp app(generous(), with_documents());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  std::set<std::string> stable, churn;
  for (int i = 0; i < 60; ++i) stable.insert(create_doc(c, ann, "stable " + std::to_string(100 + i)));
  for (int i = 0; i < 30; ++i) churn.insert(create_doc(c, ann, "churn " + std::to_string(100 + i)));

  for (auto const* query :
       {"?limit=7", "?limit=7&sort=title", "?limit=7&sort=updated_at", "?limit=7&scope=owned"}) {
    INFO(query);
    std::atomic<bool> done{false};
    std::thread writer([&] {
      HttpClient w(app.port());
      std::vector<std::string> to_delete(churn.begin(), churn.end());
      for (std::size_t i = 0; i < 200 && !done; ++i) {
        if (i % 2 == 0) {
          create_doc(w, ann, "new " + std::to_string(i));
        } else if (!to_delete.empty()) {
          REQUIRE(call(w, ann, "DELETE", doc_path(to_delete.back())).status == 204);
          to_delete.pop_back();
        }
      }
    });
    std::vector<std::string> seen;
    std::string next = std::string("/api/v1/documents") + query;
    for (int pages = 0; pages < 200; ++pages) {
      auto r = call(c, ann, "GET", next);
      REQUIRE(r.status == 200);
      const json::value body = r.json();
      for (auto const& item : body.at("items").as_array()) seen.emplace_back(item.at("id").as_string());
      if (body.at("next_cursor").is_null()) break;
      next = std::string("/api/v1/documents") + query +
             "&cursor=" + std::string(body.at("next_cursor").as_string());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done = true;
    writer.join();
    std::set<std::string> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());                       // no duplicates
    for (auto const& id : stable) CHECK(unique.contains(id));  // no skips
    // Restore the churn set for the next order.
    for (auto const& id : churn)
      app.execute_sql("UPDATE documents_documents SET deleted_at = NULL WHERE id = '" + id + "'");
    app.execute_sql("UPDATE documents_members SET trashed = 0");
  }
}
