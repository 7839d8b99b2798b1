// The realtime module through the real Application, HTTP and WebSocket, on SQLite and
// PostgreSQL: authentication and its expiry, permissions, events, revocation, slow consumers.
#include "documents_helpers.hpp"
#include "probe_jobs.hpp"
#include "test_app.hpp"
#include "ws_client.hpp"

#include <bookspace/jobs/jobs.hpp>
#include <bookspace/realtime/realtime.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <thread>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::vector<app::ModuleDescriptor> realtime_modules() {
  return {auth::auth_module(), documents::documents_module(), jobs::jobs_module(), probe_jobs_module(),
          realtime::realtime_module()};
}

std::string type_of(std::optional<json::value> const& m) {
  if (!m) return "(nothing)";
  return std::string(m->at("type").as_string());
}

std::string code_of(std::optional<json::value> const& m) {
  if (!m || !m->as_object().contains("code")) return "(none)";
  return std::string(m->at("code").as_string());
}

/// A socket authenticated as `who`.
std::unique_ptr<WsClient> connect(TestApp& app, Member const& who, int receive_buffer = 0) {
  auto ws = std::make_unique<WsClient>(app.port(), "/api/v1/realtime", receive_buffer);
  auto ok = ws->auth(who.token);
  REQUIRE(type_of(ok) == "authenticated");
  CHECK(ok->at("user_id") == who.id.c_str());
  return ws;
}

std::string etag(HttpClient& c, Member const& who, std::string const& id) {
  auto r = call(c, who, "GET", doc_path(id));
  REQUIRE(r.status == 200);
  return r.header("etag");
}

void edit(HttpClient& c, Member const& who, std::string const& id, std::string const& title) {
  auto r = patch_doc(c, who, id, R"({"title":")" + title + R"("})", etag(c, who, id));
  REQUIRE(r.status == 200);
}

/// The next event named `name` (earlier ones, committed before the subscription, are skipped).
std::optional<json::value> next_event(WsClient& ws, std::string const& name,
                                      std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto m = ws.next_of("event", std::chrono::duration_cast<std::chrono::milliseconds>(
                                     deadline - std::chrono::steady_clock::now()));
    if (!m) return std::nullopt;
    if (m->at("event") == name.c_str()) return m;
  }
  return std::nullopt;
}

std::uint64_t metric(HttpClient& c, std::string const& series) {
  const auto body = c.get("/metrics").body;
  const auto at = body.find("\nbookspace_" + series + " ");
  if (at == std::string::npos) return 0;
  return std::stoull(body.substr(at + series.size() + 12));
}

}  // namespace

