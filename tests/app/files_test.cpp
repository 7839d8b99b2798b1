// The files module through the real Application and HTTP, on SQLite and PostgreSQL.
#include "files_helpers.hpp"
#include "test_app.hpp"

#include <bookspace/files/files.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <filesystem>
#include <thread>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

HttpResponse upload(HttpClient& c, Member const& who, std::string const& body, std::string const& query = "",
                    std::map<std::string, std::string> headers = {}) {
  headers["Authorization"] = "Bearer " + who.token;
  if (!headers.contains("Content-Type")) headers["Content-Type"] = "text/plain";
  return c.request("POST", "/api/v1/files" + query, body, headers);
}

std::string content_path(std::string const& id) {
  return "/api/v1/files/" + id + "/content";
}

std::size_t files_in(fs::path const& dir) {
  std::size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (auto const& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

}  // namespace

TEST_CASE("upload and download: metadata, ETag, 304, ranges, 416, HEAD, safe headers") {
  TestApp app(generous(), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  std::string body;
  for (int i = 0; i < 3000; ++i) body += "line " + std::to_string(i) + "\n";
  auto r = upload(c, ann, body, "?name=notes%20%C3%BC.txt");
  REQUIRE(r.status == 201);
  const std::string id = str(r, "id");
  CHECK(r.header("Location") == "/api/v1/files/" + id);
  CHECK(str(r, "name") == "notes ü.txt");
  CHECK(str(r, "content_type") == "text/plain");
  CHECK(r.json().at("size").to_number<std::size_t>() == body.size());
  CHECK(r.json().at("document_id").is_null());
  CHECK(r.json().at("owner_id").as_string() == ann.id);
  const std::string sha = str(r, "sha256");
  CHECK(sha.size() == 64);

  auto meta = call(c, ann, "GET", "/api/v1/files/" + id);
  CHECK(meta.status == 200);
  CHECK(str(meta, "sha256") == sha);

  auto whole = call(c, ann, "GET", content_path(id));
  REQUIRE(whole.status == 200);
  CHECK(whole.body == body);
  CHECK(whole.header("ETag") == "\"" + sha + "\"");
  CHECK(whole.header("Accept-Ranges") == "bytes");
  CHECK(whole.header("X-Content-Type-Options") == "nosniff");
  CHECK(whole.header("Cache-Control") == "private");
  CHECK(whole.header("Content-Type") == "text/plain");
  CHECK(whole.header("Content-Disposition") ==
        "attachment; filename=\"notes __.txt\"; filename*=UTF-8''notes%20%C3%BC.txt");

  CHECK(call(c, ann, "GET", content_path(id), "", {{"If-None-Match", "\"" + sha + "\""}}).status == 304);
  CHECK(call(c, ann, "GET", content_path(id), "", {{"If-None-Match", "\"other\""}}).status == 200);

  auto part = call(c, ann, "GET", content_path(id), "", {{"Range", "bytes=10-19"}});
  CHECK(part.status == 206);
  CHECK(part.body == body.substr(10, 10));
  CHECK(part.header("Content-Range") == "bytes 10-19/" + std::to_string(body.size()));
  auto tail = call(c, ann, "GET", content_path(id), "", {{"Range", "bytes=-5"}});
  CHECK(tail.status == 206);
  CHECK(tail.body == body.substr(body.size() - 5));
  auto from = call(c, ann, "GET", content_path(id), "",
                   {{"Range", "bytes=" + std::to_string(body.size() - 3) + "-"}});
  CHECK(from.body == body.substr(body.size() - 3));
  auto multi = call(c, ann, "GET", content_path(id), "", {{"Range", "bytes=0-1,5-6"}});
  CHECK(multi.status == 200);
  CHECK(multi.body == body);
  auto past =
      call(c, ann, "GET", content_path(id), "", {{"Range", "bytes=" + std::to_string(body.size()) + "-"}});
  CHECK(past.status == 416);
  CHECK(past.header("Content-Range") == "bytes */" + std::to_string(body.size()));
  CHECK(past.json().at("code") == "range_not_satisfiable");

  auto head = call(c, ann, "HEAD", content_path(id));
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == std::to_string(body.size()));
  CHECK(head.body.empty());

  CHECK(call(c, ann, "DELETE", "/api/v1/files/" + id).status == 204);
  CHECK(call(c, ann, "GET", "/api/v1/files/" + id).status == 404);
  CHECK(call(c, ann, "GET", content_path(id)).status == 404);
}

TEST_CASE("files: strangers see nothing; a document's readers read its files, only the owner deletes") {
  TestApp app(generous(), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto vic = join(c, "vic@example.com");
  auto eve = join(c, "eve@example.com");
  const std::string doc = create_doc(c, ann, "Plans");
  REQUIRE(call(c, ann, "PUT", doc_path(doc, "/shares/" + vic.id), R"({"role":"viewer"})").status == 200);

  auto r = upload(c, ann, "attached bytes", "?name=a.txt&document_id=" + doc);
  REQUIRE(r.status == 201);
  const std::string id = str(r, "id");
  CHECK(r.json().at("document_id").as_string() == doc);
  auto own = str(upload(c, ann, "private bytes", "?name=p.txt"), "id");

  // The viewer reads the attached file (metadata, content, HEAD, Range), not the private one.
  CHECK(call(c, vic, "GET", "/api/v1/files/" + id).status == 200);
  CHECK(call(c, vic, "GET", content_path(id)).body == "attached bytes");
  CHECK(call(c, vic, "HEAD", content_path(id)).status == 200);
  CHECK(call(c, vic, "GET", content_path(id), "", {{"Range", "bytes=0-7"}}).body == "attached");
  CHECK(call(c, vic, "DELETE", "/api/v1/files/" + id).status == 403);
  CHECK(call(c, vic, "GET", "/api/v1/files/" + own).status == 404);
  // A viewer may not attach; a stranger's document does not exist for them.
  CHECK(upload(c, vic, "x", "?document_id=" + doc).status == 403);
  CHECK(upload(c, eve, "x", "?document_id=" + doc).status == 400);
  // The stranger: 404 everywhere.
  for (auto const& f : {id, own}) {
    CHECK(call(c, eve, "GET", "/api/v1/files/" + f).status == 404);
    CHECK(call(c, eve, "GET", content_path(f)).status == 404);
    CHECK(call(c, eve, "HEAD", content_path(f)).status == 404);
    CHECK(call(c, eve, "GET", content_path(f), "", {{"Range", "bytes=0-1"}}).status == 404);
    CHECK(call(c, eve, "DELETE", "/api/v1/files/" + f).status == 404);
  }
  CHECK(c.get(content_path(id)).status == 401);

  // Lists: own files; a document's files for its readers.
  auto mine = call(c, ann, "GET", "/api/v1/files?limit=1");
  REQUIRE(mine.status == 200);
  CHECK(mine.json().at("items").as_array().size() == 1);
  CHECK(all_ids(c, ann, "/api/v1/files?limit=1").size() == 2);
  auto attached = call(c, vic, "GET", "/api/v1/files?document_id=" + doc);
  REQUIRE(attached.json().at("items").as_array().size() == 1);
  CHECK(call(c, vic, "GET", "/api/v1/files").json().at("items").as_array().empty());
  CHECK(call(c, eve, "GET", "/api/v1/files?document_id=" + doc).status == 400);
}

TEST_CASE("identical content is stored once; deleting one file keeps the blob for the other") {
  TestApp app(generous([](app::Config& c) {
                c.set("files.blob_grace_s", 0);
                c.set("files.gc_interval_s", 1);
              }),
              files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto bob = join(c, "bob@example.com");
  // At the same time: both stream into temporary files, both rename into the one hash name.
  const std::string same(3 << 20, 's');
  HttpResponse a, b;
  {
    std::thread ta([&] {
      auto ca = app.client();
      a = upload(ca, ann, same, "?name=a.txt");
    });
    std::thread tb([&] {
      auto cb = app.client();
      b = upload(cb, bob, same, "?name=b.txt");
    });
    ta.join();
    tb.join();
  }
  REQUIRE(a.status == 201);
  REQUIRE(b.status == 201);
  const std::string sha = str(a, "sha256");
  CHECK(str(b, "sha256") == sha);
  CHECK(app.query_strings("SELECT CAST(refs AS TEXT) FROM files_blobs WHERE sha256 = '" + sha + "'") ==
        std::vector<std::string>{"2"});
  const fs::path blobs = fs::path(app.database().dir()) / "blobs" / "sha256";
  CHECK(files_in(blobs) == 1);
  REQUIRE(call(c, ann, "DELETE", "/api/v1/files/" + str(a, "id")).status == 204);
  CHECK(app.query_strings("SELECT CAST(refs AS TEXT) FROM files_blobs WHERE sha256 = '" + sha + "'") ==
        std::vector<std::string>{"1"});
  CHECK(call(c, bob, "GET", content_path(str(b, "id"))).body == same);
  REQUIRE(call(c, bob, "DELETE", "/api/v1/files/" + str(b, "id")).status == 204);
  // Unreferenced and past the grace: the GC removes it.
  REQUIRE(eventually([&] { return files_in(blobs) == 0; }, std::chrono::seconds(15)));
  CHECK(app.query_strings("SELECT sha256 FROM files_blobs").empty());
}

TEST_CASE("limits: size over the limit is a 413, quota by one byte a 507; nothing is left behind") {
  TestApp app(generous([](app::Config& c) {
                c.set("files.max_file_bytes", 1000);
                c.set("files.quota_bytes", 1500);
              }),
              files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  CHECK(upload(c, ann, std::string(1001, 'x')).status == 413);
  REQUIRE(upload(c, ann, std::string(1000, 'a')).status == 201);
  auto over = upload(c, ann, std::string(501, 'b'));
  CHECK(over.status == 507);
  CHECK(over.json().at("code") == "quota_exceeded");
  CHECK(upload(c, ann, std::string(500, 'c')).status == 201);  // exactly at the quota
  CHECK(upload(c, ann, "d").status == 507);
  // Chunked over the quota (no Content-Length to refuse up front): refused while streaming.
  auto bob = join(c, "bob@example.com");
  REQUIRE(upload(c, bob, std::string(700, 'e')).status == 201);
  RawConnection raw(app.port());
  raw.send("POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + bob.token +
           "\r\nTransfer-Encoding: chunked\r\n\r\n1c2\r\n" + std::string(450, 'f') + "\r\n1c2\r\n" +
           std::string(450, 'f') + "\r\n0\r\n\r\n");
  auto refused = raw.read_until("}");
  INFO(refused);
  CHECK(refused.find("507 Insufficient Storage") != std::string::npos);
  const fs::path tmp = fs::path(app.database().dir()) / "blobs" / "tmp";
  CHECK(eventually([&] { return files_in(tmp) == 0; }));
  CHECK(app.query_strings("SELECT id FROM files_files").size() == 3);
}

TEST_CASE("names: paths cut to their last part, hostile names refused") {
  TestApp app(generous(), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  CHECK(str(upload(c, ann, "x", "?name=..%2F..%2Fetc%2Fpasswd"), "name") == "passwd");
  CHECK(str(upload(c, ann, "x", "?name=..%5Cwin.ini"), "name") == "win.ini");
  CHECK(str(upload(c, ann, "x"), "name") == "file");
  for (auto bad : {"?name=..", "?name=a%00b", "?name=evil%E2%80%AEtxt.exe", "?name=%FF"}) {
    INFO(bad);
    auto r = upload(c, ann, "x", bad);
    CHECK(r.status == 400);
  }
  CHECK(upload(c, ann, "x", "?name=" + std::string(300, 'n')).status == 400);
}

TEST_CASE("a purged document takes its files with it") {
  TestApp app(generous(), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const std::string doc = create_doc(c, ann, "Doomed");
  const std::string attached = str(upload(c, ann, "attached", "?document_id=" + doc), "id");
  const std::string kept = str(upload(c, ann, "kept"), "id");
  REQUIRE(call(c, ann, "DELETE", doc_path(doc)).status == 204);
  CHECK(call(c, ann, "GET", "/api/v1/files/" + attached).status == 200);  // trashed: still the owner's
  REQUIRE(call(c, ann, "DELETE", "/api/v1/trash/" + doc).status == 204);
  REQUIRE(eventually([&] { return call(c, ann, "GET", "/api/v1/files/" + attached).status == 404; }));
  CHECK(call(c, ann, "GET", "/api/v1/files/" + kept).status == 200);
  CHECK(app.query_strings("SELECT type FROM events WHERE aggregate_id = '" + attached + "' ORDER BY seq") ==
        std::vector<std::string>{"files.uploaded.v1", "files.deleted.v1"});
}

TEST_CASE("signed links: work without auth until they expire; tampered → 404, expired → 410; Range too") {
  TestApp app(generous(), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto eve = join(c, "eve@example.com");
  const std::string id = str(upload(c, ann, "0123456789", "?name=digits.txt"), "id");
  auto made = call(c, ann, "POST", "/api/v1/files/" + id + "/links", R"({"expires_in":60})");
  REQUIRE(made.status == 201);
  const std::string url = str(made, "url");
  CHECK(url.starts_with("/api/v1/files/" + id + "/content?expires="));
  CHECK(made.json().at("expires_at").is_string());
  auto anonymous = c.get(url);
  CHECK(anonymous.status == 200);
  CHECK(anonymous.body == "0123456789");
  auto ranged = c.get(url, {{"Range", "bytes=2-4"}});
  CHECK(ranged.status == 206);
  CHECK(ranged.body == "234");
  CHECK(c.request("HEAD", url).status == 200);

  // Tampered: another file's id, another expiry, another signature.
  const std::string other = str(upload(c, ann, "secret", "?name=s.txt"), "id");
  std::string swapped = url;
  swapped.replace(swapped.find(id), id.size(), other);
  CHECK(c.get(swapped).status == 404);
  std::string later = url;
  const auto e = later.find("expires=") + 8;
  later[e] = later[e] == '9' ? '8' : static_cast<char>(later[e] + 1);
  CHECK(c.get(later).status == 404);
  std::string forged = url;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  CHECK(c.get(forged).status == 404);
  CHECK(c.get("/api/v1/files/" + id + "/content?expires=99999999999&signature=x").status == 404);
  CHECK(c.get("/api/v1/files/" + id + "/content").status == 401);

  // Expired: a link made for one second, read after it.
  auto brief = call(c, ann, "POST", "/api/v1/files/" + id + "/links", R"({"expires_in":1})");
  REQUIRE(brief.status == 201);
  REQUIRE(eventually([&] { return c.get(str(brief, "url")).status == 410; }, std::chrono::seconds(5)));
  CHECK(c.get(str(brief, "url")).json().at("code") == "link_expired");

  // Only who may read the file makes links; bounds on expires_in.
  CHECK(call(c, eve, "POST", "/api/v1/files/" + id + "/links", R"({"expires_in":60})").status == 404);
  for (auto bad : {R"({"expires_in":0})", R"({"expires_in":604801})", R"({"expires_in":"60"})", R"({})",
                   R"({"expires_in":60,"x":1})"}) {
    CHECK(call(c, ann, "POST", "/api/v1/files/" + id + "/links", bad).status == 400);
  }
  // A deleted file's link stops working.
  REQUIRE(call(c, ann, "DELETE", "/api/v1/files/" + id).status == 204);
  CHECK(c.get(url).status == 404);
}

TEST_CASE("content type: sniffed from the first bytes; the claim kept where it agrees; allow-list → 415") {
  TestApp app(generous([](app::Config& c) {
                c.set("files.allowed_types", json::array{"text/*", "application/pdf"});
              }),
              files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const std::string pdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
  auto disguised = upload(c, ann, pdf, "?name=x.html", {{"Content-Type", "text/html"}});
  REQUIRE(disguised.status == 201);
  CHECK(str(disguised, "content_type") == "application/pdf");
  auto md = upload(c, ann, "# Title\n\nSome *text*.\n", "?name=a.md", {{"Content-Type", "text/markdown"}});
  CHECK(str(md, "content_type") == "text/markdown");
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89",
                        33);
  auto image = upload(c, ann, png, "?name=a.png", {{"Content-Type", "image/png"}});
  CHECK(image.status == 415);
  CHECK(image.json().at("code") == "unsupported_media_type");
  CHECK(app.query_strings("SELECT id FROM files_files").size() == 2);
}

TEST_CASE("multipart/form-data uploads: the part named file, its filename and type") {
  TestApp app(generous(), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  const std::string content = "# Notes\n\nfrom a form\n";
  const std::string form =
      "--b0und\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nhello\r\n"
      "--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\x\\\\notes.md\"\r\n"
      "Content-Type: text/markdown\r\n\r\n" +
      content + "\r\n--b0und--\r\n";
  auto r = upload(c, ann, form, "", {{"Content-Type", "multipart/form-data; boundary=b0und"}});
  REQUIRE(r.status == 201);
  CHECK(str(r, "name") == "notes.md");
  CHECK(str(r, "content_type") == "text/markdown");
  CHECK(r.json().at("size").to_number<std::size_t>() == content.size());
  CHECK(call(c, ann, "GET", content_path(str(r, "id"))).body == content);
  // ?name= wins over the part's filename.
  CHECK(
      str(upload(c, ann, form, "?name=chosen.md", {{"Content-Type", "multipart/form-data; boundary=b0und"}}),
          "name") == "chosen.md");
  // Malformed forms and forms without a file part: 400, nothing stored.
  auto none =
      upload(c, ann, "--b0und\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--b0und--\r\n", "",
             {{"Content-Type", "multipart/form-data; boundary=b0und"}});
  CHECK(none.status == 400);
  CHECK(upload(c, ann, "garbage", "", {{"Content-Type", "multipart/form-data; boundary=b0und"}}).status ==
        400);
  CHECK(upload(c, ann, "x", "", {{"Content-Type", "multipart/form-data"}}).status == 400);
  CHECK(app.query_strings("SELECT id FROM files_files").size() == 2);
}

TEST_CASE("quotas: your usage; administrators set a user's quota, or none, or back to the default") {
  TestApp app(generous([](app::Config& c) { c.set("files.quota_bytes", 100); }), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto root = join(c, "root@example.com");
  app.execute_sql("UPDATE auth_accounts SET role = 'admin' WHERE id = '" + root.id + "'");
  auto login = c.post_json("/api/v1/auth/login",
                           {{"email", "root@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(login.status == 200);
  root.token = str(login, "access_token");

  REQUIRE(upload(c, ann, std::string(60, 'a')).status == 201);
  auto usage = call(c, ann, "GET", "/api/v1/files/usage");
  REQUIRE(usage.status == 200);
  CHECK(usage.json().at("used_bytes") == 60);
  CHECK(usage.json().at("quota_bytes") == 100);
  CHECK(upload(c, ann, std::string(41, 'b')).status == 507);

  const std::string path = "/api/v1/quotas/" + ann.id;
  CHECK(call(c, ann, "PUT", path, R"({"quota_bytes":1000})").status == 403);
  auto raised = call(c, root, "PUT", path, R"({"quota_bytes":1000})");
  REQUIRE(raised.status == 200);
  CHECK(raised.json().at("quota_bytes") == 1000);
  CHECK(upload(c, ann, std::string(41, 'b')).status == 201);
  auto unlimited = call(c, root, "PUT", path, R"({"quota_bytes":0})");
  CHECK(unlimited.json().at("quota_bytes").is_null());
  CHECK(upload(c, ann, std::string(2000, 'c')).status == 201);
  auto reset = call(c, root, "PUT", path, R"({"quota_bytes":null})");
  CHECK(reset.json().at("quota_bytes") == 100);
  CHECK(upload(c, ann, "d").status == 507);
  for (auto bad :
       {R"({"quota_bytes":-1})", R"({"quota_bytes":"5"})", R"({})", R"({"quota_bytes":5,"x":1})"}) {
    CHECK(call(c, root, "PUT", path, bad).status == 400);
  }
}

TEST_CASE("Idempotency-Key on a streamed upload: replayed with the same body, 422 with another") {
  TestApp app(generous([](app::Config& c) { c.set("files.quota_bytes", 100); }), files_modules());
  auto c = app.client();
  auto ann = join(c, "ann@example.com");
  auto first = upload(c, ann, "the bytes", "?name=a.txt", {{"Idempotency-Key", "up-1"}});
  REQUIRE(first.status == 201);
  auto again = upload(c, ann, "the bytes", "?name=a.txt", {{"Idempotency-Key", "up-1"}});
  CHECK(again.status == 201);
  CHECK(again.header("Idempotent-Replayed") == "true");
  CHECK(str(again, "id") == str(first, "id"));
  auto other = upload(c, ann, "other bytes", "?name=a.txt", {{"Idempotency-Key", "up-1"}});
  CHECK(other.status == 422);
  CHECK(other.json().at("code") == "idempotency_conflict");
  CHECK(upload(c, ann, "the bytes", "?name=b.txt", {{"Idempotency-Key", "up-1"}}).status ==
        422);  // another target
  CHECK(call(c, ann, "GET", "/api/v1/files").json().at("items").as_array().size() == 1);
  // A refusal is not remembered: the retry runs again (and is refused again).
  const std::string big(200, 'x');
  CHECK(upload(c, ann, big, "", {{"Idempotency-Key", "up-2"}}).status == 507);
  auto retry = upload(c, ann, big, "", {{"Idempotency-Key", "up-2"}});
  CHECK(retry.status == 507);
  CHECK(retry.header("Idempotent-Replayed").empty());
  auto fits = upload(c, ann, "small", "", {{"Idempotency-Key", "up-2"}});
  CHECK(fits.status == 201);
}

TEST_CASE("downloads are cached per instance; another instance's deletion shows within files.cache_ms") {
  TestApp one(generous([](app::Config& c) { c.set("files.cache_ms", 300); }), files_modules());
  const std::string url = one.database().url();
  const std::string blobs = (fs::path(one.database().dir()) / "blobs").string();
  TestApp two(generous([&](app::Config& c) {
                c.set("database.url", boost::json::string(url));
                c.set("files.storage_dir", boost::json::string(blobs));
                c.set("files.cache_ms", 300);
              }),
              files_modules());
  auto c1 = one.client();
  auto c2 = two.client();
  auto ann = join(c1, "ann@example.com");
  auto login = c2.post_json("/api/v1/auth/login",
                            {{"email", "ann@example.com"}, {"password", "correct horse battery"}});
  REQUIRE(login.status == 200);
  const Member ann2{ann.id, str(login, "access_token")};
  auto up = upload(c1, ann, "cached bytes", "?name=c.txt");
  REQUIRE(up.status == 201);
  const std::string id = str(up, "id");
  for (int i = 0; i < 3; ++i) {
    CHECK(call(c2, ann2, "GET", content_path(id)).body == "cached bytes");
    CHECK(call(c1, ann, "GET", content_path(id), "", {{"Range", "bytes=0-5"}}).body == "cached");
  }
  REQUIRE(call(c1, ann, "DELETE", "/api/v1/files/" + id).status == 204);
  CHECK(call(c1, ann, "GET", content_path(id)).status == 404);  // this instance: at once
  REQUIRE(eventually([&] { return call(c2, ann2, "GET", content_path(id)).status == 404; }));
}
