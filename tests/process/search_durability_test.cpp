// kill -9 while the search consumer catches up with a backlog: after the restart every document
// is indexed exactly once (the consumer's offset moves in the same transaction as its writes).
#include "test_support.hpp"

#include "core/database.hpp"
#include "core/prepared.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>
#include <boost/json.hpp>

#include <csignal>
#include <set>
#include <thread>

using namespace bookspace;
using testing::HttpClient;
using testing::ServerProcess;
namespace json = boost::json;

TEST_CASE("kill -9 mid-indexing: consistent after the restart") {
  testing::TestDatabase db;
  const std::vector<std::string> base = {"--database", db.url(),   "--data-dir",
                                         db.dir(),     "--listen", "127.0.0.1:0"};
  auto with = [&](std::vector<std::string> more) {
    auto args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  constexpr int documents = 1500;
  std::string token;
  {
    // A backlog: documents written while search is off.
    ServerProcess server(testing::bookspace_binary(), with({"--modules", "auth,documents"}));
    HttpClient c(server.port());
    auto reg = c.post_json("/api/v1/auth/register",
                           {{"email", "s@example.com"}, {"password", "correct horse battery"}});
    REQUIRE(reg.status == 201);
    token = std::string(reg.json().at("access_token").as_string());
    std::string body(2000, 'x');
    for (int i = 0; i < documents; ++i) {
      auto r = c.post_json("/api/v1/documents",
                           {{"title", "Doc " + std::to_string(i)}, {"content", "marigold " + body}},
                           {{"Authorization", "Bearer " + token}});
      REQUIRE(r.status == 201);
    }
  }
  auto indexed = [&](HttpClient& c) {
    const std::string series = "bookspace_event_consumer_offset{consumer=\"search.index\"} ";
    auto r = c.get("/metrics");
    const auto at = r.body.find(series);
    if (at == std::string::npos) return 0LL;
    return std::stoll(r.body.substr(at + series.size()));
  };
  long long at_kill = 0;
  {
    // One event per transaction: 1,500 commits take long enough to kill between two of them
    // (with the default 100 the whole backlog could land before the first look at /metrics).
    ServerProcess server(testing::bookspace_binary(), with({"--modules", "auth,documents,search"}),
                         {{"BOOKSPACE_EVENTS_BATCH_SIZE", "1"}});
    HttpClient c(server.port());
    REQUIRE(testing::eventually([&] { return indexed(c) > 0; }, std::chrono::seconds(20)));
    server.signal(SIGKILL);  // mid-way through the backlog (its offset is past 0, short of the end)
    REQUIRE(server.wait(std::chrono::seconds(10)).has_value());
    auto sql = core::open_session(core::parse_database_url(db.url()), {});
    *sql << "SELECT seq FROM event_offsets WHERE consumer = 'search.index'", soci::into(at_kill);
  }
  ServerProcess server(testing::bookspace_binary(), with({"--modules", "auth,documents,search"}));
  HttpClient c(server.port());
  std::set<std::string> found;
  REQUIRE(testing::eventually(
      [&] {
        found.clear();
        std::string cursor;
        for (int page = 0; page < 20; ++page) {
          auto r = c.get("/api/v1/search?q=marigold&limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor),
                         {{"Authorization", "Bearer " + token}});
          if (r.status != 200) return false;
          const json::value j = r.json();
          for (auto const& item : j.at("items").as_array())
            found.insert(std::string(item.at("id").as_string()));
          if (j.at("next_cursor").is_null()) break;
          cursor = std::string(j.at("next_cursor").as_string());
        }
        return found.size() == static_cast<std::size_t>(documents);
      },
      std::chrono::seconds(60)));
  CHECK(found.size() == static_cast<std::size_t>(documents));
  long long entries = 0, last = 0;
  auto sql = core::open_session(core::parse_database_url(db.url()), {});
  *sql << "SELECT COUNT(*) FROM search_entries", soci::into(entries);
  *sql << "SELECT MAX(seq) FROM events", soci::into(last);
  CHECK(entries == documents);  // each once
  INFO("offset at the kill: " << at_kill << " of " << last);
  CHECK(at_kill > 0);
  CHECK(at_kill < last);  // the kill came mid-way: the restart finished the backlog
}
