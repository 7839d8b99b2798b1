// SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for the
// Authorization Header" and "Query String Authentication"): a header-signed GET with a Range,
// and a presigned GET.
#include "core/ids.hpp"
#include "s3_client.hpp"

#include <doctest/doctest.h>

using namespace bookspace::files;

namespace {
const std::string key_id = "AKIAIOSFODNN7EXAMPLE";
const std::string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
}  // namespace

TEST_CASE("a header-signed GET matches AWS's example") {
  sigv4::Request r{"GET",
                   "examplebucket.s3.amazonaws.com",
                   "/test.txt",
                   {},
                   {{"range", "bytes=0-9"},
                    {"x-amz-content-sha256", bookspace::core::sha256_hex("")},
                    {"x-amz-date", "20130524T000000Z"}},
                   bookspace::core::sha256_hex("")};
  CHECK(sigv4::authorization(r, "20130524T000000Z", "us-east-1", key_id, secret) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("a presigned GET matches AWS's example") {
  sigv4::Request r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {}, {}, ""};
  const auto query = sigv4::presigned_query(r, "20130524T000000Z", "us-east-1", key_id, secret, 86400);
  CHECK(query.ends_with("&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"));
  CHECK(query.find("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request") !=
        std::string::npos);
}

TEST_CASE("keys are encoded as SigV4 wants, slashes kept in paths") {
  CHECK(sigv4::uri_encode("a b/c~d+e", true) == "a%20b/c~d%2Be");
  CHECK(sigv4::uri_encode("a/b", false) == "a%2Fb");
}

TEST_CASE("S3 XML answers are read by element") {
  const std::string xml =
      "<ListMultipartUploadsResult><Upload><Key>a&amp;b</Key><UploadId>1</UploadId></Upload>"
      "<Upload><Key>c</Key><UploadId>2</UploadId></Upload></ListMultipartUploadsResult>";
  auto uploads = xml_elements(xml, "Upload");
  REQUIRE(uploads.size() == 2);
  CHECK(xml_values(uploads[0], "Key") == std::vector<std::string>{"a&b"});
  CHECK(xml_values(uploads[1], "UploadId") == std::vector<std::string>{"2"});
  CHECK(xml_values("<Error><Code>NoSuchKey</Code></Error>", "Code").front() == "NoSuchKey");
}
