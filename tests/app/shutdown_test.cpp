#include "test_app.hpp"

#include <doctest/doctest.h>

#include <future>
#include <thread>

using namespace bookspace;
using testing::TestApp;

TEST_CASE("stop drains: the request in flight finishes with Connection: close; new ones are refused") {
  TestApp app;
  const auto port = app.port();
  auto idle = app.client();
  CHECK(idle.get("/healthz").status == 200);  // an idle keep-alive connection
  auto slow = std::async(std::launch::async, [port] {
    testing::HttpClient c(port);
    return c.get("/api/v1/probe/slow?ms=800");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto stopped_at = std::chrono::steady_clock::now();
  app.stop();
  auto took = std::chrono::steady_clock::now() - stopped_at;
  auto res = slow.get();
  CHECK(res.status == 200);
  CHECK(res.header("Connection") == "close");
  CHECK(took >= std::chrono::milliseconds(400));  // it waited for the slow request
  CHECK(took < std::chrono::milliseconds(4000));
  CHECK_THROWS(testing::HttpClient(port).get("/healthz"));
}

TEST_CASE("stop does not wait past the drain deadline") {
  TestApp app([](app::Config& c) { c.set("server.drain_timeout_ms", 300); });
  const auto port = app.port();
  auto slow = std::async(std::launch::async, [port] {
    try {
      testing::HttpClient c(port);
      return c.get("/api/v1/probe/slow?ms=5000").status;
    } catch (std::exception const&) {
      return -1;  // the connection was closed under it
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto stopped_at = std::chrono::steady_clock::now();
  app.stop();
  CHECK(std::chrono::steady_clock::now() - stopped_at < std::chrono::milliseconds(2500));
  CHECK(slow.get() != 200);
}

TEST_CASE("readiness turns 503 first, while requests are still served, during the drain delay") {
  TestApp app([](app::Config& c) { c.set("server.drain_delay_ms", 1500); });
  const auto port = app.port();
  CHECK(testing::HttpClient(port).get("/readyz").status == 200);
  std::thread stopper([&] { app.stop(); });
  bool saw_not_ready = testing::eventually(
      [&] {
        try {
          return testing::HttpClient(port).get("/readyz").status == 503;
        } catch (std::exception const&) {
          return false;
        }
      },
      std::chrono::milliseconds(1200));
  CHECK(saw_not_ready);
  int health = 0;
  try {
    health = testing::HttpClient(port).get("/healthz").status;
  } catch (std::exception const&) {
  }
  stopper.join();
  CHECK(health == 200);  // still serving while the load balancer takes notice
}

TEST_CASE("the application starts and stops many times in one process") {
  for (int i = 0; i < 5; ++i) {
    TestApp app;
    CHECK(app.client().get("/healthz").status == 200);
  }
}
