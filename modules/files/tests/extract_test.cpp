#include "extract.hpp"
#include "rules.hpp"

#include "pdf_fixture.hpp"

#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>
#include <stdexcept>

using namespace bookspace::files;

namespace {

/// An anonymous file holding `bytes`.
struct MemFile {
  int fd;
  explicit MemFile(std::string const& bytes) : fd(::memfd_create("extract-test", 0)) {
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
  ~MemFile() { ::close(fd); }
};

auto never = [] { return false; };

}  // namespace

TEST_CASE("which types have text") {
  CHECK(extractable("text/plain"));
  CHECK(extractable("text/markdown; charset=utf-8"));
  CHECK(extractable("text/html"));
  CHECK(extractable("application/pdf"));
  CHECK(extractable("application/json"));
  CHECK_FALSE(extractable("image/png"));
  CHECK_FALSE(extractable("application/zip"));
}

TEST_CASE("HTML loses its markup, scripts and styles, keeps its words") {
  CHECK(html_to_text("<p>Hello <b>bold</b>&nbsp;world</p>") == "Hello bold world");
  CHECK(html_to_text("<script>var x = '<p>no</p>';</script>yes<style>p{}</style> ok") == "yes ok");
  CHECK(html_to_text("<SCRIPT type=x>alert(1)</ScRiPt>after") == "after");
  CHECK(html_to_text("a &lt;b&gt; &amp; &#233;t&#xE9; &bogus; &") == "a <b> & été &bogus; &");
  CHECK(html_to_text("<!-- hidden -->shown<br/>next") == "shown next");
  CHECK(html_to_text("<p>unclosed <a href='x'") == "unclosed");
  CHECK(html_to_text("") == "");
  CHECK(html_to_text("<script>never closed") == "");
}

TEST_CASE("text is cleaned to UTF-8 and cut on a character boundary") {
  std::string s = "caf\xC3\xA9";
  CHECK_FALSE(clean_utf8(s, 100));
  CHECK(s == "caf\xC3\xA9");
  s = "caf\xC3\xA9";
  CHECK(clean_utf8(s, 4));  // é does not fit whole
  CHECK(s == "caf");
  s = "a\xFF"
      "b\xC0\xAF"
      "c";  // a stray byte, an overlong '/'
  clean_utf8(s, 100);
  CHECK(s ==
        "a\xEF\xBF\xBD"
        "b\xEF\xBF\xBD\xEF\xBF\xBD"
        "c");
  s = std::string("x\0y", 3);
  clean_utf8(s, 100);
  CHECK(s == "x\xEF\xBF\xBDy");
}

TEST_CASE("plain text and HTML files are read within the limit") {
  MemFile text("hello world, this is text");
  auto out = extract_text(text.fd, "text/plain", 11, never);
  CHECK(out.text == "hello world");
  CHECK(out.truncated);
  MemFile html("<h1>Title</h1><p>Body</p>");
  out = extract_text(html.fd, "text/html", 1024, never);
  CHECK(out.text == "Title Body");
  CHECK_FALSE(out.truncated);
}

TEST_CASE("PDF text comes out page by page, bounded, and stops when asked") {
  MemFile pdf(bookspace::testing::make_pdf({"Hello PDF world", "Second page here"}));
  auto out = extract_text(pdf.fd, "application/pdf", 1 << 20, never);
  CHECK(out.pages == 2);
  CHECK(out.text.find("Hello PDF world") != std::string::npos);
  CHECK(out.text.find("Second page here") != std::string::npos);
  CHECK_FALSE(out.truncated);
  out = extract_text(pdf.fd, "application/pdf", 8, never);
  CHECK(out.text.size() <= 8);
  CHECK(out.truncated);
  out = extract_text(pdf.fd, "application/pdf", 1 << 20, [] { return true; });
  CHECK(out.pages == 0);
  CHECK(out.truncated);
  MemFile broken("%PDF-1.4 this is not really a PDF");
  CHECK_THROWS_AS(extract_text(broken.fd, "application/pdf", 1024, never), std::runtime_error);
}

TEST_CASE("tus Upload-Metadata") {
  auto m = parse_upload_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential");
  REQUIRE(m);
  REQUIRE(m->size() == 2);
  CHECK((*m)[0].first == "filename");
  CHECK((*m)[0].second == "world_domination_plan.pdf");
  CHECK((*m)[1].first == "is_confidential");
  CHECK((*m)[1].second.empty());
  CHECK(parse_upload_metadata("")->empty());
  CHECK(parse_upload_metadata("filename d29ybGQ")->at(0).second == "world");  // without padding
  CHECK_FALSE(parse_upload_metadata("filename !!!"));
  CHECK_FALSE(parse_upload_metadata("a YQ==,a YQ=="));  // a key twice
  CHECK_FALSE(parse_upload_metadata("a YQ==,"));
  CHECK_FALSE(parse_upload_metadata(std::string(9000, 'a')));
  CHECK_FALSE(parse_upload_metadata("k\x01 YQ=="));
}
