#include "http/router.hpp"

#include <doctest/doctest.h>

using namespace bookspace;
using http::Method;
using http::Router;

namespace {
http::Handler noop() {
  return [](http::Request&) -> core::Awaitable<http::Response> { co_return http::Response::no_content(); };
}
}  // namespace

TEST_CASE("router matches templates and decodes parameters") {
  Router r;
  r.add(Method::get, "/api/v1/documents", noop());
  r.add(Method::get, "/api/v1/documents/{id}", noop());
  r.add(Method::patch, "/api/v1/documents/{id}", noop());
  r.add(Method::get, "/api/v1/documents/{id}/versions/{n}", noop());

  auto m = r.match(Method::get, "/api/v1/documents/abc%20def");
  REQUIRE(m.outcome == Router::Outcome::found);
  CHECK(m.route->pattern == "/api/v1/documents/{id}");
  REQUIRE(m.params.size() == 1);
  CHECK(m.params[0].second == "abc def");

  m = r.match(Method::get, "/api/v1/documents/7/versions/3");
  REQUIRE(m.outcome == Router::Outcome::found);
  CHECK(m.params[0].second == "7");
  CHECK(m.params[1].first == "n");
  CHECK(m.params[1].second == "3");

  m = r.match(Method::get, "/api/v1/documents");
  CHECK(m.route->pattern == "/api/v1/documents");
}

TEST_CASE("router answers not found and method not allowed with Allow") {
  Router r;
  r.add(Method::get, "/a/{id}", noop());
  r.add(Method::patch, "/a/{id}", noop());
  CHECK(r.match(Method::get, "/b").outcome == Router::Outcome::not_found);
  CHECK(r.match(Method::get, "/a").outcome == Router::Outcome::not_found);
  CHECK(r.match(Method::get, "/a/").outcome == Router::Outcome::not_found);
  CHECK(r.match(Method::get, "a/1").outcome == Router::Outcome::not_found);
  auto m = r.match(Method::del, "/a/1");
  CHECK(m.outcome == Router::Outcome::method_not_allowed);
  CHECK(m.allow == "GET, PATCH, HEAD, OPTIONS");
}

TEST_CASE("HEAD falls back to the GET route") {
  Router r;
  r.add(Method::get, "/x", noop());
  auto m = r.match(Method::head, "/x");
  REQUIRE(m.outcome == Router::Outcome::found);
  CHECK(m.route->method == Method::get);
}

TEST_CASE("a malformed percent-escape in a parameter does not match") {
  Router r;
  r.add(Method::get, "/a/{id}", noop());
  CHECK(r.match(Method::get, "/a/%zz").outcome == Router::Outcome::not_found);
}

TEST_CASE("duplicate and malformed routes are refused at registration") {
  Router r;
  r.add(Method::get, "/a/{id}", noop());
  CHECK_THROWS(r.add(Method::get, "/a/{other}", noop()));
  CHECK_THROWS(r.add(Method::get, "no-slash", noop()));
  CHECK_THROWS(r.add(Method::get, "/a//b", noop()));
}
