// Realtime across processes on one database: an edit on one instance reaches a socket on the
// other, a logout on one closes the other's socket, and SIGTERM closes sockets with 1001.
#include "test_support.hpp"
#include "ws_client.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <csignal>

using namespace bookspace;
using testing::HttpClient;
using testing::ServerProcess;
using testing::WsClient;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> args_for(testing::TestDatabase const& db) {
  return {"--database", db.url(), "--data-dir", db.dir(), "--listen", "127.0.0.1:0"};
}

std::string text(json::value const& v, std::string_view key) {
  return std::string(v.at(key).as_string());
}

}  // namespace

TEST_CASE("realtime across instances: events and revocations travel through the event log") {
  testing::TestDatabase db;
  const std::map<std::string, std::string> env = {{"BOOKSPACE_EVENTS_POLL_INTERVAL_MS", "100"}};
  ServerProcess one(testing::bookspace_binary(), args_for(db), env);
  ServerProcess two(testing::bookspace_binary(), args_for(db), env);
  HttpClient c1(one.port());
  auto reg = c1.post_json("/api/v1/auth/register",
                          {{"email", "ann@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(reg.status == 201);
  const json::value account = reg.json();
  const std::string token = text(account, "access_token");
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + token}};
  auto created = c1.post_json("/api/v1/documents", {{"title", "Across"}}, auth);
  REQUIRE(created.status == 201);
  const std::string id = text(created.json(), "id");

  WsClient ws(two.port());
  auto ok = ws.auth(token);
  REQUIRE(ok);
  REQUIRE(ok->at("type") == "authenticated");
  auto sub = ws.subscribe("document:" + id);
  REQUIRE(sub);
  REQUIRE(sub->at("type") == "subscribed");

  auto etag = c1.get("/api/v1/documents/" + id, auth).header("etag");
  auto patched = c1.request(
      "PATCH", "/api/v1/documents/" + id, R"({"title":"Seen on two"})",
      {{"Authorization", "Bearer " + token}, {"If-Match", etag}, {"Content-Type", "application/json"}});
  REQUIRE(patched.status == 200);
  std::optional<json::value> event;
  for (int i = 0; i < 10 && !event; ++i) {
    auto m = ws.next_of("event", 5s);
    if (m && m->at("event") == "documents.updated") event = m;
  }
  REQUIRE(event);
  CHECK(event->at("data").at("title") == "Seen on two");

  // Logout on instance one closes the socket on instance two.
  REQUIRE(c1.request("POST", "/api/v1/auth/logout", "", auth).status == 204);
  CHECK(ws.wait_closed(10s) == 4401);
}

TEST_CASE("realtime: SIGTERM closes open sockets with 1001") {
  testing::TestDatabase db;
  ServerProcess server(testing::bookspace_binary(), args_for(db));
  HttpClient c(server.port());
  auto reg = c.post_json("/api/v1/auth/register",
                         {{"email", "ann@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(reg.status == 201);
  WsClient ws(server.port());
  REQUIRE(ws.auth(text(reg.json(), "access_token")));
  server.signal(SIGTERM);
  CHECK(ws.wait_closed(10s) == 1001);
  REQUIRE(server.wait(15s).has_value());
}
