// AWS Signature Version 4 over OpenSSL's SHA-256 and HMAC: the header form (Authorization) and
// the query form (presigned URLs). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html

#include "s3_client.hpp"

#include "core/ids.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace bookspace::files::sigv4 {

namespace {

std::string hex(unsigned char const* bytes, std::size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<unsigned char const*>(data.data()), data.size(), out, &length))
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<char const*>(out), length);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string scope_of(std::string const& amz_date, std::string const& region) {
  return amz_date.substr(0, 8) + "/" + region + "/s3/aws4_request";
}

/// Sorted, encoded name=value pairs joined by '&'.
std::string canonical_query(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [k, v] : query) {
    k = uri_encode(k, false);
    v = uri_encode(v, false);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (auto const& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

struct Canonical {
  std::string request, signed_headers;
};

Canonical canonical_request(Request const& r) {
  std::vector<std::pair<std::string, std::string>> headers{{"host", r.host}};
  for (auto const& [k, v] : r.headers) headers.emplace_back(lower(k), v);
  std::sort(headers.begin(), headers.end());
  std::string header_lines, names;
  for (auto const& [k, v] : headers) {
    header_lines += k;
    header_lines += ':';
    header_lines += v;
    header_lines += '\n';
    if (!names.empty()) names += ';';
    names += k;
  }
  return {r.method + "\n" + r.path + "\n" + canonical_query(r.query) + "\n" + header_lines + "\n" + names +
              "\n" + r.payload_hash,
          names};
}

std::string signature(std::string const& canonical, std::string const& amz_date, std::string const& region,
                      std::string const& secret) {
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope_of(amz_date, region) + "\n" +
                              core::sha256_hex(canonical);
  std::string key = hmac("AWS4" + secret, amz_date.substr(0, 8));
  key = hmac(key, region);
  key = hmac(key, "s3");
  key = hmac(key, "aws4_request");
  const std::string sig = hmac(key, to_sign);
  return hex(reinterpret_cast<unsigned char const*>(sig.data()), sig.size());
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string authorization(Request const& r, std::string const& amz_date, std::string const& region,
                          std::string const& access_key, std::string const& secret) {
  const auto canonical = canonical_request(r);
  return "AWS4-HMAC-SHA256 Credential=" + access_key + "/" + scope_of(amz_date, region) +
         ", SignedHeaders=" + canonical.signed_headers +
         ", Signature=" + signature(canonical.request, amz_date, region, secret);
}

std::string presigned_query(Request r, std::string const& amz_date, std::string const& region,
                            std::string const& access_key, std::string const& secret,
                            std::int64_t expires_s) {
  r.headers.clear();  // only host is signed: whoever follows the link sends nothing else we know
  r.payload_hash = "UNSIGNED-PAYLOAD";
  r.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  r.query.emplace_back("X-Amz-Credential", access_key + "/" + scope_of(amz_date, region));
  r.query.emplace_back("X-Amz-Date", amz_date);
  r.query.emplace_back("X-Amz-Expires", std::to_string(expires_s));
  r.query.emplace_back("X-Amz-SignedHeaders", "host");
  const auto canonical = canonical_request(r);
  return canonical_query(r.query) +
         "&X-Amz-Signature=" + signature(canonical.request, amz_date, region, secret);
}

}  // namespace bookspace::files::sigv4
