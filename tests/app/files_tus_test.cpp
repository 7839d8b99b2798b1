// tus 1.0.0 resumable uploads (/api/v1/uploads) through the real Application and HTTP, on SQLite
// and PostgreSQL. The reference client (tus-js-client) is driven against the binary by
// tests/tus/resume.sh.
#include "files_helpers.hpp"
#include "test_app.hpp"

#include <bookspace/files/files.hpp>

#include <doctest/doctest.h>
#include <sodium.h>
#include <boost/json.hpp>

#include <filesystem>

using namespace bookspace;
using namespace bookspace::testing;
namespace fs = std::filesystem;

namespace {

HttpResponse create(HttpClient& c, Member const& who, std::size_t length, std::string const& metadata = "",
                    std::string const& body = "") {
  auto h = tus_headers({{"Upload-Length", std::to_string(length)}});
  if (!metadata.empty()) h["Upload-Metadata"] = metadata;
  if (!body.empty()) h["Content-Type"] = "application/offset+octet-stream";
  return call(c, who, "POST", "/api/v1/uploads", body, h);
}

HttpResponse patch(HttpClient& c, Member const& who, std::string const& url, std::size_t offset,
                   std::string const& bytes) {
  return call(c, who, "PATCH", url, bytes,
              tus_headers({{"Upload-Offset", std::to_string(offset)},
                           {"Content-Type", "application/offset+octet-stream"}}));
}

std::string head_offset(HttpClient& c, Member const& who, std::string const& url) {
  auto r = call(c, who, "HEAD", url, "", tus_headers());
  REQUIRE(r.status == 200);
  return std::string(r.header("Upload-Offset"));
}

}  // namespace

