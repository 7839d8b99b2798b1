#include "rules.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

using namespace bookspace::realtime;
namespace json = boost::json;

TEST_CASE("topics: document:<id> and jobs, nothing else") {
  auto d = parse_topic("document:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  REQUIRE(d);
  CHECK(d->kind == Topic::Kind::document);
  CHECK(d->document_id == "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  CHECK(d->name() == "document:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  auto j = parse_topic("jobs");
  REQUIRE(j);
  CHECK(j->kind == Topic::Kind::jobs);
  CHECK(j->name() == "jobs");
  CHECK_FALSE(parse_topic(""));
  CHECK_FALSE(parse_topic("document:"));
  CHECK_FALSE(parse_topic("document:a b"));
  CHECK_FALSE(parse_topic("document:../x"));
  CHECK_FALSE(parse_topic("document:" + std::string(65, 'a')));
  CHECK(parse_topic("document:" + std::string(64, 'a')));
  CHECK_FALSE(parse_topic("jobs:other"));
  CHECK_FALSE(parse_topic("Document:x"));
}

TEST_CASE("client messages: the four types; anything else is invalid with a reason") {
  auto a = parse_client_message(R"({"type":"auth","token":"abc"})");
  CHECK(a.type == ClientMessage::Type::auth);
  CHECK(a.token == "abc");
  auto s = parse_client_message(R"({"type":"subscribe","topic":"jobs"})");
  CHECK(s.type == ClientMessage::Type::subscribe);
  CHECK(s.topic == "jobs");
  CHECK(parse_client_message(R"({"type":"unsubscribe","topic":"jobs"})").type ==
        ClientMessage::Type::unsubscribe);
  CHECK(parse_client_message(R"({"type":"ping"})").type == ClientMessage::Type::ping);
  for (std::string bad : std::vector<std::string>{
           "", "null", "[]", "{", R"({"type":1})", R"({"type":"auth"})", R"({"type":"auth","token":""})",
           R"({"type":"auth","token":7})", R"({"type":"subscribe"})", R"({"type":"shout"})",
           std::string("\xff\xfe"), R"({"topic":"jobs"})"}) {
    auto m = parse_client_message(bad);
    CHECK_MESSAGE(m.type == ClientMessage::Type::invalid, bad);
    CHECK_FALSE(m.detail.empty());
  }
}

TEST_CASE("event names drop the version; data drops who else may read") {
  CHECK(event_name("documents.updated.v1") == "documents.updated");
  CHECK(event_name("jobs.succeeded.v12") == "jobs.succeeded");
  CHECK(event_name("documents.updated") == "documents.updated");
  CHECK(event_name("documents.updated.vx") == "documents.updated.vx");
  CHECK(event_name("v1") == "v1");
  auto data = public_data(
      {{"id", "d"}, {"readers", json::array{"u1", "u2"}}, {"former_readers", json::array{}}, {"title", "T"}});
  CHECK(data.size() == 2);
  CHECK(data.at("title") == "T");
}

TEST_CASE("server messages are JSON of the documented shape") {
  auto e = json::parse(*event_message("document:x", "documents.updated", {{"title", "T"}})).as_object();
  CHECK(e.at("type") == "event");
  CHECK(e.at("topic") == "document:x");
  CHECK(e.at("event") == "documents.updated");
  CHECK(e.at("data").at("title") == "T");
  auto err =
      json::parse(*error_message(bookspace::core::ErrorCode::not_found, "gone", "document:x")).as_object();
  CHECK(err.at("type") == "error");
  CHECK(err.at("code") == "not_found");
  CHECK(err.at("topic") == "document:x");
  auto no_topic =
      json::parse(*error_message(bookspace::core::ErrorCode::validation_failed, "bad")).as_object();
  CHECK_FALSE(no_topic.contains("topic"));
  auto ok = json::parse(*authenticated_message("u", 0)).as_object();
  CHECK(ok.at("expires_at").is_null());
  auto ok2 = json::parse(*authenticated_message("u", 1'700'000'000'000)).as_object();
  CHECK(ok2.at("expires_at").is_string());
  CHECK(json::parse(*pong_message()).at("type") == "pong");
}
