#include "multipart.hpp"

#include "core/error.hpp"

#include <doctest/doctest.h>

using namespace bookspace::files;
using bookspace::core::ApiError;
using namespace std::string_literals;

namespace {

std::string body(std::string const& file, std::string const& boundary = "XyZ") {
  return "preamble\r\n--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nignored text\r\n--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
         "Content-Type: text/plain\r\n\r\n" +
         file + "\r\n--" + boundary + "--\r\nepilogue";
}

/// Feeds `text` in pieces of `piece` bytes; returns the file part.
std::string parse(std::string const& text, std::size_t piece, MultipartParser& p) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += piece) p.feed(std::string_view(text).substr(i, piece), out);
  p.finish();
  return out;
}

}  // namespace

TEST_CASE("multipart: the file part comes out whole however the body is cut") {
  // Near-misses of the delimiter: "--XyZ" without a line end before it, "\r\n--XyA", "\r\n--Xy" at the end.
  const std::string file =
      "line one --XyZ\r\n--XyA\r\n-binary \0 byte"s + std::string(5000, 'z') + "\r\n--Xy";
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u, 1000u, 100000u}) {
    MultipartParser p("XyZ");
    CHECK(parse(body(file), piece, p) == file);
    CHECK(p.filename == "a \"b\".txt");
    CHECK(p.content_type == "text/plain");
  }
  MultipartParser empty("XyZ");
  CHECK(parse(body(""), 5, empty).empty());
}

TEST_CASE("multipart: boundaries and malformed bodies") {
  CHECK(multipart_boundary("multipart/form-data; boundary=abc") == "abc");
  CHECK(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\"") == "a b:c");
  CHECK_FALSE(multipart_boundary("text/plain"));
  CHECK_THROWS_AS(multipart_boundary("multipart/form-data"), ApiError);
  CHECK_THROWS_AS(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')), ApiError);
  CHECK_THROWS_AS(multipart_boundary("multipart/form-data; boundary=bad\x01"), ApiError);

  auto fails = [](std::string const& text) {
    MultipartParser p("XyZ");
    std::string out;
    p.feed(text, out);
    p.finish();
  };
  CHECK_THROWS_AS(fails("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc"),
                  ApiError);  // no end
  CHECK_THROWS_AS(fails("--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nabc\r\n--XyZ--"),
                  ApiError);  // no file part
  CHECK_THROWS_AS(fails("--XyZ\r\nno colon here\r\n\r\nabc\r\n--XyZ--"), ApiError);
  CHECK_THROWS_AS(fails("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\na\r\n--XyZ\r\n"
                        "Content-Disposition: form-data; name=\"file\"\r\n\r\nb\r\n--XyZ--"),
                  ApiError);                                                // two file parts
  CHECK_THROWS_AS(fails("--XyZ\r\n" + std::string(20000, 'h')), ApiError);  // headers too long
  CHECK_THROWS_AS(fails("--XyZ junk"), ApiError);
}
