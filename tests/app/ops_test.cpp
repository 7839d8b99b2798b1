#include "test_app.hpp"

#include <doctest/doctest.h>

using namespace bookspace;
using testing::TestApp;

TEST_CASE("healthz, readyz, docs") {
  TestApp app;
  auto c = app.client();
  auto health = c.get("/healthz");
  CHECK(health.status == 200);
  CHECK(health.json().at("status") == "ok");
  CHECK(health.header("Content-Type") == "application/json");
  CHECK(health.header("Date").ends_with(" GMT"));
  CHECK_FALSE(health.header("X-Request-Id").empty());

  auto ready = c.get("/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.json().at("status") == "ready");
  CHECK(ready.json().at("checks").at("database") == "ok");
  CHECK(ready.json().at("checks").at("migrations") == "ok");

  auto docs = c.get("/docs");
  CHECK(docs.status == 200);
  CHECK(docs.header("Content-Type").starts_with("text/html"));
  CHECK(docs.body.find("/openapi.json") != std::string::npos);
}

TEST_CASE("metrics: per-route counters and latency, pools, process, event lag") {
  TestApp app;
  auto c = app.client();
  c.get("/healthz");
  c.get("/api/v1/probe/notes/missing");
  c.get("/no/such/path");
  c.post_json("/api/v1/probe/notes", {{"text", "hi"}});
  auto m = c.get("/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.header("Content-Type").starts_with("text/plain"));
  auto has = [&](std::string const& s) {
    INFO(s);
    CHECK(m.body.find(s) != std::string::npos);
  };
  has("http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1");
  has("http_requests_total{route=\"/api/v1/probe/notes/{id}\",method=\"GET\",status=\"404\"} 1");
  has("http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1");
  has("http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",status=\"200\",le=\"+Inf\"} 1");
  has("http_in_flight_requests 1");  // this very request
  has("bookspace_pool_threads{pool=\"db\"} 3");
  has("process_resident_memory_bytes ");
  has("process_open_fds ");
  has("process_uptime_seconds ");
  has("bookspace_event_consumer_lag{consumer=\"probe_sink.notes\"}");
}

TEST_CASE("openapi describes the enabled modules' routes and the kernel's") {
  TestApp app([](app::Config& c) { c.set("modules.disabled", boost::json::array{"probe_sink"}); });
  auto c = app.client();
  auto res = c.get("/openapi.json");
  REQUIRE(res.status == 200);
  auto doc = res.json().as_object();
  CHECK(doc.at("openapi") == "3.0.3");
  auto const& paths = doc.at("paths").as_object();
  CHECK(paths.contains("/healthz"));
  CHECK(paths.contains("/readyz"));
  CHECK(paths.contains("/metrics"));
  CHECK(paths.contains("/openapi.json"));
  CHECK(paths.contains("/api/v1/probe/notes/{id}"));
  CHECK_FALSE(paths.contains("/api/v1/probe/seen"));  // disabled module
  auto const& get_note = paths.at("/api/v1/probe/notes/{id}").at("get").as_object();
  CHECK(get_note.at("parameters").as_array()[0].at("name") == "id");
  CHECK(doc.at("components").at("schemas").as_object().contains("Problem"));
  // A disabled module's routes answer 404.
  CHECK(c.get("/api/v1/probe/seen").status == 404);
}
