#include "test_support.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <future>
#include <thread>

using namespace bookspace;
using testing::ServerProcess;

namespace {
std::vector<std::string> seen(std::uint16_t port) {
  std::vector<std::string> out;
  auto doc = testing::HttpClient(port).get("/api/v1/probe/seen").json();
  for (auto const& v : doc.at("items").as_array()) out.emplace_back(v.as_string());
  return out;
}
std::vector<std::string> base_args(testing::TestDatabase const& db) {
  return {"--database", db.url(), "--data-dir", db.dir(), "--listen", "127.0.0.1:0"};
}
}  // namespace

TEST_CASE("kill -9 between commit and delivery: the event is delivered after restart") {
  testing::TestDatabase db;
  std::string id;
  {
    ServerProcess server(testing::testd_binary(), base_args(db));
    testing::HttpClient c(server.port());
    auto before = c.post_json("/api/v1/probe/notes", {{"text", "before"}});
    REQUIRE(before.status == 201);
    // The probe kills its own process with SIGKILL right after COMMIT, before the wake-up.
    CHECK_THROWS(c.post_json("/api/v1/probe/notes?crash=1", {{"text", "committed, then killed"}}));
    auto code = server.wait(std::chrono::seconds(10));
    REQUIRE(code.has_value());
    CHECK(*code == 128 + SIGKILL);
  }
  ServerProcess restarted(testing::testd_binary(), base_args(db));
  // Both notes are there: the committed data survived, and so did its event.
  REQUIRE(testing::eventually([&] { return seen(restarted.port()).size() == 2; }));
  auto ids = seen(restarted.port());
  testing::HttpClient c(restarted.port());
  CHECK(c.get("/api/v1/probe/notes/" + ids[1]).json().at("text") == "committed, then killed");
}

TEST_CASE("two processes on one database: the consumer in the second gets the first's events") {
  testing::TestDatabase db;
  auto args_a = base_args(db);
  args_a.insert(args_a.end(), {"--modules", "probe"});
  auto args_b = base_args(db);
  args_b.insert(args_b.end(), {"--modules", "probe_sink"});
  ServerProcess a(testing::testd_binary(), args_a);
  ServerProcess b(testing::testd_binary(), args_b);
  testing::HttpClient ca(a.port());
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ids.emplace_back(
        ca.post_json("/api/v1/probe/notes", {{"text", "n" + std::to_string(i)}}).json().at("id").as_string());
  }
  CHECK(testing::HttpClient(b.port()).get("/api/v1/probe/notes/" + ids[0]).status == 404);  // not b's module
  REQUIRE(testing::eventually([&] { return seen(b.port()).size() == 10; }));
  CHECK(seen(b.port()) == ids);
}

TEST_CASE("SIGTERM drains the request in flight and exits 0; a second signal exits at once") {
  testing::TestDatabase db;
  {
    ServerProcess server(testing::testd_binary(), base_args(db));
    const auto port = server.port();
    auto slow = std::async(std::launch::async,
                           [port] { return testing::HttpClient(port).get("/api/v1/probe/slow?ms=1000"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.signal(SIGTERM);
    auto res = slow.get();
    CHECK(res.status == 200);
    CHECK(res.header("Connection") == "close");
    auto code = server.wait(std::chrono::seconds(10));
    REQUIRE(code.has_value());
    CHECK(*code == 0);
  }
  {
    ServerProcess server(testing::testd_binary(), base_args(db));
    const auto port = server.port();
    auto slow = std::async(std::launch::async, [port] {
      try {
        return testing::HttpClient(port).get("/api/v1/probe/slow?ms=5000").status;
      } catch (std::exception const&) {
        return -1;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.signal(SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.signal(SIGINT);
    auto code = server.wait(std::chrono::seconds(3));
    REQUIRE(code.has_value());
    CHECK(*code == 130);
    CHECK(slow.get() == -1);
  }
}
