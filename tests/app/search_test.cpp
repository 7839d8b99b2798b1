// The search module through the real Application and HTTP, on SQLite (FTS5) and PostgreSQL
// (tsvector): the query language, ranking, snippets, pages, the permission matrix, freshness.
#include "documents_helpers.hpp"
#include "test_app.hpp"

#include <bookspace/files/files.hpp>
#include <bookspace/jobs/jobs.hpp>
#include <bookspace/search/search.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <set>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;

namespace {

std::vector<app::ModuleDescriptor> search_modules() {
  return {auth::auth_module(), documents::documents_module(), jobs::jobs_module(), files::files_module(),
          search::search_module()};
}

TestApp::Tweak fast() {
  return generous([](app::Config& c) { c.set("jobs.poll_interval_ms", 50); });
}

std::string encode(std::string_view q) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : q) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpResponse find(HttpClient& c, Member const& who, std::string_view q, std::string const& extra = "") {
  return call(c, who, "GET", "/api/v1/search?q=" + encode(q) + extra);
}

/// The ids found for `q`, in order.
std::vector<std::string> ids(HttpClient& c, Member const& who, std::string_view q,
                             std::string const& extra = "") {
  auto r = find(c, who, q, extra);
  REQUIRE(r.status == 200);
  std::vector<std::string> out;
  const json::value body = r.json();
  for (auto const& item : body.at("items").as_array()) out.emplace_back(item.at("id").as_string());
  return out;
}

bool found(HttpClient& c, Member const& who, std::string_view q, std::string const& id) {
  auto list = ids(c, who, q);
  return std::find(list.begin(), list.end(), id) != list.end();
}

std::string doc(HttpClient& c, Member const& who, std::string const& title, std::string const& content,
                std::string const& tags = "[]") {
  return create_doc(c, who, title,
                    R"(,"content":)" + json::serialize(json::value(content)) + R"(,"tags":)" + tags);
}

}  // namespace

