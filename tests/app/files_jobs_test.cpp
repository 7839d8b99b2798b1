// The files module's job types through the real Application, its API and the jobs module, on
// SQLite and PostgreSQL: text extraction (files.extract_text → files.text_extracted.v1) and the
// document export (documents.export → a zip stored as a File).
#include "documents_helpers.hpp"
#include "pdf_fixture.hpp"
#include "test_app.hpp"

#include <bookspace/files/files.hpp>
#include <bookspace/jobs/jobs.hpp>

#include <doctest/doctest.h>
#include <zip.h>
#include <boost/json.hpp>

#include <map>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;

namespace {

std::vector<app::ModuleDescriptor> modules_with_jobs() {
  return {auth::auth_module(), documents::documents_module(), jobs::jobs_module(), files::files_module()};
}

TestApp::Tweak fast() {
  return generous([](app::Config& c) { c.set("jobs.poll_interval_ms", 50); });
}

HttpResponse upload(HttpClient& c, Member const& who, std::string const& body, std::string const& type,
                    std::string const& query = "") {
  return c.request("POST", "/api/v1/files" + query, body,
                   {{"Authorization", "Bearer " + who.token}, {"Content-Type", type}});
}

/// The payload of the file's files.text_extracted.v1, once published.
std::optional<json::object> extracted(TestApp& app, std::string const& file_id) {
  auto rows = app.query_strings(
      "SELECT payload FROM events WHERE type = 'files.text_extracted.v1' AND aggregate_id = '" + file_id +
      "'");
  if (rows.empty()) return std::nullopt;
  return json::parse(rows.back()).as_object();
}

json::object wait_job(HttpClient& c, Member const& who, std::string const& id) {
  json::object job;
  REQUIRE(eventually(
      [&] {
        job = call(c, who, "GET", "/api/v1/jobs/" + id).json().as_object();
        const auto status = job.at("status").as_string();
        return status == "succeeded" || status == "failed" || status == "cancelled";
      },
      std::chrono::seconds(20)));
  return job;
}

/// A zip's entries by name.
std::map<std::string, std::string> unzip(std::string const& bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  REQUIRE(source);
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  REQUIRE(archive);
  std::map<std::string, std::string> out;
  for (zip_int64_t i = 0; i < zip_get_num_entries(archive, 0); ++i) {
    zip_stat_t st;
    REQUIRE(zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) == 0);
    zip_file_t* f = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0);
    REQUIRE(f);
    std::string content(st.size, '\0');
    CHECK(zip_fread(f, content.data(), st.size) == static_cast<zip_int64_t>(st.size));
    zip_fclose(f);
    out[st.name] = content;
  }
  zip_close(archive);
  return out;
}

}  // namespace

TEST_CASE("text extraction: plain text, Markdown, HTML and PDF publish their text; others none") {
  TestApp app(fast(), modules_with_jobs());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const std::string doc = create_doc(c, ann, "Plans");

  auto text = upload(c, ann, "plain words caf\xC3\xA9", "text/plain", "?document_id=" + doc);
  auto md = upload(c, ann, "# Heading\n\nmarkdown *body*", "text/markdown");
  auto html =
      upload(c, ann, "<html><head><style>x{}</style></head><body><p>Hello &amp; welcome</p></body></html>",
             "text/html");
  auto pdf = upload(c, ann, make_pdf({"Quarterly numbers", "Appendix pages"}), "application/pdf");
  auto bin = upload(c, ann, std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "image/png");
  for (auto* r : {&text, &md, &html, &pdf, &bin}) REQUIRE(r->status == 201);

  std::optional<json::object> e;
  REQUIRE(eventually([&] { return (e = extracted(app, str(text, "id"))).has_value(); }));
  CHECK(e->at("text").as_string() == "plain words caf\xC3\xA9");
  CHECK(e->at("document_id").as_string() == doc);
  CHECK(e->at("owner_id").as_string() == ann.id);
  CHECK_FALSE(e->at("truncated").as_bool());
  REQUIRE(eventually([&] { return (e = extracted(app, str(md, "id"))).has_value(); }));
  CHECK(e->at("text").as_string() == "# Heading\n\nmarkdown *body*");
  CHECK(e->at("content_type").as_string() == "text/markdown");
  REQUIRE(eventually([&] { return (e = extracted(app, str(html, "id"))).has_value(); }));
  CHECK(e->at("text").as_string() == "Hello & welcome");
  REQUIRE(eventually([&] { return (e = extracted(app, str(pdf, "id"))).has_value(); }));
  CHECK(std::string(e->at("text").as_string()).find("Quarterly numbers") != std::string::npos);
  CHECK(std::string(e->at("text").as_string()).find("Appendix pages") != std::string::npos);
  CHECK(e->at("document_id").is_null());
  // A PNG has no text: no job, no event.
  CHECK(app.query_strings("SELECT id FROM jobs_jobs WHERE payload LIKE '%" + str(bin, "id") + "%'").empty());
  CHECK_FALSE(extracted(app, str(bin, "id")));
  // The job is the owner's, visible in their list, with its result.
  auto jobs = call(c, ann, "GET", "/api/v1/jobs?type=files.extract_text").json().at("items").as_array();
  CHECK(jobs.size() == 4);
  for (auto const& j : jobs) CHECK(j.at("status").as_string() == "succeeded");
}

