// Fuzzes the files module's parsers of client input: the Range header, upload names, the
// claimed content type, signed-link query values, multipart/form-data bodies and tus Upload-Metadata. The
// first byte picks the parser; broken invariants abort. Seeds in tests/fuzz-corpus.
#include "multipart.hpp"
#include "rules.hpp"

#include "core/error.hpp"

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace bookspace::files;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void fuzz_range(std::string_view text, std::uint64_t size) {
  auto r = parse_range(text, size);
  if (r.kind == RangeKind::partial) {
    check(r.range.first <= r.range.last);
    check(r.range.last < size);
    check(r.range.length() >= 1 && r.range.length() <= size);
  }
}

void fuzz_name(std::string_view text) {
  try {
    auto name = sanitize_name(text);
    check(!name.empty() && name.size() <= 255 && name != "." && name != "..");
    check(name.find_first_of("/\\") == std::string::npos);
    check(name.find('\0') == std::string::npos);
    auto disposition = content_disposition(name);
    check(disposition.find_first_of("\r\n") == std::string::npos);
    // The quoted fallback holds no quote or backslash of its own: its closing quote is the first
    // one after the opening, and the encoded form follows it.
    const std::string_view prefix = "attachment; filename=\"";
    check(disposition.starts_with(prefix));
    auto close = disposition.find('"', prefix.size());
    check(close != std::string::npos);
    check(std::string_view(disposition).substr(close).starts_with("\"; filename*=UTF-8''"));
    check(disposition.find('\\', prefix.size()) == std::string::npos || disposition.find('\\') > close);
  } catch (bookspace::core::ApiError const&) {
    // refused names are fine
  }
}

void fuzz_type(std::string_view sniffed, std::string_view claimed) {
  auto type = decide_type(sniffed, claimed);
  check(!type.empty());
  if (type != sniffed) check(type.find_first_of("\r\n\" ") == std::string::npos);
}

void fuzz_link(std::string_view expires, std::string_view signature) {
  static const std::string key(32, 'k');
  auto verdict = check_link(key, "file-id", expires, signature, 1'800'000'000);
  if (verdict != LinkCheck::invalid)
    check(signature == link_signature(key, "file-id", std::stoll(std::string(expires))));
}

/// The multipart parser, fed the input in pieces of a size the input picks: never a crash, and
/// a body it accepts yields no more bytes than it was given.
void fuzz_multipart(std::string_view text) {
  if (text.empty()) return;
  const std::size_t piece = 1 + static_cast<unsigned char>(text[0]) % 17;
  text.remove_prefix(1);
  try {
    MultipartParser parser("b");
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += piece) parser.feed(text.substr(i, piece), out);
    parser.finish();
    check(out.size() <= text.size());
  } catch (bookspace::core::ApiError const&) {
    // malformed bodies are refused
  }
}

/// tus Upload-Metadata: accepted pairs have unique, visible-ASCII keys, and a value that
/// base64-decodes back from what was sent.
void fuzz_metadata(std::string_view text) {
  auto pairs = parse_upload_metadata(text);
  if (!pairs) return;
  check(pairs->size() <= 32);
  for (std::size_t i = 0; i < pairs->size(); ++i) {
    auto const& [key, value] = (*pairs)[i];
    check(!key.empty());
    for (unsigned char c : key) check(c > 0x20 && c < 0x7F && c != ',');
    for (std::size_t j = 0; j < i; ++j) check((*pairs)[j].first != key);
    check(value.size() <= text.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size < 1) return 0;
  static const bool ready = sodium_init() >= 0;
  check(ready);
  const std::string_view rest(reinterpret_cast<char const*>(data + 1), size - 1);
  const auto split = rest.find('\n');
  const auto first = rest.substr(0, split),
             second = split == std::string_view::npos ? "" : rest.substr(split + 1);
  switch (data[0] % 6) {
    case 0:
      fuzz_range(rest, rest.size() * 7919u % 100'000u);
      break;
    case 1:
      fuzz_name(rest);
      break;
    case 2:
      fuzz_type(first, second);
      break;
    case 3:
      fuzz_link(first, second);
      break;
    case 5:
      fuzz_metadata(rest);
      break;
    default:
      fuzz_multipart(rest);
      break;
  }
  return 0;
}
