#include "http/wire.hpp"

#include <doctest/doctest.h>

using namespace bookspace::http;

TEST_CASE("response heads: status line, length, connection") {
  Response res = Response::text(404, "nope");
  res.headers.add("X-Thing", "a");
  CHECK(serialize_head(res, true, false) ==
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Thing: a\r\n"
        "Content-Length: 4\r\n\r\n");
  CHECK(serialize_head(res, false, false).ends_with("Content-Length: 4\r\nConnection: close\r\n\r\n"));
  CHECK(serialize_head(res, true, true).ends_with("Connection: keep-alive\r\n\r\n"));
  CHECK(serialize_head(Response::no_content(), true, false) == "HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(serialize_head(Response{299, {}, ""}, true, false).starts_with("HTTP/1.1 299 Unknown\r\n"));
}

TEST_CASE("Date headers are IMF-fixdate") {
  CHECK(http_date(1795341600) == "Sun, 22 Nov 2026 10:00:00 GMT");
  auto head = serialize_head(Response::no_content(), true, false, "Sun, 22 Nov 2026 10:00:00 GMT");
  CHECK(head == "HTTP/1.1 204 No Content\r\nDate: Sun, 22 Nov 2026 10:00:00 GMT\r\n\r\n");
}

TEST_CASE("header values cannot split the response") {
  Response res{200, {}, ""};
  res.headers.add("Content-Disposition", "attachment; filename=\"a\r\nSet-Cookie: x=1\"");
  res.headers.add("Content-Length", "999");
  res.headers.add("Connection", "upgrade");
  auto head = serialize_head(res, true, false);
  CHECK(head.find("\r\nSet-Cookie") == std::string::npos);
  CHECK(head.find("999") == std::string::npos);
  CHECK(head.find("upgrade") == std::string::npos);
  CHECK(head.find("Content-Length: 0\r\n") != std::string::npos);
}
