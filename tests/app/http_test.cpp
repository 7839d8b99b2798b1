#include "test_app.hpp"

#include <doctest/doctest.h>
#include <boost/json/serialize.hpp>

#include <thread>

using namespace bookspace;
using testing::TestApp;

namespace {
int status_of(std::string const& raw) {
  if (raw.size() < 12 || !raw.starts_with("HTTP/1.1 ")) return 0;
  return std::stoi(raw.substr(9, 3));
}
}  // namespace

TEST_CASE("problem+json for routing errors, with request ids") {
  TestApp app;
  auto c = app.client();
  auto nf = c.get("/api/v1/nothing");
  CHECK(nf.status == 404);
  CHECK(nf.header("Content-Type") == "application/problem+json");
  auto body = nf.json().as_object();
  CHECK(body.at("code") == "not_found");
  CHECK(body.at("status") == 404);
  CHECK(body.at("request_id") == nf.header("X-Request-Id").c_str());
  CHECK(body.contains("type"));
  CHECK(body.contains("title"));
  CHECK(body.contains("detail"));

  auto na = c.request("DELETE", "/api/v1/probe/notes/1");
  CHECK(na.status == 405);
  CHECK(na.header("Allow") == "GET, HEAD, OPTIONS");
  CHECK(na.json().at("code") == "method_not_allowed");

  auto given = c.get("/healthz", {{"X-Request-Id", "client-id.42"}});
  CHECK(given.header("X-Request-Id") == "client-id.42");
  auto insane = c.get("/healthz", {{"X-Request-Id", "bad id with spaces"}});
  CHECK(insane.header("X-Request-Id") != "bad id with spaces");
  CHECK_FALSE(insane.header("X-Request-Id").empty());
}

TEST_CASE("unexpected exceptions are 500 with the request id and no internals") {
  TestApp app;
  auto c = app.client();
  auto res = c.get("/api/v1/probe/boom");
  CHECK(res.status == 500);
  CHECK(res.json().at("code") == "internal");
  CHECK(res.body.find("SELECT") == std::string::npos);
  CHECK(app.log().contains("SELECT secret FROM internals"));  // but it is logged
}

TEST_CASE("JSON bodies: 415 without the content type, 400 for malformed, deep or non-object") {
  TestApp app;
  auto c = app.client();
  auto no_type = c.request("POST", "/api/v1/probe/echo", R"({"a":1})", {{"Content-Type", "text/plain"}});
  CHECK(no_type.status == 415);
  CHECK(no_type.json().at("code") == "unsupported_media_type");
  auto ok = c.request("POST", "/api/v1/probe/echo", R"({"a":1})",
                      {{"Content-Type", "application/json; charset=utf-8"}});
  CHECK(ok.status == 200);
  CHECK(ok.json().at("a") == 1);
  auto bad = c.request("POST", "/api/v1/probe/echo", R"({"a":)", {{"Content-Type", "application/json"}});
  CHECK(bad.status == 400);
  CHECK(bad.json().at("code") == "validation_failed");
  std::string deep(200, '[');
  deep += std::string(200, ']');
  auto deep_res =
      c.request("POST", "/api/v1/probe/echo", "{\"a\":" + deep + "}", {{"Content-Type", "application/json"}});
  CHECK(deep_res.status == 400);  // nesting beyond 64 levels
  CHECK(deep_res.json().at("code") == "validation_failed");
  CHECK(c.request("POST", "/api/v1/probe/echo", "[1,2]", {{"Content-Type", "application/json"}}).status ==
        400);
  CHECK(c.post_json("/api/v1/probe/notes", {{"text", 5}}).status == 400);
  // The connection survived all of that.
  CHECK(c.get("/healthz").status == 200);
}