TEST_CASE("tus: discovery, creation, offsets, resumption, completion into a File") {
  TestApp app(generous(), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto eve = join(c, "eve@example.com");

  auto discovery = c.request("OPTIONS", "/api/v1/uploads", "", {});
  CHECK(discovery.status == 204);
  CHECK(discovery.header("Tus-Version") == "1.0.0");
  CHECK(discovery.header("Tus-Extension").find("creation-with-upload") != std::string::npos);
  CHECK(discovery.header("Tus-Max-Size") == std::to_string(1LL << 30));

  std::string data;
  for (int i = 0; i < 20000; ++i) data += "row " + std::to_string(i) + "\n";
  auto created =
      create(c, ann, data.size(), "filename " + b64("report.txt") + ",filetype " + b64("text/plain"));
  REQUIRE(created.status == 201);
  CHECK(created.header("Tus-Resumable") == "1.0.0");
  CHECK(created.header("Upload-Offset") == "0");
  CHECK_FALSE(created.header("Upload-Expires").empty());
  const std::string url(created.header("Location"));
  REQUIRE(url.starts_with("/api/v1/uploads/"));
  CHECK(head_offset(c, ann, url) == "0");

  const std::size_t half = data.size() / 2;
  auto first = patch(c, ann, url, 0, data.substr(0, half));
  REQUIRE(first.status == 204);
  CHECK(first.header("Upload-Offset") == std::to_string(half));
  CHECK(first.header("BookSpace-File-Id").empty());
  auto head = call(c, ann, "HEAD", url, "", tus_headers());
  CHECK(head.header("Upload-Offset") == std::to_string(half));
  CHECK(head.header("Upload-Length") == std::to_string(data.size()));
  CHECK(head.header("Cache-Control") == "no-store");
  CHECK(head.header("Upload-Metadata").starts_with("filename "));

  // A wrong offset, a stranger, a missing version, a wrong body type.
  CHECK(patch(c, ann, url, 0, "xx").status == 409);
  CHECK(patch(c, eve, url, half, "xx").status == 404);
  CHECK(call(c, eve, "HEAD", url, "", tus_headers()).status == 404);
  CHECK(call(c, ann, "PATCH", url, "xx",
             {{"Upload-Offset", std::to_string(half)}, {"Content-Type", "application/offset+octet-stream"}})
            .status == 412);
  CHECK(call(c, ann, "PATCH", url, "xx",
             tus_headers({{"Upload-Offset", std::to_string(half)}, {"Content-Type", "text/plain"}}))
            .status == 415);
  CHECK(patch(c, ann, url, half, data.substr(half) + "extra").status == 413);  // past Upload-Length
  CHECK(head_offset(c, ann, url) == std::to_string(half));

  auto last = patch(c, ann, url, half, data.substr(half));
  REQUIRE(last.status == 204);
  CHECK(last.header("Upload-Offset") == std::to_string(data.size()));
  const std::string file_id(last.header("BookSpace-File-Id"));
  REQUIRE_FALSE(file_id.empty());
  auto file = call(c, ann, "GET", "/api/v1/files/" + file_id);
  REQUIRE(file.status == 200);
  CHECK(str(file, "name") == "report.txt");
  CHECK(str(file, "content_type") == "text/plain");
  CHECK(call(c, ann, "GET", "/api/v1/files/" + file_id + "/content").body == data);
  // Done: HEAD says so (with the File), and the partial bytes are gone.
  auto done = call(c, ann, "HEAD", url, "", tus_headers());
  CHECK(done.header("Upload-Offset") == std::to_string(data.size()));
  CHECK(done.header("BookSpace-File-Id") == file_id);
  CHECK(fs::is_empty(fs::path(app.database().dir()) / "blobs" / "uploads"));
}

TEST_CASE("tus: creation-with-upload, bad metadata, limits, quota, attach rights, termination") {
  TestApp app(generous([](app::Config& c) {
                c.set("files.max_file_bytes", 100000);
                c.set("files.quota_bytes", 50000);
              }),
              files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");

  auto whole = create(c, ann, 11, "filename " + b64("hi.txt"), "hello world");
  REQUIRE(whole.status == 201);
  CHECK(whole.header("Upload-Offset") == "11");
  const std::string file_id(whole.header("BookSpace-File-Id"));
  REQUIRE_FALSE(file_id.empty());
  CHECK(call(c, ann, "GET", "/api/v1/files/" + file_id + "/content").body == "hello world");

  CHECK(create(c, ann, 10, "filename !!notbase64").status == 400);
  CHECK(create(c, ann, 10, "filename " + b64("../../etc/passwd")).status == 201);  // sanitized to passwd
  CHECK(create(c, ann, 10, "filename " + b64(std::string("a\0b", 3))).status == 400);
  CHECK(call(c, ann, "POST", "/api/v1/uploads", "", tus_headers()).status == 400);  // no Upload-Length
  CHECK(call(c, ann, "POST", "/api/v1/uploads", "", tus_headers({{"Upload-Length", "-1"}})).status == 400);
  CHECK(call(c, ann, "POST", "/api/v1/uploads", "", tus_headers({{"Upload-Defer-Length", "1"}})).status ==
        400);
  CHECK(call(c, ann, "POST", "/api/v1/uploads", "", {{"Upload-Length", "5"}}).status == 412);
  CHECK(c.request("POST", "/api/v1/uploads", "", tus_headers({{"Upload-Length", "5"}})).status == 401);
  CHECK(create(c, ann, 100001).status == 413);
  auto over = create(c, ann, 50000);
  CHECK(over.status == 507);
  CHECK(over.json().at("code") == "quota_exceeded");

  // Attaching needs editor rights on the document, checked at creation.
  const std::string doc = create_doc(c, ann, "Plans");
  REQUIRE(call(c, ann, "PUT", doc_path(doc, "/shares/" + vic.id), R"({"role":"viewer"})").status == 200);
  CHECK(create(c, vic, 5, "document_id " + b64(doc)).status == 403);
  auto attached = create(c, ann, 5, "document_id " + b64(doc) + ",filename " + b64("a.txt"), "abcde");
  REQUIRE(attached.status == 201);
  auto f = call(c, vic, "GET", "/api/v1/files/" + std::string(attached.header("BookSpace-File-Id")));
  CHECK(f.status == 200);
  CHECK(str(f, "document_id") == doc);

  auto pending = create(c, ann, 1000);
  REQUIRE(pending.status == 201);
  const std::string url(pending.header("Location"));
  REQUIRE(patch(c, ann, url, 0, std::string(300, 'p')).status == 204);
  CHECK(call(c, vic, "DELETE", url, "", tus_headers()).status == 404);
  CHECK(call(c, ann, "DELETE", url, "", tus_headers()).status == 204);
  CHECK(call(c, ann, "HEAD", url, "", tus_headers()).status == 404);
  CHECK(patch(c, ann, url, 300, "x").status == 404);
}

TEST_CASE("tus: a body cut off mid-way keeps what arrived; the client resumes from there") {
  TestApp app(generous(), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const std::string data(1 << 20, 'r');
  auto created = create(c, ann, data.size());
  REQUIRE(created.status == 201);
  const std::string url(created.header("Location"));
  {
    RawConnection raw(app.port());
    const std::size_t sent = 600 * 1024;
    REQUIRE(raw.send(
        "PATCH " + url + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ann.token +
        "\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
        "Content-Length: " +
        std::to_string(data.size()) + "\r\n\r\n" + data.substr(0, sent)));
  }  // closed with 424 KiB unsent
  std::string offset;
  REQUIRE(eventually([&] {
    offset = head_offset(c, ann, url);
    return offset != "0";
  }));
  const std::size_t at = std::stoul(offset);
  CHECK(at <= 600 * 1024);
  auto rest = patch(c, ann, url, at, data.substr(at));
  REQUIRE(rest.status == 204);
  const std::string file_id(rest.header("BookSpace-File-Id"));
  auto file = call(c, ann, "GET", "/api/v1/files/" + file_id + "/content");
  CHECK(file.body == data);
}

TEST_CASE("tus: a browser's CORS preflight on /uploads is the kernel's; discovery stays tus's") {
  TestApp app(generous([](app::Config& c) {
                c.set("server.cors_origins", boost::json::array{"https://app.example"});
              }),
              files_modules());
  auto c = app.client();
  auto pre = c.request("OPTIONS", "/api/v1/uploads", "",
                       {{"Origin", "https://app.example"},
                        {"Access-Control-Request-Method", "POST"},
                        {"Access-Control-Request-Headers", "tus-resumable, upload-length, upload-metadata"}});
  CHECK(pre.status == 204);
  CHECK(pre.header("Access-Control-Allow-Origin") == "https://app.example");
  CHECK(pre.header("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  CHECK(pre.header("Access-Control-Allow-Headers").find("Upload-Metadata") != std::string::npos);
  auto patch_pre = c.request("OPTIONS", "/api/v1/uploads/abc", "",
                             {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "PATCH"}});
  CHECK(patch_pre.header("Access-Control-Allow-Methods").find("PATCH") != std::string::npos);
  CHECK(patch_pre.header("Access-Control-Allow-Headers").find("Upload-Offset") != std::string::npos);
  auto discovery = c.request("OPTIONS", "/api/v1/uploads", "", {{"Origin", "https://app.example"}});
  CHECK(discovery.header("Tus-Version") == "1.0.0");
  CHECK(discovery.header("Access-Control-Expose-Headers").find("Tus-Version") != std::string::npos);
}

TEST_CASE("tus: an upload past its expiry is swept, rows and bytes") {
  TestApp app(generous([](app::Config& c) { c.set("files.gc_interval_s", 1); }), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto created = create(c, ann, 100);
  REQUIRE(created.status == 201);
  const std::string url(created.header("Location"));
  REQUIRE(patch(c, ann, url, 0, std::string(40, 'e')).status == 204);
  const fs::path uploads = fs::path(app.database().dir()) / "blobs" / "uploads";
  CHECK_FALSE(fs::is_empty(uploads));
  app.execute_sql("UPDATE files_uploads SET expires_at = 1");
  CHECK(call(c, ann, "HEAD", url, "", tus_headers()).status == 404);
  REQUIRE(eventually([&] { return fs::is_empty(uploads); }, std::chrono::seconds(15)));
  CHECK(app.query_strings("SELECT id FROM files_uploads").empty());
}