TEST_CASE("text extraction: bounded output; a file deleted before its job runs publishes nothing") {
  TestApp app(generous([](app::Config& c) {
                c.set("jobs.poll_interval_ms", 50);
                c.set("files.extract_max_bytes", 1024);
              }),
              modules_with_jobs());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto big = upload(c, ann, std::string(5000, 'w'), "text/plain");
  REQUIRE(big.status == 201);
  std::optional<json::object> e;
  REQUIRE(eventually([&] { return (e = extracted(app, str(big, "id"))).has_value(); }));
  CHECK(e->at("text").as_string().size() == 1024);
  CHECK(e->at("truncated").as_bool());

  // A job for a file deleted before the job ran (an administrator enqueues one by hand): it skips.
  auto gone = upload(c, ann, "short-lived", "text/plain");
  REQUIRE(gone.status == 201);
  REQUIRE(eventually([&] { return extracted(app, str(gone, "id")).has_value(); }));
  REQUIRE(call(c, ann, "DELETE", "/api/v1/files/" + str(gone, "id")).status == 204);
  app.execute_sql("UPDATE auth_accounts SET role = 'admin' WHERE id = '" + ann.id + "'");
  auto login = c.post_json("/api/v1/auth/login",
                           {{"email", "ann@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(login.status == 200);
  const Member admin{ann.id, str(login, "access_token")};
  auto again = call(c, admin, "POST", "/api/v1/jobs",
                    R"({"type":"files.extract_text","payload":{"file_id":")" + str(gone, "id") + R"("}})");
  REQUIRE(again.status == 202);
  auto job = wait_job(c, admin, str(again, "id"));
  CHECK(job.at("status").as_string() == "succeeded");
  CHECK(job.at("result").at("skipped").as_string() == "the file is gone");
  CHECK(
      app.query_strings("SELECT seq FROM events WHERE type = 'files.text_extracted.v1' AND aggregate_id = '" +
                        str(gone, "id") + "'")
          .size() == 1);  // only the first run's
  // Members may not enqueue it themselves.
  auto member = join(c, "bob@example.com");
  CHECK(call(c, member, "POST", "/api/v1/jobs", R"({"type":"files.extract_text","payload":{"file_id":"x"}})")
            .status == 403);
}

TEST_CASE("export: a zip of the caller's readable documents as Markdown, with their files") {
  TestApp app(fast(), modules_with_jobs());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto bob = join(c, "bob@example.com");
  const std::string plans = create_doc(c, ann, "Plans", R"(,"content":"Step one.","tags":["work","q3"])");
  const std::string again = create_doc(c, ann, "plans", R"(,"content":"Other plans.")");
  const std::string odd = create_doc(c, ann, "a/b: c?", R"(,"content":"odd title")");
  const std::string shared = create_doc(c, bob, "Bob's shared", R"(,"content":"from bob")");
  const std::string secret = create_doc(c, bob, "Bob's secret", R"(,"content":"private")");
  REQUIRE(call(c, bob, "PUT", doc_path(shared, "/shares/" + ann.id), R"({"role":"viewer"})").status == 200);
  REQUIRE(upload(c, ann, "attached bytes", "text/plain", "?name=notes.txt&document_id=" + plans).status ==
          201);
  REQUIRE(upload(c, ann, "\x89PNG fake", "application/octet-stream", "?name=pic.bin&document_id=" + plans)
              .status == 201);

  auto submitted = call(c, ann, "POST", "/api/v1/jobs", R"({"type":"documents.export","payload":{}})");
  REQUIRE(submitted.status == 202);
  auto job = wait_job(c, ann, str(submitted, "id"));
  REQUIRE(job.at("status").as_string() == "succeeded");
  auto const& result = job.at("result").as_object();
  CHECK(result.at("documents").as_int64() == 4);
  CHECK(result.at("files").as_int64() == 2);
  const std::string file_id(result.at("file_id").as_string());

  auto meta = call(c, ann, "GET", "/api/v1/files/" + file_id);
  REQUIRE(meta.status == 200);
  CHECK(str(meta, "content_type") == "application/zip");
  CHECK(str(meta, "name").starts_with("bookspace-export-"));
  CHECK(call(c, bob, "GET", "/api/v1/files/" + file_id).status == 404);
  auto entries = unzip(call(c, ann, "GET", "/api/v1/files/" + file_id + "/content").body);
  std::string names;
  for (auto const& [name, _] : entries) names += name + "|";
  CAPTURE(names);
  REQUIRE(entries.size() == 6);
  std::string plans_md = entries.contains("Plans.md") ? entries["Plans.md"] : entries["Plans (2).md"];
  CHECK(plans_md.find("title: \"Plans\"") != std::string::npos);
  CHECK(plans_md.find("tags: [\"work\",\"q3\"]") != std::string::npos);
  CHECK(plans_md.find("version: 1") != std::string::npos);
  CHECK(plans_md.find("\nStep one.\n") != std::string::npos);
  CHECK((entries.contains("Plans.md") && entries.contains("plans (2).md")) !=
        (entries.contains("plans.md") && entries.contains("Plans (2).md")));
  CHECK(entries.contains("a_b_ c_.md"));
  CHECK(entries["Bob's shared.md"].find("from bob") != std::string::npos);
  const std::string folder = entries.contains("Plans.md") ? "Plans/" : "Plans (2)/";
  CHECK(entries[folder + "notes.txt"] == "attached bytes");
  CHECK(entries[folder + "pic.bin"] == "\x89PNG fake");
  for (auto const& [name, content] : entries) CHECK(content.find("private") == std::string::npos);

  // Chosen documents: the unreadable one is skipped, not leaked.
  auto chosen = call(
      c, ann, "POST", "/api/v1/jobs",
      R"({"type":"documents.export","payload":{"document_ids":[")" + again + R"(",")" + secret + R"("]}})");
  REQUIRE(chosen.status == 202);
  auto job2 = wait_job(c, ann, str(chosen, "id"));
  REQUIRE(job2.at("status").as_string() == "succeeded");
  CHECK(job2.at("result").at("documents").as_int64() == 1);
  CHECK(job2.at("result").at("skipped").as_int64() == 1);
  auto only =
      unzip(call(c, ann, "GET",
                 "/api/v1/files/" + std::string(job2.at("result").at("file_id").as_string()) + "/content")
                .body);
  CHECK(only.size() == 1);
  CHECK(only.begin()->second.find("Other plans.") != std::string::npos);
  (void)odd;

  // A bad payload fails the job with a reason.
  auto bad = call(c, ann, "POST", "/api/v1/jobs",
                  R"({"type":"documents.export","payload":{"document_ids":"nope"},"max_attempts":1})");
  REQUIRE(bad.status == 202);
  auto job3 = wait_job(c, ann, str(bad, "id"));
  CHECK(job3.at("status").as_string() == "failed");
}

TEST_CASE("files without the jobs module: uploads work, nothing is enqueued, export is no type") {
  TestApp app(generous(), {auth::auth_module(), documents::documents_module(), files::files_module()});
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  CHECK(upload(c, ann, "text without extraction", "text/plain").status == 201);
  CHECK(call(c, ann, "POST", "/api/v1/jobs", R"({"type":"documents.export"})").status == 404);
}
