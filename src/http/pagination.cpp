#include "http/pagination.hpp"

#include "core/ids.hpp"

#include <charconv>

namespace bookspace::http {

namespace {
constexpr char separator = '\x1f';  // no sort key (titles, ids, numbers) holds control characters
}

std::string encode_cursor(Cursor const& c) {
  return core::base64url_encode(c.sort + separator + c.key + separator + c.id);
}

std::optional<Cursor> decode_cursor(std::string_view text) {
  if (text.size() > 4096) return std::nullopt;
  auto raw = core::base64url_decode(text);
  if (!raw) return std::nullopt;
  auto a = raw->find(separator);
  if (a == std::string::npos) return std::nullopt;
  auto b = raw->find(separator, a + 1);
  if (b == std::string::npos || raw->find(separator, b + 1) != std::string::npos) return std::nullopt;
  Cursor c{raw->substr(0, a), raw->substr(a + 1, b - a - 1), raw->substr(b + 1)};
  if (c.sort.empty() || c.id.empty()) return std::nullopt;
  return c;
}

std::optional<Cursor> cursor_param(Request const& req, std::string_view kind) {
  auto text = req.query_param("cursor");
  if (!text) return std::nullopt;
  auto c = decode_cursor(*text);
  if (!c || c->sort != kind) {
    throw core::ApiError(
        core::Error::validation("cursor", "not a cursor of this list (it is opaque: pass next_cursor back)"));
  }
  return c;
}

long long integer_key(Cursor const& c) {
  long long n = 0;
  auto [end, ec] = std::from_chars(c.key.data(), c.key.data() + c.key.size(), n);
  if (ec != std::errc() || end != c.key.data() + c.key.size())
    throw core::ApiError(core::Error::validation("cursor", "malformed"));
  return n;
}

}  // namespace bookspace::http
