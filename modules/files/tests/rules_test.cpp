#include "rules.hpp"

#include "core/error.hpp"

#include <doctest/doctest.h>

using namespace bookspace::files;

TEST_CASE("names: the last component, trimmed; hostile ones refused") {
  CHECK(sanitize_name(std::nullopt) == "file");
  CHECK(sanitize_name("") == "file");
  CHECK(sanitize_name("  ") == "file");
  CHECK(sanitize_name("report.pdf") == "report.pdf");
  CHECK(sanitize_name("../../etc/passwd") == "passwd");
  CHECK(sanitize_name("..\\..\\x.txt") == "x.txt");
  CHECK(sanitize_name("/abs/path/a b.txt ") == "a b.txt");
  CHECK(sanitize_name("Bücher – 2026.md") == "Bücher – 2026.md");
  for (std::string bad : {std::string(".."), std::string("a/.."), std::string("dir/"), std::string("x\0y", 3),
                          std::string("evil\u202Etxt.exe"), std::string(10'000, 'a'), std::string(256, 'b'),
                          std::string("\xff\xfe")}) {
    CHECK_THROWS_AS(sanitize_name(bad), bookspace::core::ApiError);
  }
  CHECK(sanitize_name(std::string(255, 'c')).size() == 255);
}

TEST_CASE("ranges: one range served, bad ones ignored, past the end unsatisfiable") {
  auto r = parse_range("bytes=0-99", 1000);
  CHECK(r.kind == RangeKind::partial);
  CHECK(r.range.first == 0);
  CHECK(r.range.last == 99);
  r = parse_range("bytes=900-", 1000);
  CHECK((r.kind == RangeKind::partial && r.range.first == 900 && r.range.last == 999));
  r = parse_range("bytes=-100", 1000);
  CHECK((r.kind == RangeKind::partial && r.range.first == 900 && r.range.last == 999));
  r = parse_range("bytes=-5000", 1000);
  CHECK((r.kind == RangeKind::partial && r.range.first == 0 && r.range.last == 999));
  r = parse_range("bytes=500-5000", 1000);
  CHECK((r.kind == RangeKind::partial && r.range.last == 999));
  CHECK(parse_range("bytes=1000-", 1000).kind == RangeKind::unsatisfiable);
  CHECK(parse_range("bytes=-0", 1000).kind == RangeKind::unsatisfiable);
  CHECK(parse_range("bytes=0-", 0).kind == RangeKind::unsatisfiable);
  for (auto ignored : {"bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes=1",
                       "bytes=99999999999999999999-"}) {
    CHECK(parse_range(ignored, 1000).kind == RangeKind::whole);
  }
  CHECK(parse_range(std::nullopt, 1000).kind == RangeKind::whole);
}

TEST_CASE("content type: sniffed, unless the claim agrees or is more specific; allow-list") {
  CHECK(decide_type("text/plain", "text/markdown; charset=utf-8") == "text/markdown");
  CHECK(decide_type("text/plain", "application/json") == "application/json");
  CHECK(decide_type("text/plain", "application/pdf") == "text/plain");
  CHECK(decide_type("application/pdf", "text/html") == "application/pdf");  // a PDF claimed as HTML
  CHECK(decide_type("text/html", "image/png") == "text/html");
  CHECK(decide_type("application/octet-stream", "application/x-thing") == "application/x-thing");
  CHECK(decide_type("image/png", std::nullopt) == "image/png");
  CHECK(decide_type("image/png", "IMAGE/PNG") == "image/png");
  CHECK(decide_type("text/plain", "nonsense") == "text/plain");
  CHECK(decide_type("text/plain", "text/\r\nplain") == "text/plain");
  CHECK(type_allowed("image/png", {}));
  CHECK(type_allowed("image/png", {"image/*"}));
  CHECK(type_allowed("application/pdf", {"image/*", "application/pdf"}));
  CHECK_FALSE(type_allowed("text/html", {"image/*", "application/pdf"}));
  CHECK_FALSE(type_allowed("imagex/png", {"image/*"}));
}

TEST_CASE("content disposition") {
  CHECK(content_disposition("a b.txt") == "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt");
  CHECK(content_disposition("ü\"x") == "attachment; filename=\"___x\"; filename*=UTF-8''%C3%BC%22x");
}
