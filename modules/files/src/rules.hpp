#pragma once

// The files module's decisions free of I/O (unit-tested in tests/rules_test.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::files {

/// The display name of an upload: the last component of what the client sent (after any `/` or
/// `\`), trimmed. Names never reach the filesystem (blobs are stored by hash), so this is about
/// what other people see and what a browser saves. Throws ApiError (400 on `name`) for names that
/// are empty, `.`/`..`, longer than 255 bytes, not UTF-8, or hold control or format characters
/// (NUL, bidi overrides such as U+202E). Absent → "file".
std::string sanitize_name(std::optional<std::string_view> raw);

/// A byte range of a file of `size` bytes.
struct ByteRange {
  std::uint64_t first = 0, last = 0;  ///< inclusive
  std::uint64_t length() const { return last - first + 1; }
};
enum class RangeKind { whole, partial, unsatisfiable };
struct RangeAnswer {
  RangeKind kind = RangeKind::whole;
  ByteRange range;
};
/// The answer to a Range header (RFC 9110 14.2): one `bytes=a-b`, `a-` or `-n` → partial; a
/// syntactically bad header or several ranges → the whole file (allowed: a server may ignore
/// Range); a range starting past the end, or `-0` → unsatisfiable (416).
RangeAnswer parse_range(std::optional<std::string_view> header, std::uint64_t size);

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>`.
std::string content_disposition(std::string_view name);

/// The type stored for an upload: what was sniffed, unless the client's claim (its Content-Type
/// without parameters) agrees or is more specific — the same top-level type (`text/markdown`
/// for sniffed `text/plain`), a text format sniffed as plain text (JSON, XML, CSV, JavaScript),
/// or anything when libmagic could not tell (`application/octet-stream`).
std::string decide_type(std::string_view sniffed, std::optional<std::string_view> claimed);
/// Whether `type` is on the allow-list (`type/subtype` or `type/*`); an empty list allows all.
bool type_allowed(std::string_view type, std::vector<std::string> const& allowed);

/// Signed links: `key` is the raw HMAC key (files.link_key).
inline constexpr std::int64_t max_link_seconds = 7 * 86400;
/// base64url(HMAC-SHA256(key, "<id>.<expires>")), `expires` in Unix seconds.
std::string link_signature(std::string_view key, std::string_view id, std::int64_t expires);
enum class LinkCheck { valid, invalid, expired };
/// A link's query values checked at `now_s`: a signature that does not match (tampered id,
/// expiry or signature) is invalid; a genuine one past its expiry is expired.
LinkCheck check_link(std::string_view key, std::string_view id, std::string_view expires,
                     std::string_view signature, std::int64_t now_s);

/// `ms` since the epoch as UTC through strftime's `format` (at most 63 bytes of output).
std::string utc_format(long long ms, char const* format);

/// tus `Upload-Metadata`: comma-separated `key base64(value)` pairs (a key alone: empty value).
/// Keys are ASCII without spaces or commas, unique; values standard base64. nullopt when
/// malformed, more than 32 pairs, or longer than 8 KiB.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_upload_metadata(
    std::string_view header);

}  // namespace bookspace::files
