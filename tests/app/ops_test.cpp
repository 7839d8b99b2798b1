#include "test_app.hpp"

#include <doctest/doctest.h>

#include <set>

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
  has("\nbookspace_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1");
  has("\nbookspace_http_requests_total{route=\"/api/v1/probe/notes/{id}\",method=\"GET\",status=\"404\"} 1");
  has("\nbookspace_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1");
  has("\nbookspace_http_request_duration_seconds_bucket{route=\"/"
      "healthz\",method=\"GET\",status=\"200\",le=\"+"
      "Inf\"} 1");
  has("\nbookspace_http_in_flight_requests 1");  // this very request
  has("\nbookspace_pool_threads{pool=\"db\"} 3");
  has("\nbookspace_build_info{version=\"" BOOKSPACE_VERSION "\"} 1");
  for (auto const* standard : {"process_resident_memory_bytes ", "process_open_fds ", "process_max_fds ",
                               "process_start_time_seconds ", "process_cpu_seconds_total "})
    has(std::string("\n") + standard);
  has("\nbookspace_event_consumer_lag{consumer=\"probe_sink.notes\"}");
  // One namespace: every family is bookspace_* or a standard process_* one, each declared once.
  std::set<std::string> families;
  for (std::size_t at = m.body.find("# TYPE "); at != std::string::npos;
       at = m.body.find("# TYPE ", at + 1)) {
    const auto start = at + 7;
    const std::string family = m.body.substr(start, m.body.find(' ', start) - start);
    CAPTURE(family);
    CHECK((family.starts_with("bookspace_") || family.starts_with("process_")));
    CHECK(families.insert(family).second);
  }
}

TEST_CASE("metrics: server.metrics_token keeps /metrics to the scraper that presents it") {
  TestApp app([](app::Config& c) { c.set("server.metrics_token", "scrape-me-please-0123456789"); });
  auto c = app.client();
  auto anonymous = c.get("/metrics");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.header("WWW-Authenticate") == "Bearer");
  CHECK(c.request("GET", "/metrics", "", {{"Authorization", "Bearer wrong"}}).status == 401);
  auto scraped = c.request("GET", "/metrics", "", {{"Authorization", "Bearer scrape-me-please-0123456789"}});
  CHECK(scraped.status == 200);
  CHECK(scraped.body.find("bookspace_build_info") != std::string::npos);
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