TEST_CASE("search: words, phrases, prefixes, exclusions, diacritics, tags; ranking and snippets") {
  TestApp app(fast(), search_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const auto title_hit = doc(c, ann, "Quarterly budget", "Numbers for the next quarter.");
  const auto body_hit =
      doc(c, ann, "Notes", "The budget is tight this year; the <b>board</b> & staff agree.");
  const auto many_hits = doc(c, ann, "Meeting", "budget budget budget and more budget talk");
  const auto cafe = doc(c, ann, "Café reviews", "The best café in town serves espresso.");
  const auto tagged = doc(c, ann, "Untitled", "plain words", R"(["invoices","urgent"])");
  REQUIRE(eventually([&] { return found(c, ann, "urgent", tagged); }));

  auto budget = ids(c, ann, "budget");
  REQUIRE(budget.size() == 3);
  CHECK(budget[0] == title_hit);  // a title hit outranks body-only hits
  CHECK(std::find(budget.begin(), budget.end(), many_hits) <
        std::find(budget.begin(), budget.end(), body_hit));

  CHECK(ids(c, ann, "\"budget is tight\"") == std::vector<std::string>{body_hit});
  CHECK(ids(c, ann, "\"tight budget\"").empty());
  CHECK(ids(c, ann, "budget tight") == std::vector<std::string>{body_hit});  // all words must match
  CHECK(ids(c, ann, "quart*").size() == 1);
  CHECK(ids(c, ann, "budget -talk").size() == 2);
  CHECK(ids(c, ann, "cafe") == std::vector<std::string>{cafe});  // diacritics folded
  CHECK(ids(c, ann, "CAFÉ") == std::vector<std::string>{cafe});
  CHECK(ids(c, ann, "invoices") == std::vector<std::string>{tagged});

  auto r = find(c, ann, "board");
  REQUIRE(r.status == 200);
  const json::value page = r.json();
  auto const& hit = page.at("items").at(0);
  CHECK(hit.at("type").as_string() == "document");
  CHECK(hit.at("title").as_string() == "Notes");
  const std::string snippet(hit.at("snippet").as_string());
  CHECK(snippet.find("&lt;b&gt;<mark>board</mark>&lt;/b&gt; &amp; staff") != std::string::npos);
  CHECK(hit.at("score").as_double() > 0);
  CHECK(hit.at("updated_at").is_string());
  CHECK(page.at("next_cursor").is_null());
}

TEST_CASE("search: hostile queries answer 200 or 400, never 500") {
  TestApp app(fast(), search_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const auto plain = doc(c, ann, "Plain", "near or and not");
  // Indexed first (the consumer's first batch on a fresh database can outlast the loop below).
  REQUIRE(eventually([&] { return found(c, ann, "near", plain); }));
  for (std::string q : {"\"",     "*",     "NEAR(", "')--",   "OR",         "AND",   "\"unbalanced",
                        "a OR b", "NOT x", "(((",   "x:y",    "title:near", "-\"\"", "^x",
                        "{x}",    "'",     "\\",    "near/3", "**ab",       "ab**",  "\"a\"*"}) {
    auto res = find(c, ann, q);
    CAPTURE(q);
    CHECK((res.status == 200 || res.status == 400));
  }
  CHECK(find(c, ann, "-only").status == 400);
  CHECK(find(c, ann, "").status == 400);
  CHECK(find(c, ann, std::string(10 * 1024, 'q')).status == 400);
  CHECK(find(c, ann, "x", "&type=other").status == 400);
  CHECK(call(c, ann, "GET", "/api/v1/search").status == 400);
  CHECK(call(c, ann, "GET", "/api/v1/search?q=%FF%FE").status == 400);
  CHECK(c.get("/api/v1/search?q=near").status == 401);
  CHECK(ids(c, ann, "near").size() == 1);
  CHECK(ids(c, ann, "OR").size() == 1);  // literal: the word "or"
}

TEST_CASE("search: pages by cursor never repeat or skip") {
  TestApp app(fast(), search_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  std::set<std::string> made;
  for (int i = 0; i < 25; ++i)
    made.insert(doc(c, ann, "Report " + std::to_string(i), std::string(i % 5 + 1, 'x') + " shared word"));
  REQUIRE(eventually([&] { return ids(c, ann, "shared", "&limit=100").size() == 25; }));
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r =
        call(c, ann, "GET", "/api/v1/search?q=shared&limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(r.status == 200);
    const json::value body = r.json();
    for (auto const& item : body.at("items").as_array())
      CHECK(seen.insert(std::string(item.at("id").as_string())).second);
    auto const& next = body.at("next_cursor");
    cursor = next.is_null() ? "" : std::string(next.as_string());
    ++pages;
  } while (!cursor.empty() && pages < 10);
  CHECK(pages == 4);
  CHECK(seen == made);
  CHECK(call(c, ann, "GET", "/api/v1/search?q=shared&cursor=bogus").status == 400);
}

TEST_CASE("search: the permission matrix — owner, viewer, stranger, unshare, trash, restore, purge, files") {
  TestApp app(fast(), search_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");
  auto eve = join(c, "eve@example.com");
  const auto plan = doc(c, ann, "Secret plan", "the zanzibar operation");
  REQUIRE(eventually([&] { return found(c, ann, "zanzibar", plan); }));
  CHECK_FALSE(found(c, vic, "zanzibar", plan));
  CHECK_FALSE(found(c, eve, "zanzibar", plan));

  REQUIRE(call(c, ann, "PUT", doc_path(plan, "/shares/" + vic.id), R"({"role":"viewer"})").status == 200);
  REQUIRE(eventually([&] { return found(c, vic, "zanzibar", plan); }));
  CHECK_FALSE(found(c, eve, "zanzibar", plan));

  // Files: attached ones follow the document's readers; others only their owner.
  auto attached =
      c.request("POST", "/api/v1/files?name=zanzibar-map.txt&document_id=" + plan, "map of the island",
                {{"Authorization", "Bearer " + ann.token}, {"Content-Type", "text/plain"}});
  REQUIRE(attached.status == 201);
  const std::string map_id = str(attached, "id");
  auto loose = c.request("POST", "/api/v1/files?name=notes.txt", "zanzibar loose notes",
                         {{"Authorization", "Bearer " + ann.token}, {"Content-Type", "text/plain"}});
  REQUIRE(loose.status == 201);
  const std::string loose_id = str(loose, "id");
  REQUIRE(eventually([&] { return found(c, ann, "island", map_id) && found(c, ann, "loose", loose_id); }));
  CHECK(found(c, vic, "island", map_id));         // by its extracted text, as a reader of the document
  CHECK(found(c, vic, "zanzibar", map_id));       // by its name
  CHECK_FALSE(found(c, vic, "loose", loose_id));  // not attached: the owner's only
  CHECK_FALSE(found(c, eve, "island", map_id));
  auto files_only = ids(c, ann, "zanzibar", "&type=file");
  CHECK(files_only.size() == 2);
  CHECK(ids(c, ann, "zanzibar", "&type=document") == std::vector<std::string>{plan});

  REQUIRE(call(c, ann, "DELETE", doc_path(plan, "/shares/" + vic.id)).status == 204);
  REQUIRE(eventually([&] { return !found(c, vic, "zanzibar", plan); }));
  CHECK_FALSE(found(c, vic, "island", map_id));

  REQUIRE(call(c, ann, "DELETE", doc_path(plan)).status == 204);  // to the trash
  REQUIRE(eventually([&] { return !found(c, ann, "zanzibar", plan); }));
  CHECK(found(c, ann, "island", map_id));  // the owner still reads their attached file
  REQUIRE(call(c, ann, "POST", "/api/v1/trash/" + plan + "/restore").status == 200);
  REQUIRE(eventually([&] { return found(c, ann, "zanzibar", plan); }));

  REQUIRE(call(c, ann, "DELETE", doc_path(plan)).status == 204);
  REQUIRE(call(c, ann, "DELETE", "/api/v1/trash/" + plan).status == 204);  // purged, its files with it
  REQUIRE(eventually([&] { return !found(c, ann, "island", map_id); }));
  CHECK_FALSE(found(c, ann, "zanzibar", plan));
  REQUIRE(call(c, ann, "DELETE", "/api/v1/files/" + loose_id).status == 204);
  REQUIRE(eventually([&] { return !found(c, ann, "loose", loose_id); }));
  CHECK(app.query_strings("SELECT ref_id FROM search_entries").empty());
}

TEST_CASE("search: a created or updated document is searchable within 1 s") {
  TestApp app(generous(), search_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const auto id = doc(c, ann, "Fresh", "brandnewword");
  CHECK(eventually([&] { return found(c, ann, "brandnewword", id); }, std::chrono::milliseconds(1000)));
  auto current = call(c, ann, "GET", doc_path(id));
  REQUIRE(
      patch_doc(c, ann, id, R"({"content":"replacedword"})", std::string(current.header("ETag"))).status ==
      200);
  CHECK(eventually([&] { return found(c, ann, "replacedword", id); }, std::chrono::milliseconds(1000)));
  CHECK_FALSE(found(c, ann, "brandnewword", id));
}

TEST_CASE("search: reindex (admin job) rebuilds from documents and files while search goes on") {
  TestApp app(fast(), search_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");
  const auto kept = doc(c, ann, "Kept", "orchid garden");
  const auto shared = doc(c, ann, "Shared", "orchid greenhouse");
  const auto vanished = doc(c, ann, "Vanished", "orchid ghost");
  REQUIRE(call(c, ann, "PUT", doc_path(shared, "/shares/" + vic.id), R"({"role":"viewer"})").status == 200);
  auto file = c.request("POST", "/api/v1/files?name=notes.txt", "orchid seedlings text",
                        {{"Authorization", "Bearer " + ann.token}, {"Content-Type", "text/plain"}});
  REQUIRE(file.status == 201);
  const std::string file_id = str(file, "id");
  REQUIRE(eventually([&] { return ids(c, ann, "orchid").size() == 4 && found(c, vic, "orchid", shared); }));

  // The index drifts from the truth: readers lost (the table and the engine's reader tokens), a
  // document gone without its event.
  app.execute_sql("DELETE FROM search_readers");
  app.execute_sql(backend() == core::Dialect::postgresql
                      ? "UPDATE search_entries SET tsv = ts_filter(tsv, '{a,b,c}') WHERE kind = 'document'"
                      : "UPDATE search_fts SET readers = '' WHERE rowid IN"
                        " (SELECT entry FROM search_entries WHERE kind = 'document')");
  app.execute_sql("DELETE FROM documents_members WHERE document_id = '" + vanished + "'");
  app.execute_sql("DELETE FROM documents_versions WHERE document_id = '" + vanished + "'");
  app.execute_sql("DELETE FROM documents_documents WHERE id = '" + vanished + "'");
  CHECK(ids(c, ann, "orchid") == std::vector<std::string>{file_id});  // only the file: its owner's
  CHECK_FALSE(found(c, vic, "orchid", shared));

  auto bob = join(c, "bob@example.com");
  CHECK(call(c, bob, "POST", "/api/v1/jobs", R"({"type":"search.reindex"})").status == 403);
  app.execute_sql("UPDATE auth_accounts SET role = 'admin' WHERE id = '" + bob.id + "'");
  auto login = c.post_json("/api/v1/auth/login",
                           {{"email", "bob@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(login.status == 200);
  const Member admin{bob.id, str(login, "access_token")};
  auto job = call(c, admin, "POST", "/api/v1/jobs", R"({"type":"search.reindex"})");
  REQUIRE(job.status == 202);
  json::object done;
  REQUIRE(eventually([&] {
    done = call(c, admin, "GET", "/api/v1/jobs/" + str(job, "id")).json().as_object();
    return done.at("status").as_string() == "succeeded";
  }));
  CHECK(done.at("result").at("documents").as_int64() == 2);
  CHECK(done.at("result").at("files").as_int64() == 1);
  CHECK(done.at("result").at("removed").as_int64() == 1);
  CHECK(done.at("result").at("texts_requested").as_int64() == 0);  // the file's text was kept

  auto all = ids(c, ann, "orchid");
  CHECK(std::set<std::string>(all.begin(), all.end()) == std::set<std::string>{kept, shared, file_id});
  CHECK(found(c, vic, "orchid", shared));
  CHECK(found(c, ann, "seedlings", file_id));
  CHECK_FALSE(found(c, ann, "ghost", vanished));
  // The consumer goes on after it.
  const auto later = doc(c, ann, "Later", "orchid late");
  REQUIRE(eventually([&] { return found(c, ann, "late", later); }));
}

TEST_CASE(
    "search: a term far more common than what the caller reads gives the same hits (readable-first plan)") {
  TestApp app(fast(), search_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");
  std::set<std::string> visible;
  for (int i = 0; i < 30; ++i) {
    const auto id =
        doc(c, ann, "Common topic " + std::to_string(i), std::string(i % 4 + 1, 'z') + " common words");
    if (i % 10 == 0) {
      REQUIRE(call(c, ann, "PUT", doc_path(id, "/shares/" + vic.id), R"({"role":"viewer"})").status == 200);
      visible.insert(id);
    }
  }
  visible.insert(doc(c, vic, "Vic's", "common ground"));
  visible.insert(doc(c, vic, "Vic's other", "more common common ground"));
  REQUIRE(eventually([&] { return ids(c, ann, "common", "&limit=100").size() == 30; }));
  REQUIRE(eventually([&] { return ids(c, vic, "common").size() == 5; }));
  auto all = ids(c, vic, "common");
  CHECK(std::set<std::string>(all.begin(), all.end()) == visible);
  CHECK(ids(c, vic, "\"common words\"").size() == 3);
  CHECK(ids(c, vic, "common -ground").size() == 3);
  CHECK(ids(c, vic, "common", "&type=file").empty());
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto r =
        call(c, vic, "GET", "/api/v1/search?q=common&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(r.status == 200);
    const json::value body = r.json();
    for (auto const& item : body.at("items").as_array()) paged.emplace_back(item.at("id").as_string());
    if (body.at("next_cursor").is_null()) break;
    cursor = std::string(body.at("next_cursor").as_string());
  }
  CHECK(paged == all);  // the same order, page by page
}

TEST_CASE("search: metrics — query latency, entries, bytes on disk, the consumer's lag") {
  TestApp app(fast(), search_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const auto id = doc(c, ann, "Measured", "metric words");
  REQUIRE(eventually([&] { return found(c, ann, "metric", id); }));
  auto value = [&](std::string const& series) {
    const auto body = c.get("/metrics").body;
    const auto at = body.find("\nbookspace_" + series + " ");
    return at == std::string::npos ? -1.0 : std::stod(body.substr(at + series.size() + 12));
  };
  CHECK(value("search_query_seconds_count") >= 1);
  CHECK(value("search_index_bytes") > 0);  // measured at start: the tables exist
  CHECK(value("event_consumer_lag{consumer=\"search.index\"}") >= 0);
  CHECK(value("search_entries") >= 0);  // counted every 30 s (0 until then)
}

TEST_CASE("search: a hit next to a format or punctuation character (U+202E, U+200B, «») is still marked") {
  TestApp app(fast(), search_modules());
  auto c = app.client();
  auto ann = join(c, "marks@example.com");
  const std::string id = doc(c, ann, "Bidi", "before quux\u202Eevil after, «quux» and zero\u200Bquux too");
  REQUIRE(eventually([&] { return found(c, ann, "quux", id); }));
  auto r = find(c, ann, "quux");
  REQUIRE(r.status == 200);
  const std::string snippet(r.json().at("items").at(0).at("snippet").as_string());
  CAPTURE(snippet);
  CHECK(snippet.find("<mark>quux</mark>\u202E") != std::string::npos);
  CHECK(snippet.find("«<mark>quux</mark>»") != std::string::npos);
  CHECK(snippet.find("\u200B<mark>quux</mark>") != std::string::npos);
}
