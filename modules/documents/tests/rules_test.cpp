#include "rules.hpp"

#include "core/error.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

using namespace bookspace::documents;
namespace json = boost::json;

namespace {
int status_of(auto const& f) {
  try {
    f();
  } catch (bookspace::core::ApiError const& e) {
    return bookspace::core::http_status(e.error().code);
  }
  return 0;
}
}  // namespace

TEST_CASE("titles are trimmed and limited to 500 characters, counted as characters") {
  CHECK(title_value(json::value("  Plan  ")) == "Plan");
  CHECK(status_of([] { title_value(json::value("   ")); }) == 400);
  CHECK(status_of([] { title_value(json::value(5)); }) == 400);
  CHECK(status_of([] { title_value(json::value("a\nb")); }) == 400);
  std::string five_hundred_e_acute;
  for (int i = 0; i < 500; ++i) five_hundred_e_acute += "\xc3\xa9";
  CHECK(title_value(json::value(five_hundred_e_acute)).size() == 1000);
  CHECK(status_of([&] { title_value(json::value(five_hundred_e_acute + "x")); }) == 400);
}

TEST_CASE("content is limited to 1 MiB (413) and may not hold NUL") {
  CHECK(content_value(json::value(std::string(max_content_bytes, 'a'))).size() == max_content_bytes);
  CHECK(status_of([] { content_value(json::value(std::string(max_content_bytes + 1, 'a'))); }) == 413);
  CHECK(status_of([] { content_value(json::value(std::string("a\0b", 3))); }) == 400);
}

TEST_CASE("tags are normalized, deduplicated and bounded") {
  auto tags = tags_value(json::parse(R"(["  Work ", "work", "Big   Plans", "été"])"));
  CHECK(tags == std::vector<std::string>{"work", "big plans", "été"});
  CHECK(normalize_tag("") == std::nullopt);
  CHECK(normalize_tag(std::string(65, 'x')) == std::nullopt);
  CHECK(normalize_tag(std::string(64, 'x')).has_value());
  json::array many;
  for (int i = 0; i < 32; ++i) many.emplace_back("t" + std::to_string(i));
  CHECK(tags_value(many).size() == 32);
  many.emplace_back("t0");  // a duplicate does not count
  CHECK(tags_value(many).size() == 32);
  many.emplace_back("t32");
  CHECK(status_of([&] { tags_value(many); }) == 400);
  CHECK(status_of([] { tags_value(json::parse(R"(["a", 1])")); }) == 400);
  CHECK(status_of([] { tags_value(json::parse(R"("a")")); }) == 400);
}

TEST_CASE("entity tags: strong for If-Match, weak allowed for If-None-Match, lists and *") {
  CHECK(etag(7) == "\"7\"");
  CHECK(etag_matches("\"7\"", 7, false));
  CHECK_FALSE(etag_matches("\"6\"", 7, false));
  CHECK_FALSE(etag_matches("W/\"7\"", 7, false));
  CHECK(etag_matches("W/\"7\"", 7, true));
  CHECK(etag_matches("\"5\", \"7\"", 7, false));
  CHECK(etag_matches("*", 7, false));
  CHECK_FALSE(etag_matches("7", 7, false));
  CHECK_FALSE(etag_matches("", 7, false));
}
