// kill -9 while documents are being written: every acknowledged version is there after the
// restart, no version is half-written, and the document and its versions agree.
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <atomic>
#include <csignal>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

using namespace bookspace;
using testing::HttpClient;
using testing::ServerProcess;
namespace json = boost::json;

namespace {

/// Runs `count` writer threads, each `write(w, its own client, stop)`, until `enough()` holds;
/// then kills the server with SIGKILL mid-write and joins them.
void kill_while_writing(ServerProcess& server, int count,
                        std::function<void(int, HttpClient&, std::atomic<bool> const&)> const& write,
                        std::function<bool()> const& enough) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < count; ++w) {
    writers.emplace_back([&, w] {
      try {
        HttpClient own(server.port());
        write(w, own, stop);
      } catch (std::exception const&) {
        // the server died under us: expected
      }
    });
  }
  REQUIRE(testing::eventually(enough));
  server.signal(SIGKILL);
  auto code = server.wait(std::chrono::seconds(10));
  stop = true;
  for (auto& t : writers) t.join();
  REQUIRE(code.has_value());
  CHECK(*code == 128 + SIGKILL);
}

}  // namespace

TEST_CASE("kill -9 during PATCHes: acknowledged versions survive, none is torn") {
  testing::TestDatabase db;
  const std::vector<std::string> args = {"--database", db.url(),      "--data-dir", db.dir(),
                                         "--listen",   "127.0.0.1:0", "--modules",  "auth,documents"};
  std::string token, id;
  std::map<long long, std::string> acknowledged;  // version → content the server confirmed
  {
    ServerProcess server(testing::bookspace_binary(), args);
    HttpClient c(server.port());
    auto reg = c.post_json("/api/v1/auth/register",
                           {{"email", "k@example.com"}, {"password", "correct horse battery"}});
    REQUIRE(reg.status == 201);
    token = std::string(reg.json().at("access_token").as_string());
    const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token},
                                                     {"Content-Type", "application/json"}};
    auto created = c.request("POST", "/api/v1/documents", R"({"title":"durable","content":"v1"})", auth);
    REQUIRE(created.status == 201);
    id = std::string(created.json().at("id").as_string());
    acknowledged[1] = "v1";

    std::mutex mutex;
    auto write = [&](int w, HttpClient& own, std::atomic<bool> const& stop) {
      for (int i = 0; i < 100000 && !stop; ++i) {
        auto current = own.request("GET", "/api/v1/documents/" + id, "", auth);
        if (current.status != 200) return;
        const std::string etag = current.header("etag");
        // Big enough that a torn write would show: 64 KiB of one repeated marker.
        const std::string marker = "w" + std::to_string(w) + "-" + std::to_string(i) + ";";
        std::string content;
        while (content.size() < 64 * 1024) content += marker;
        auto headers = auth;
        headers["If-Match"] = etag;
        auto r = own.request("PATCH", "/api/v1/documents/" + id,
                             json::serialize(json::object{{"content", content}}), headers);
        if (r.status == 200) {
          std::lock_guard lock(mutex);
          acknowledged[r.json().at("version").as_int64()] = content;
        }
      }
    };
    kill_while_writing(server, 3, write, [&] {
      std::lock_guard lock(mutex);
      return acknowledged.size() >= 10;
    });
  }

  ServerProcess restarted(testing::bookspace_binary(), args);
  HttpClient c(restarted.port());
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token}};
  auto doc = c.request("GET", "/api/v1/documents/" + id, "", auth);
  REQUIRE(doc.status == 200);
  const long long version = doc.json().at("version").as_int64();
  CHECK(version >= acknowledged.rbegin()->first);
  // Versions 1…version, each whole; the newest equals the document.
  for (long long v = 1; v <= version; ++v) {
    auto r = c.request("GET", "/api/v1/documents/" + id + "/versions/" + std::to_string(v), "", auth);
    REQUIRE(r.status == 200);
    const std::string content(r.json().at("content").as_string());
    if (auto it = acknowledged.find(v); it != acknowledged.end()) CHECK(content == it->second);
    if (v > 1) {
      auto marker = content.substr(0, content.find(';') + 1);
      std::string expected;
      while (expected.size() < 64 * 1024) expected += marker;
      CHECK(content == expected);
    }
    if (v == version) CHECK(content == std::string(doc.json().at("content").as_string()));
  }
  CHECK(c.request("GET", "/api/v1/documents/" + id + "/versions/" + std::to_string(version + 1), "", auth)
            .status == 404);
}

TEST_CASE("kill -9 during group commits from 32 writers: every acknowledged document is there, whole") {
  testing::TestDatabase db;
  const std::vector<std::string> args = {"--database", db.url(),      "--data-dir", db.dir(),
                                         "--listen",   "127.0.0.1:0", "--modules",  "auth,documents"};
  std::string token;
  std::map<std::string, std::string> acknowledged;  // id → content the server confirmed with 201
  {
    ServerProcess server(testing::bookspace_binary(), args);
    HttpClient c(server.port());
    auto reg = c.post_json("/api/v1/auth/register",
                           {{"email", "g@example.com"}, {"password", "correct horse battery"}});
    REQUIRE(reg.status == 201);
    token = std::string(reg.json().at("access_token").as_string());
    const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token},
                                                     {"Content-Type", "application/json"}};
    std::mutex mutex;
    auto write = [&](int w, HttpClient& own, std::atomic<bool> const& stop) {
      for (int i = 0; i < 100000 && !stop; ++i) {
        const std::string marker = "g" + std::to_string(w) + "-" + std::to_string(i) + ";";
        std::string content;
        while (content.size() < 4096) content += marker;
        auto r = own.request("POST", "/api/v1/documents",
                             json::serialize(json::object{{"title", marker}, {"content", content}}), auth);
        if (r.status == 201) {
          std::lock_guard lock(mutex);
          acknowledged[std::string(r.json().at("id").as_string())] = content;
        }
      }
    };
    kill_while_writing(server, 32, write, [&] {
      std::lock_guard lock(mutex);
      return acknowledged.size() >= 300;
    });
  }

  ServerProcess restarted(testing::bookspace_binary(), args);
  HttpClient c(restarted.port());
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token}};
  std::size_t missing = 0, torn = 0;
  for (auto const& [id, content] : acknowledged) {
    auto r = c.request("GET", "/api/v1/documents/" + id, "", auth);
    if (r.status != 200) {
      ++missing;
      continue;
    }
    if (std::string(r.json().at("content").as_string()) != content) ++torn;
  }
  CHECK(acknowledged.size() >= 300);
  CHECK(missing == 0);
  CHECK(torn == 0);
}