TEST_CASE("body limits: 413 from Content-Length before the body is read, and for chunked bodies") {
  TestApp app;
  // Only the headers are sent: the server must answer without waiting for 10 MB.
  std::string raw = testing::raw_exchange(app.port(),
                                          "POST /api/v1/probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                          "application/json\r\nContent-Length: 10000000\r\n\r\n");
  CHECK(status_of(raw) == 413);
  CHECK(raw.find("payload_too_large") != std::string::npos);

  std::string chunk(2000, 'a');
  char size_line[16];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  std::string chunked =
      "POST /api/v1/probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      std::string(size_line) + chunk + "\r\n0\r\n\r\n";
  CHECK(status_of(testing::raw_exchange(app.port(), chunked)) == 413);

  // The default limit applies to routes without their own: 1 MiB of content + envelope passes.
  auto c = app.client();
  std::string text(1024 * 1024, 'x');
  CHECK(c.post_json("/api/v1/probe/notes", {{"text", text}}).status == 201);
  std::string too_much(2 * 1024 * 1024, 'x');
  CHECK(c.post_json("/api/v1/probe/notes", {{"text", too_much}}).status == 413);
}

TEST_CASE("oversized headers get 431; smuggling attempts get 400; the server lives on") {
  TestApp app;
  std::string big = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  std::string raw = testing::raw_exchange(app.port(), big);
  CHECK(status_of(raw) == 431);
  CHECK(raw.find("\"code\":\"headers_too_large\"") != std::string::npos);

  std::string cl_te =
      "POST /api/v1/probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n";
  raw = testing::raw_exchange(app.port(), cl_te);
  CHECK(status_of(raw) == 400);
  CHECK(raw.find("HTTP/1.1 200") == std::string::npos);  // the smuggled request was not served

  std::string double_cl =
      "POST /api/v1/probe/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}";
  CHECK(status_of(testing::raw_exchange(app.port(), double_cl)) == 400);

  CHECK(status_of(testing::raw_exchange(app.port(), "GARBAGE\r\n\r\n")) == 400);
  CHECK(status_of(testing::raw_exchange(app.port(), "GET / HTTP/9.9\r\n\r\n")) == 400);
  CHECK(status_of(testing::raw_exchange(app.port(), "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n")) == 400);
  CHECK(app.client().get("/healthz").status == 200);
}

TEST_CASE("keep-alive, pipelining and HEAD") {
  TestApp app;
  std::string two =
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/probe/notes/none HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n";
  std::string raw = testing::raw_exchange(app.port(), two);
  auto first = raw.find("HTTP/1.1 200");
  auto second = raw.find("HTTP/1.1 404");
  CHECK(first != std::string::npos);
  CHECK(second != std::string::npos);
  CHECK(first < second);

  auto c = app.client();
  auto head = c.request("HEAD", "/healthz");
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == "15");
  CHECK(head.body.empty());
  for (int i = 0; i < 20; ++i) CHECK(c.get("/healthz").status == 200);
}

TEST_CASE("idle connections are closed after the idle timeout; slow headers after the header timeout") {
  TestApp app([](app::Config& c) {
    c.set("server.idle_timeout_ms", 300);
    c.set("server.header_timeout_ms", 300);
  });
  auto start = std::chrono::steady_clock::now();
  // Half a request line, then silence: the server must hang up, not wait forever.
  std::string raw = testing::raw_exchange(app.port(), "GET /heal", std::chrono::milliseconds(5000));
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(raw.empty());
  CHECK(waited < std::chrono::milliseconds(4000));

  // A whole request, then nothing: answered, then closed after the idle timeout.
  start = std::chrono::steady_clock::now();
  raw = testing::raw_exchange(app.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                              std::chrono::milliseconds(5000));
  waited = std::chrono::steady_clock::now() - start;
  CHECK(raw.starts_with("HTTP/1.1 200"));
  CHECK(waited < std::chrono::milliseconds(4000));
}

TEST_CASE("the header timeout is shorter than the idle timeout: a trickling client loses its slot") {
  TestApp app([](app::Config& c) {
    c.set("server.idle_timeout_ms", 60000);
    c.set("server.header_timeout_ms", 400);
  });
  auto start = std::chrono::steady_clock::now();
  std::string raw = testing::raw_exchange(app.port(), "GET /healthz HTTP/1.1\r\nX-Slow: a",
                                          std::chrono::milliseconds(8000));
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(raw.empty());
  CHECK(waited < std::chrono::milliseconds(5000));  // far below the 60 s idle timeout
}

