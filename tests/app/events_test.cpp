#include "app/kernel_config.hpp"
#include "test_app.hpp"

#include <doctest/doctest.h>

using namespace bookspace;
using testing::TestApp;

namespace {
std::vector<std::string> seen(testing::HttpClient& c) {
  std::vector<std::string> out;
  auto doc = c.get("/api/v1/probe/seen").json();
  for (auto const& v : doc.at("items").as_array()) out.emplace_back(v.as_string());
  return out;
}
bool contains(std::vector<std::string> const& v, std::string const& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST_CASE("an event is delivered right after its commit, without waiting for a poll") {
  // Polling once a minute: only the commit wake-up can deliver within the test's second.
  TestApp app([](app::Config& c) { c.set("events.poll_interval_ms", 60000); });
  auto c = app.client();
  auto created = c.post_json("/api/v1/probe/notes", {{"text", "hello"}});
  REQUIRE(created.status == 201);
  std::string id(created.json().at("id").as_string());
  CHECK(created.header("Location") == "/api/v1/probe/notes/" + id);
  CHECK(testing::eventually([&] { return contains(seen(c), id); }, std::chrono::milliseconds(1000)));
  CHECK(c.get("/api/v1/probe/notes/" + id).json().at("text") == "hello");
}

TEST_CASE("a rolled-back transaction leaves neither data nor event") {
  TestApp app;
  auto c = app.client();
  auto failed = c.post_json("/api/v1/probe/notes?fail=1", {{"text", "ghost"}});
  CHECK(failed.status == 409);
  auto ok = c.post_json("/api/v1/probe/notes", {{"text", "real"}});
  std::string id(ok.json().at("id").as_string());
  REQUIRE(testing::eventually([&] { return contains(seen(c), id); }));
  CHECK(seen(c).size() == 1);
  auto m = c.get("/metrics").body;
  CHECK(m.find("bookspace_event_consumer_lag{consumer=\"probe_sink.notes\"} 0") != std::string::npos);
}

TEST_CASE("a failing consumer retries, shows in metrics, and catches up") {
  TestApp app;
  auto c = app.client();
  auto flaky = c.post_json("/api/v1/probe/notes", {{"text", "flaky note"}});
  auto after = c.post_json("/api/v1/probe/notes", {{"text", "after"}});
  std::string flaky_id(flaky.json().at("id").as_string()), after_id(after.json().at("id").as_string());
  REQUIRE(testing::eventually([&] { return contains(seen(c), after_id); }));
  auto order = seen(c);
  CHECK(order == std::vector<std::string>{flaky_id, after_id});
  CHECK(c.get("/metrics").body.find("bookspace_event_consumer_failures_total 2") != std::string::npos);
  CHECK(app.log().contains("event consumer failed; will retry"));
}

TEST_CASE("a disabled consumer keeps its offset and catches up when enabled again") {
  testing::TestDatabase db;
  auto modules = std::vector{testing::probe_module(), testing::probe_sink_module()};
  auto schema = app::full_schema(modules);
  std::string id;
  {
    testing::CapturedLog log;
    auto cfg = testing::test_config(schema, db.url(), db.dir());
    cfg.set("modules.disabled", boost::json::array{"probe_sink"});
    app::Application a(cfg, modules, log.logger());
    a.start();
    auto c = testing::HttpClient(a.port());
    id =
        std::string(c.post_json("/api/v1/probe/notes", {{"text", "while away"}}).json().at("id").as_string());
    a.stop();
  }
  testing::CapturedLog log;
  app::Application b(testing::test_config(schema, db.url(), db.dir()), modules, log.logger());
  b.start();
  auto c = testing::HttpClient(b.port());
  CHECK(testing::eventually([&] { return contains(seen(c), id); }));
  b.stop();
}
