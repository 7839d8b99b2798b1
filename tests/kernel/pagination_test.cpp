#include "http/pagination.hpp"

#include <doctest/doctest.h>

using namespace bookspace::http;

TEST_CASE("cursors round-trip and refuse anything else") {
  Cursor c{"title", "a \"quoted\" title", "0190-id"};
  auto back = decode_cursor(encode_cursor(c));
  REQUIRE(back);
  CHECK(back->sort == c.sort);
  CHECK(back->key == c.key);
  CHECK(back->id == c.id);
  CHECK_FALSE(decode_cursor("not a cursor!"));
  CHECK_FALSE(decode_cursor(""));
  CHECK_FALSE(decode_cursor("YWJj"));  // "abc": no separators
}

TEST_CASE("a cursor is accepted only by a list of its own kind") {
  Request req;
  req.query = "cursor=" + encode_cursor({"sessions", "17", "abc"});
  CHECK(cursor_param(req, "sessions")->id == "abc");
  CHECK(integer_key(*cursor_param(req, "sessions")) == 17);
  CHECK_THROWS_AS(cursor_param(req, "api_keys"), bookspace::core::ApiError);
  req.query = "cursor=garbage";
  CHECK_THROWS_AS(cursor_param(req, "sessions"), bookspace::core::ApiError);
  req.query = "";
  CHECK_FALSE(cursor_param(req, "sessions"));
}