TEST_CASE("traceparent is carried into the access log; malformed ones are ignored") {
  TestApp app;
  auto c = app.client();
  c.get("/healthz", {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  c.get("/healthz", {{"traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}});
  CHECK(testing::eventually(
      [&] { return app.log().contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""); }));
  CHECK_FALSE(app.log().contains("\"trace_id\":\"00000000000000000000000000000000\""));
}

TEST_CASE("CORS: allowed origins get headers and preflights; others get none") {
  TestApp app(
      [](app::Config& c) { c.set("server.cors_origins", boost::json::array{"https://app.example"}); });
  auto c = app.client();
  auto pre = c.request("OPTIONS", "/api/v1/probe/notes", "",
                       {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(pre.status == 204);
  CHECK(pre.header("Access-Control-Allow-Origin") == "https://app.example");
  CHECK(pre.header("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  auto simple = c.get("/healthz", {{"Origin", "https://app.example"}});
  CHECK(simple.header("Access-Control-Allow-Origin") == "https://app.example");
  auto other = c.get("/healthz", {{"Origin", "https://evil.example"}});
  CHECK(other.header("Access-Control-Allow-Origin").empty());
}

TEST_CASE("routes that need a principal answer 401 with WWW-Authenticate") {
  TestApp app;
  auto c = app.client();
  auto none = c.get("/api/v1/probe/private");
  CHECK(none.status == 401);
  CHECK(none.header("WWW-Authenticate") == "Bearer");
  CHECK(none.json().at("code") == "unauthorized");
  CHECK(c.get("/api/v1/probe/private", {{"Authorization", "Bearer whatever"}}).status == 401);
  CHECK(c.get("/api/v1/probe/private?access_token=x").status == 401);
}

TEST_CASE("rate limited routes answer 429 with Retry-After and RateLimit headers") {
  TestApp app;
  auto c = app.client();
  for (int i = 0; i < 3; ++i) CHECK(c.get("/api/v1/probe/limited").status == 200);
  auto limited = c.get("/api/v1/probe/limited");
  CHECK(limited.status == 429);
  CHECK(limited.json().at("code") == "rate_limited");
  CHECK(limited.header("Retry-After") == "1");
  CHECK(limited.header("RateLimit-Limit") == "3");
  CHECK(limited.header("RateLimit-Remaining") == "0");
}

TEST_CASE("a full CPU pool sheds with 503 overloaded and Retry-After") {
  TestApp app([](app::Config& c) {
    c.set("workers.cpu_threads", 1);
    c.set("workers.cpu_queue", 1);
  });
  std::atomic<int> ok{0}, shed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto c = testing::HttpClient(app.port());
      auto res = c.request("POST", "/api/v1/probe/cpu?ms=400");
      if (res.status == 200) ++ok;
      if (res.status == 503 && res.header("Retry-After") == "1" &&
          res.body.find("overloaded") != std::string::npos)
        ++shed;
    });
  }
  for (auto& t : threads) t.join();
  // One worker and one queue slot: at most two are accepted at once (fewer when requests arrive
  // before the worker took the first off the queue); the rest are shed, none wait unbounded.
  CHECK(ok >= 1);
  CHECK(ok <= 2);
  CHECK(shed >= 4);
  CHECK(ok + shed == 6);
}

TEST_CASE("a query string that cannot be decoded is a 400, not silently ignored") {
  TestApp app;
  auto c = app.client();
  for (std::string bad :
       {"/healthz?limit=%zz", "/healthz?a=%", "/healthz?a=%4", "/api/v1/probe/notes/x?%G0=1"}) {
    auto r = c.get(bad);
    CHECK_MESSAGE(r.status == 400, bad);
    CHECK(r.json().at("errors").at(0).at("field") == "query");
  }
  CHECK(c.get("/healthz?a=%41&b=c+d&e").status == 200);
}

TEST_CASE("X-Forwarded-For names the client only when it comes from a trusted proxy") {
  SUBCASE("untrusted: the header is ignored") {
    TestApp app;
    app.client().get("/healthz", {{"X-Forwarded-For", "198.51.100.7"}});
    CHECK_FALSE(app.log().contains("198.51.100.7"));
    CHECK(app.log().contains("\"client_ip\":\"127.0.0.1\""));
  }
  SUBCASE("trusted: the right-most untrusted entry") {
    TestApp app([](app::Config& c) { c.set("server.trusted_proxies", boost::json::array{"127.0.0.0/8"}); });
    app.client().get("/healthz", {{"X-Forwarded-For", "6.6.6.6, 198.51.100.7"}});
    CHECK(app.log().contains("\"client_ip\":\"198.51.100.7\""));
  }
}
