#include "app/kernel_config.hpp"
#include "test_app.hpp"

#include <doctest/doctest.h>

#include <future>
#include <set>
#include <thread>

using namespace bookspace;
using testing::HttpClient;
using testing::HttpResponse;
using testing::TestApp;

namespace {

HttpResponse post_note(HttpClient& c, std::string const& text, std::string const& key,
                       std::string const& query = "") {
  std::map<std::string, std::string> headers;
  if (!key.empty()) headers["Idempotency-Key"] = key;
  return c.post_json("/api/v1/probe/notes" + query, {{"text", text}}, headers);
}

std::string id_of(HttpResponse const& r) {
  return std::string(r.json().at("id").as_string());
}

}  // namespace

TEST_CASE("Idempotency-Key: the same request is replayed, another body is 422, no key creates anew") {
  TestApp app;
  auto c = app.client();
  auto first = post_note(c, "once", "key-1");
  REQUIRE(first.status == 201);
  CHECK(first.header("Idempotent-Replayed").empty());
  auto again = post_note(c, "once", "key-1");
  CHECK(again.status == 201);
  CHECK(again.header("Idempotent-Replayed") == "true");
  CHECK(id_of(again) == id_of(first));
  CHECK(again.body == first.body);
  CHECK(again.header("Location") == first.header("Location"));
  CHECK(again.header("Content-Type") == "application/json");
  CHECK(again.header("X-Request-Id") != first.header("X-Request-Id"));  // a new request all the same

  auto other = post_note(c, "twice", "key-1");
  CHECK(other.status == 422);
  CHECK(other.json().at("code") == "idempotency_conflict");
  CHECK(other.header("Content-Type") == "application/problem+json");

  CHECK(id_of(post_note(c, "once", "key-2")) != id_of(first));  // another key, another note
  CHECK(id_of(post_note(c, "free", "")) != id_of(post_note(c, "free", "")));

  // A 4xx answer of the handler is an answer too: replayed.
  auto bad = c.post_json("/api/v1/probe/notes", {{"txt", "typo"}}, {{"Idempotency-Key", "key-3"}});
  CHECK(bad.status == 400);
  auto bad_again = c.post_json("/api/v1/probe/notes", {{"txt", "typo"}}, {{"Idempotency-Key", "key-3"}});
  CHECK(bad_again.status == 400);
  CHECK(bad_again.header("Idempotent-Replayed") == "true");

  CHECK(post_note(c, "x", std::string(256, 'k')).status == 400);
  CHECK(post_note(c, "x", std::string(255, 'k')).status == 201);
  CHECK(post_note(c, "x", "bad key").status == 400);  // a space
}

TEST_CASE("Idempotency-Key: while the first request runs, the same key answers 409; then replays") {
  TestApp app;
  const auto port = app.port();
  auto slow = std::async(std::launch::async, [port] {
    HttpClient c(port);
    return post_note(c, "slow", "key-slow", "?ms=1500");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // it has most likely claimed the key
  HttpClient c(port);
  auto second = post_note(c, "slow", "key-slow", "?ms=1500");
  auto first = slow.get();
  // Whichever claimed the key first ran (201); the other, arriving while it ran, got 409.
  if (first.status == 409) std::swap(first, second);
  REQUIRE(first.status == 201);
  CHECK(second.status == 409);
  CHECK(second.json().at("code") == "conflict");
  auto replay = post_note(c, "slow", "key-slow", "?ms=1500");
  CHECK(replay.status == 201);
  CHECK(replay.header("Idempotent-Replayed") == "true");
  CHECK(id_of(replay) == id_of(first));
}

TEST_CASE("Idempotency-Key: concurrent requests with one key create exactly one note, across two instances") {
  testing::TestDatabase db;
  std::vector<app::ModuleDescriptor> modules = {testing::probe_module(), testing::probe_sink_module()};
  auto schema = app::full_schema(modules);
  testing::CapturedLog log_a, log_b;
  app::Application a(testing::test_config(schema, db.url(), db.dir()), modules, log_a.logger());
  a.start();
  app::Application b(testing::test_config(schema, db.url(), db.dir()), modules, log_b.logger());
  b.start();
  std::vector<std::future<HttpResponse>> attempts;
  for (int i = 0; i < 8; ++i) {
    const auto port = i % 2 ? a.port() : b.port();
    attempts.push_back(std::async(std::launch::async, [port] {
      HttpClient c(port);
      return post_note(c, "race", "key-race", "?ms=300");
    }));
  }
  int fresh = 0, replayed = 0, busy = 0;
  std::set<std::string> ids;
  for (auto& f : attempts) {
    auto r = f.get();
    if (r.status == 201 && r.header("Idempotent-Replayed").empty()) ++fresh;
    if (r.status == 201 && r.header("Idempotent-Replayed") == "true") ++replayed;
    if (r.status == 201) ids.insert(id_of(r));
    if (r.status == 409) ++busy;
  }
  CHECK(fresh == 1);
  CHECK(fresh + replayed + busy == 8);
  CHECK(ids.size() == 1);
  b.stop();
  a.stop();
}

TEST_CASE("Idempotency-Key: after 24 hours a key starts afresh") {
  TestApp app;
  auto c = app.client();
  auto first = post_note(c, "old", "key-old");
  REQUIRE(first.status == 201);
  app.execute_sql("UPDATE idempotency_keys SET created_at = created_at - 86400001");
  auto later = post_note(c, "old", "key-old");
  CHECK(later.status == 201);
  CHECK(later.header("Idempotent-Replayed").empty());
  CHECK(id_of(later) != id_of(first));
}
