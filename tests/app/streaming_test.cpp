// Streamed request bodies (RouteOptions::stream_body): the handler reads chunks as they arrive,
// the route's limit holds for chunked bodies too, and a client that stops sending or is cut off
// costs a closed connection, never a crash or a buffered body. Through the probe route
// POST /api/v1/probe/stream (limit 1 MiB).
#include "test_app.hpp"

#include "core/text.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <sodium.h>

#include <fstream>
#include <sstream>
#include <thread>

using namespace bookspace;
using namespace bookspace::testing;
namespace json = boost::json;

namespace {

std::string sha256_hex(std::string const& data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<unsigned char const*>(data.data()), data.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  return s;
}

std::string chunked(std::string const& body, std::size_t piece) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); i += piece) {
    auto part = body.substr(i, piece);
    std::ostringstream size;
    size << std::hex << part.size();
    out += size.str() + "\r\n" + part + "\r\n";
  }
  return out + "0\r\n\r\n";
}

json::value body_of(std::string const& response) {
  auto at = response.find("\r\n\r\n");
  REQUIRE(at != std::string::npos);
  return json::parse(response.substr(at + 4));
}

}  // namespace

TEST_CASE("a streamed body arrives in bounded chunks, whole, with Content-Length or chunked") {
  TestApp app;
  auto c = app.client();
  const std::string body = pattern(900 * 1024);
  auto r = c.request("POST", "/api/v1/probe/stream", body, {{"Content-Type", "application/octet-stream"}});
  REQUIRE(r.status == 200);
  auto j = r.json();
  CHECK(j.at("bytes").to_number<std::size_t>() == body.size());
  CHECK(j.at("sha256").as_string() == sha256_hex(body));
  CHECK(j.at("largest_chunk").as_int64() <= 512 * 1024);
  CHECK(j.at("declared").to_number<std::size_t>() == body.size());

  RawConnection raw(app.port());
  REQUIRE(raw.send("POST /api/v1/probe/stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   chunked(body, 10'000)));
  auto first = raw.read_until("}");
  REQUIRE(first.find("200 OK") != std::string::npos);
  auto jc = body_of(first);
  CHECK(jc.at("bytes").to_number<std::size_t>() == body.size());
  CHECK(jc.at("sha256").as_string() == sha256_hex(body));
  CHECK(jc.at("declared").is_null());
  // The connection stays usable after a body read to its end.
  REQUIRE(raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(raw.read_until("\"ok\"").find("\"status\":\"ok\"") != std::string::npos);
}

TEST_CASE("a streamed body over the limit is a 413 as soon as it crosses it; the connection closes") {
  TestApp app;
  const std::string body = pattern(1024 * 1024 + 1);
  {  // declared too long: refused before the handler runs
    RawConnection raw(app.port());
    raw.send("POST /api/v1/probe/stream HTTP/1.1\r\nHost: x\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n");
    CHECK(raw.read_until("\r\n\r\n").find("413") != std::string::npos);
    CHECK(raw.closed_within(std::chrono::seconds(5)));
  }
  {  // chunked: cut at the limit, though the client would send more
    RawConnection raw(app.port());
    raw.send("POST /api/v1/probe/stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    raw.send(chunked(body + pattern(2 * 1024 * 1024), 64 * 1024).substr(0, 1200 * 1024));
    auto answer = raw.read_until("}");
    CHECK(answer.find("413") != std::string::npos);
    CHECK(answer.find("payload_too_large") != std::string::npos);
    CHECK(raw.closed_within(std::chrono::seconds(5)));
  }
  auto c = app.client();
  CHECK(c.get("/healthz").status == 200);
}

TEST_CASE("a handler that stops reading answers, and the unread rest closes the connection") {
  TestApp app;
  RawConnection raw(app.port());
  const std::string body = pattern(800 * 1024);
  raw.send("POST /api/v1/probe/stream?stop_after=1000 HTTP/1.1\r\nHost: x\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 300 * 1024));
  auto answer = raw.read_until("}");
  CHECK(answer.find("200 OK") != std::string::npos);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(raw.closed_within(std::chrono::seconds(5)));
}

TEST_CASE("a client cut off mid-body gets no answer and costs nothing else") {
  TestApp app([](app::Config& c) { c.set("server.read_timeout_ms", 300); });
  {
    RawConnection raw(app.port());
    raw.send("POST /api/v1/probe/stream HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n" +
             pattern(1000));
    // Stalls: the read timeout ends it without an answer the client would take for success.
    CHECK(raw.closed_within(std::chrono::seconds(5)));
    CHECK(raw.received().find("200 OK") == std::string::npos);
  }
  {
    RawConnection raw(app.port());
    raw.send("POST /api/v1/probe/stream HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n" +
             pattern(1000));
  }  // closed by the client mid-body
  auto c = app.client();
  CHECK(c.get("/healthz").status == 200);
  auto r = c.request("POST", "/api/v1/probe/stream", "abc", {});
  CHECK(r.status == 200);
  CHECK(r.json().at("bytes") == 3);
}

TEST_CASE("a file body goes out whole or in part (sendfile), and HEAD announces its length") {
  TestApp app;
  ScratchDir dir;
  const std::string path = dir.path() + "/blob";
  const std::string content = pattern(5 * 1024 * 1024 + 17);
  {
    std::ofstream out(path, std::ios::binary);
    out << content;
  }
  auto c = app.client();
  auto whole = c.get("/api/v1/probe/file?path=" + path);
  REQUIRE(whole.status == 200);
  CHECK(whole.body.size() == content.size());
  CHECK(whole.body == content);
  auto part = c.get("/api/v1/probe/file?path=" + path + "&offset=1000&length=70000");
  CHECK(part.body == content.substr(1000, 70000));
  auto head = c.request("HEAD", "/api/v1/probe/file?path=" + path, "", {});
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == std::to_string(content.size()));
  CHECK(head.body.empty());
  // Keep-alive goes on after a file body.
  CHECK(c.get("/healthz").status == 200);
}

TEST_CASE("a client that goes away mid-download ends only its own connection (no SIGPIPE)") {
  TestApp app;
  ScratchDir dir;
  const std::string path = dir.path() + "/big";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(64 * 1024 * 1024, 'b');
  }
  for (int i = 0; i < 3; ++i) {
    RawConnection raw(app.port());
    raw.send("GET /api/v1/probe/file?path=" + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    raw.read_until("bbbb");
  }  // closed with most of the body unsent
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(app.client().get("/healthz").status == 200);
}