TEST_CASE("realtime: auth comes first and in time; a bad token closes with 4401") {
  TestApp app(generous([](app::Config& c) { c.set("realtime.auth_timeout_ms", 300); }), realtime_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");

  WsClient silent(app.port());
  CHECK(silent.wait_closed(5s) == 4401);

  WsClient bad(app.port());
  bad.send(json::value{{"type", "auth"}, {"token", "not-a-token"}});
  CHECK(bad.wait_closed(5s) == 4401);

  WsClient eager(app.port());
  eager.send(json::value{{"type", "subscribe"}, {"topic", "jobs"}});
  CHECK(eager.wait_closed(5s) == 4401);

  auto good = connect(app, ann);
  std::this_thread::sleep_for(500ms);  // past the auth timeout: authenticated sockets stay
  good->send(json::value{{"type", "ping"}});
  CHECK(type_of(good->next()) == "pong");
  good->send(std::string("not json"));
  auto bad_message = good->next();
  CHECK(type_of(bad_message) == "error");
  CHECK(code_of(bad_message) == "validation_failed");
  good->send(json::value{{"type", "subscribe"}, {"topic", "everything"}});
  CHECK(code_of(good->next()) == "validation_failed");

  // A plain GET is told to upgrade.
  CHECK(c.get("/api/v1/realtime").status == 400);
  CHECK(metric(c, "realtime_auth_failures_total") == 2);  // bad token, subscribe first (the
                                                          // timeout is the kernel's close_at)
}

TEST_CASE("realtime: own edits arrive; others' documents and missing ids are not_found") {
  TestApp app(generous(), realtime_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto bob = join(c, "bob@example.com");
  const auto id = create_doc(c, ann, "First");

  auto ws = connect(app, ann);
  auto sub = ws->subscribe("document:" + id);
  REQUIRE(type_of(sub) == "subscribed");
  CHECK(sub->at("topic") == ("document:" + id).c_str());
  edit(c, ann, id, "Second");
  auto e = next_event(*ws, "documents.updated");
  REQUIRE(e);
  CHECK(e->at("topic") == ("document:" + id).c_str());
  CHECK(e->at("event") == "documents.updated");
  CHECK(e->at("data").at("title") == "Second");
  CHECK_FALSE(e->at("data").as_object().contains("readers"));  // who else reads is not sent

  // Bob may not read it: the same answer as for an id that does not exist.
  auto bob_ws = connect(app, bob);
  auto refused = bob_ws->subscribe("document:" + id);
  CHECK(type_of(refused) == "error");
  CHECK(code_of(refused) == "not_found");
  auto missing = bob_ws->subscribe("document:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  CHECK(code_of(missing) == "not_found");
  edit(c, ann, id, "Third");
  CHECK(next_event(*ws, "documents.updated"));
  CHECK_FALSE(bob_ws->next(300ms));  // nothing of Ann's document reaches Bob

  // Unsubscribed: no more events.
  ws->send(json::value{{"type", "unsubscribe"}, {"topic", "document:" + id}});
  CHECK(type_of(ws->next()) == "unsubscribed");
  edit(c, ann, id, "Fourth");
  CHECK_FALSE(ws->next(300ms));
}

TEST_CASE("realtime: unshare and trash end the subscription; nothing follows") {
  TestApp app(generous(), realtime_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto bob = join(c, "bob@example.com");
  const auto id = create_doc(c, ann, "Shared");
  REQUIRE(call(c, ann, "PUT", doc_path(id, "/shares/" + bob.id), R"({"role":"viewer"})").status == 200);

  auto bob_ws = connect(app, bob);
  REQUIRE(type_of(bob_ws->subscribe("document:" + id)) == "subscribed");
  auto ann_ws = connect(app, ann);
  REQUIRE(type_of(ann_ws->subscribe("document:" + id)) == "subscribed");
  edit(c, ann, id, "Seen by both");
  CHECK(next_event(*bob_ws, "documents.updated"));
  CHECK(next_event(*ann_ws, "documents.updated"));

  REQUIRE(call(c, ann, "DELETE", doc_path(id, "/shares/" + bob.id)).status == 204);
  auto ended = bob_ws->next();
  CHECK(type_of(ended) == "error");
  CHECK(code_of(ended) == "not_found");
  CHECK(ended->at("topic") == ("document:" + id).c_str());
  edit(c, ann, id, "Only Ann");
  auto ann_event = next_event(*ann_ws, "documents.updated");
  REQUIRE(ann_event);
  CHECK(ann_event->at("data").at("title") == "Only Ann");
  CHECK_FALSE(bob_ws->next(300ms));
  // Subscribing again is refused now.
  CHECK(code_of(bob_ws->subscribe("document:" + id)) == "not_found");

  // Trash: the owner's subscription ends too.
  REQUIRE(call(c, ann, "DELETE", doc_path(id)).status == 204);
  auto gone = ann_ws->next_of("error");
  CHECK(code_of(gone) == "not_found");
}

TEST_CASE("realtime: a fresh token keeps the socket past the old one's expiry; without one it closes") {
  TestApp app(generous([](app::Config& c) { c.set("auth.access_token_ttl_s", 5); }), realtime_modules());
  auto c = app.client();
  auto reg = register_user(c, "ann@example.com");
  REQUIRE(reg.status == 201);
  Member ann{std::string(reg.json().at("user").at("id").as_string()), str(reg, "access_token")};
  const auto id = create_doc(c, ann, "Long-lived");

  auto stays = connect(app, ann);
  auto lapses = connect(app, ann);
  REQUIRE(type_of(stays->subscribe("document:" + id)) == "subscribed");
  std::this_thread::sleep_for(2s);
  auto refreshed = c.post_json("/api/v1/auth/refresh", {{"refresh_token", str(reg, "refresh_token")}});
  REQUIRE(refreshed.status == 200);
  ann.token = str(refreshed, "access_token");
  CHECK(type_of(stays->auth(ann.token)) == "authenticated");

  CHECK(lapses->wait_closed(8s) == 4401);
  CHECK(lapses->close_reason() == "access token expired");
  // The refreshed socket outlived the first token and still receives.
  CHECK_FALSE(stays->close_code());
  edit(c, ann, id, "Still here");
  CHECK(next_event(*stays, "documents.updated"));

  // A token of someone else is not a refresh.
  auto bob = join(c, "bob@example.com");
  stays->send(json::value{{"type", "auth"}, {"token", bob.token}});
  CHECK(stays->wait_closed(5s) == 4401);
}

TEST_CASE("realtime: logout and disabling the account close the socket at once") {
  TestApp app(generous(), realtime_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto ws = connect(app, ann);
  auto other_session = c.post_json("/api/v1/auth/login",
                                   {{"email", "ann@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(other_session.status == 200);
  auto other = connect(app, {ann.id, str(other_session, "access_token")});

  REQUIRE(c.request("POST", "/api/v1/auth/logout", "", bearer(ann.token)).status == 204);
  CHECK(ws->wait_closed(5s) == 4401);
  CHECK(ws->close_reason() == "session revoked");
  // The other session's socket is not affected.
  other->send(json::value{{"type", "ping"}});
  CHECK(type_of(other->next()) == "pong");
}

TEST_CASE("realtime: the jobs topic carries the caller's own jobs only") {
  TestApp app(generous([](app::Config& c) { c.set("jobs.poll_interval_ms", 50); }), realtime_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto bob = join(c, "bob@example.com");
  auto ann_ws = connect(app, ann);
  auto bob_ws = connect(app, bob);
  REQUIRE(type_of(ann_ws->subscribe("jobs")) == "subscribed");
  REQUIRE(type_of(bob_ws->subscribe("jobs")) == "subscribed");
  auto job = call(c, ann, "POST", "/api/v1/jobs", R"({"type":"probe.noop"})");
  REQUIRE(job.status == 202);
  auto e = ann_ws->next_of("event", 10s);
  REQUIRE(e);
  CHECK(e->at("topic") == "jobs");
  CHECK(e->at("event") == "jobs.succeeded");
  CHECK(e->at("data").at("id") == job.json().at("id"));
  CHECK_FALSE(bob_ws->next(300ms));
}

TEST_CASE("realtime: limits — message size, subscriptions per connection") {
  TestApp app(generous([](app::Config& c) {
                c.set("realtime.max_message_bytes", 1024);
                c.set("realtime.max_subscriptions", 2);
              }),
              realtime_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const auto a = create_doc(c, ann, "A"), b = create_doc(c, ann, "B");
  auto ws = connect(app, ann);
  CHECK(type_of(ws->subscribe("document:" + a)) == "subscribed");
  CHECK(type_of(ws->subscribe("document:" + a)) == "subscribed");  // again: still one
  CHECK(type_of(ws->subscribe("jobs")) == "subscribed");
  CHECK(code_of(ws->subscribe("document:" + b)) == "quota_exceeded");
  ws->send(json::value{{"type", "ping"}, {"padding", std::string(2000, 'x')}});
  CHECK(ws->wait_closed(5s) == 1009);
  CHECK(eventually([&] { return metric(c, "websocket_too_big_closes_total") == 1; }));
}

TEST_CASE("realtime: a client sending too fast gets rate_limited, and is served again later") {
  TestApp app(generous([](app::Config& c) { c.set("realtime.messages_per_second", 2); }), realtime_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto ws = connect(app, ann);  // the auth message took one token of the burst of 4
  for (int i = 0; i < 10; ++i) ws->send(json::value{{"type", "ping"}});
  int pongs = 0, limited = 0;
  for (int i = 0; i < 10; ++i) {
    auto m = ws->next();
    if (type_of(m) == "pong") ++pongs;
    if (code_of(m) == "rate_limited") ++limited;
  }
  CHECK(pongs >= 3);
  CHECK(pongs <= 5);  // the burst, and what refilled meanwhile
  CHECK(limited == 10 - pongs);
  std::this_thread::sleep_for(1500ms);  // refilled
  ws->send(json::value{{"type", "ping"}});
  CHECK(type_of(ws->next()) == "pong");
}

TEST_CASE("realtime: a slow consumer is closed with 1013; the others keep receiving") {
  TestApp app(generous([](app::Config& c) { c.set("realtime.send_queue_bytes", 1 << 20); }),
              realtime_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const auto id = create_doc(c, ann, "Busy");
  auto slow = connect(app, ann, 4096);  // a small receive window, and it never reads
  REQUIRE(type_of(slow->subscribe("document:" + id)) == "subscribed");
  auto fast = connect(app, ann);
  REQUIRE(type_of(fast->subscribe("document:" + id)) == "subscribed");

  const std::string big(200'000, 'x');
  constexpr int edits = 60;  // 12 MB: more than loopback's socket buffers hold
  int received = 0;
  auto take = [&](std::chrono::milliseconds timeout) {
    auto m = fast->next(timeout);
    if (m && m->at("type") == "event" && m->at("event") == "documents.updated") ++received;
    return m.has_value();
  };
  for (int i = 0; i < edits; ++i) {
    auto r = patch_doc(c, ann, id, R"({"content":")" + big + std::to_string(i) + R"("})", etag(c, ann, id));
    REQUIRE(r.status == 200);
    while (take(0ms)) {
    }
  }
  while (received < edits && take(5s)) {
  }
  CHECK(received == edits);
  REQUIRE(eventually([&] { return metric(c, "websocket_slow_consumer_closes_total") == 1; }));
  CHECK(slow->wait_closed(10s) == 1013);
}
