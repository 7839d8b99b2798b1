// kill -9 in the middle of an upload: after the restart no temporary file is left and no file
// row exists for it; concurrent uploads of one content share one blob.
#include "core/database.hpp"
#include "core/prepared.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <soci/soci.h>

#include <csignal>
#include <filesystem>
#include <thread>

using namespace bookspace;
using testing::HttpClient;
using testing::ServerProcess;
namespace fs = std::filesystem;

namespace {

std::size_t entries(fs::path const& dir) {
  std::size_t n = 0;
  if (fs::exists(dir))
    for ([[maybe_unused]] auto const& e : fs::directory_iterator(dir)) ++n;
  return n;
}

long long count(testing::TestDatabase const& db, std::string const& query) {
  auto sql = core::open_session(core::parse_database_url(db.url()), {});
  long long n = 0;
  *sql << query, soci::into(n);
  return n;
}

}  // namespace

TEST_CASE("kill -9 mid-upload: the restart removes the partial file; nothing refers to it") {
  testing::TestDatabase db;
  const std::vector<std::string> args = {"--database", db.url(),      "--data-dir", db.dir(),
                                         "--listen",   "127.0.0.1:0", "--modules",  "auth,documents,files"};
  const fs::path tmp = fs::path(db.dir()) / "blobs" / "tmp";
  {
    ServerProcess server(testing::bookspace_binary(), args);
    HttpClient c(server.port());
    auto reg = c.post_json("/api/v1/auth/register",
                           {{"email", "k@example.com"}, {"password", "correct horse battery"}});
    REQUIRE(reg.status == 201);
    const std::string token(reg.json().at("access_token").as_string());
    testing::RawConnection raw(server.port());
    raw.send("POST /api/v1/files?name=big.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
             "\r\nContent-Length: 50000000\r\n\r\n" + std::string(2'000'000, 'z'));
    REQUIRE(testing::eventually([&] { return entries(tmp) == 1; }));
    server.signal(SIGKILL);
    REQUIRE(server.wait(std::chrono::seconds(10)).has_value());
  }
  CHECK(entries(tmp) == 1);  // the dead process's partial upload
  ServerProcess restarted(testing::bookspace_binary(), args);
  CHECK(entries(tmp) == 0);
  CHECK(count(db, "SELECT COUNT(*) FROM files_files") == 0);
  CHECK(count(db, "SELECT COUNT(*) FROM files_blobs") == 0);
}

TEST_CASE("concurrent uploads of the same content: one blob, one file each, refcount to match") {
  testing::TestDatabase db;
  const std::vector<std::string> args = {"--database", db.url(),      "--data-dir", db.dir(),
                                         "--listen",   "127.0.0.1:0", "--modules",  "auth,documents,files"};
  ServerProcess server(testing::bookspace_binary(), args);
  HttpClient c(server.port());
  auto reg = c.post_json("/api/v1/auth/register",
                         {{"email", "c@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(reg.status == 201);
  const std::string token(reg.json().at("access_token").as_string());
  const std::string content(3'000'000, 'q');
  std::vector<std::thread> uploaders;
  std::atomic<int> created{0};
  for (int i = 0; i < 6; ++i) {
    uploaders.emplace_back([&] {
      HttpClient own(server.port());
      auto r =
          own.request("POST", "/api/v1/files?name=same.bin", content,
                      {{"Authorization", "Bearer " + token}, {"Content-Type", "application/octet-stream"}});
      if (r.status == 201) ++created;
    });
  }
  for (auto& t : uploaders) t.join();
  CHECK(created == 6);
  CHECK(count(db, "SELECT COUNT(*) FROM files_files") == 6);
  CHECK(count(db, "SELECT COUNT(*) FROM files_blobs") == 1);
  CHECK(count(db, "SELECT refs FROM files_blobs") == 6);
  CHECK(entries(fs::path(db.dir()) / "blobs" / "tmp") == 0);
}

TEST_CASE("a stalled tus PATCH cut by a restart keeps every byte that arrived") {
  testing::TestDatabase db;
  const std::vector<std::string> args = {"--database", db.url(),      "--data-dir", db.dir(),
                                         "--listen",   "127.0.0.1:0", "--modules",  "auth,documents,files"};
  const std::map<std::string, std::string> env = {{"BOOKSPACE_SERVER_DRAIN_TIMEOUT_MS", "500"},
                                                  {"BOOKSPACE_SERVER_DRAIN_DELAY_MS", "0"}};
  const std::size_t sent = 3 * 1024 * 1024 + 100 * 1024;  // not a whole number of read chunks
  std::string token, location;
  {
    ServerProcess server(testing::bookspace_binary(), args, env);
    HttpClient c(server.port());
    auto reg = c.post_json("/api/v1/auth/register",
                           {{"email", "t@example.com"}, {"password", "correct horse battery"}});
    REQUIRE(reg.status == 201);
    token = std::string(reg.json().at("access_token").as_string());
    auto made = c.request("POST", "/api/v1/uploads", "",
                          {{"Authorization", "Bearer " + token},
                           {"Tus-Resumable", "1.0.0"},
                           {"Upload-Length", std::to_string(10 * 1024 * 1024)}});
    REQUIRE(made.status == 201);
    location = made.header("location");
    testing::RawConnection raw(server.port());
    REQUIRE(raw.send("PATCH " + location + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                     "\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                     "Content-Type: application/offset+octet-stream\r\nContent-Length: 10485760\r\n\r\n" +
                     std::string(sent, 'u')));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all of it has arrived; then silence
    server.signal(SIGTERM);
    auto code = server.wait(std::chrono::seconds(15));
    REQUIRE(code.has_value());
    CHECK(*code == 0);
  }
  ServerProcess restarted(testing::bookspace_binary(), args, env);
  HttpClient c(restarted.port());
  auto head =
      c.request("HEAD", location, "", {{"Authorization", "Bearer " + token}, {"Tus-Resumable", "1.0.0"}});
  REQUIRE(head.status == 200);
  CHECK(head.header("upload-offset") == std::to_string(sent));
}
