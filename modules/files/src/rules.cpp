#include "rules.hpp"

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/text.hpp"

#include <sodium.h>

#include <cctype>
#include <charconv>
#include <ctime>
#include <limits>

namespace bookspace::files {

namespace {

std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

std::string sanitize_name(std::optional<std::string_view> raw) {
  // Absent or empty (a tus metadata key without a value, a form's empty filename, ?name=): the
  // same default from all three.
  if (!raw || core::trim_blanks(*raw).empty()) return "file";
  auto bad = [](std::string why) { return core::ApiError(core::Error::validation("name", std::move(why))); };
  if (raw->size() > 4096) throw bad("at most 255 bytes");
  std::string_view name = *raw;
  if (auto problem = core::one_line_text_problem(name)) throw bad(*problem);
  if (auto slash = name.find_last_of("/\\"); slash != std::string_view::npos) name = name.substr(slash + 1);
  name = core::trim_blanks(name);
  if (name.empty() || name == "." || name == "..") throw bad("a file name is needed (not a path)");
  if (name.size() > 255) throw bad("at most 255 bytes");
  return std::string(name);
}

RangeAnswer parse_range(std::optional<std::string_view> header, std::uint64_t size) {
  if (!header) return {};
  std::string_view h = core::trim_blanks(*header);
  if (!h.starts_with("bytes=")) return {};
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return {};  // several ranges: the whole file
  const auto dash = h.find('-');
  if (dash == std::string_view::npos) return {};
  const auto first_text = core::trim_blanks(h.substr(0, dash)),
             last_text = core::trim_blanks(h.substr(dash + 1));
  if (first_text.empty()) {  // -n: the last n bytes
    auto n = number(last_text);
    if (!n) return {};
    if (*n == 0 || size == 0) return {RangeKind::unsatisfiable, {}};
    const std::uint64_t len = std::min(*n, size);
    return {RangeKind::partial, {size - len, size - 1}};
  }
  auto first = number(first_text);
  if (!first) return {};
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    auto l = number(last_text);
    if (!l || *l < *first) return {};
    last = std::min(*l, last);
  }
  if (*first >= size) return {RangeKind::unsatisfiable, {}};
  return {RangeKind::partial, {*first, last}};
}

std::string content_disposition(std::string_view name) {
  std::string fallback, encoded;
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-' || c == '_' || c == '~';
    fallback += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (plain) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

std::string decide_type(std::string_view sniffed, std::optional<std::string_view> claimed) {
  std::string fallback = sniffed.empty() ? "application/octet-stream" : std::string(sniffed);
  if (!claimed) return fallback;
  std::string_view claim = core::trim_blanks(claimed->substr(0, claimed->find(';')));
  const auto slash = claim.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == claim.size() || claim.size() > 255 ||
      claim.find_first_of(" \t\r\n\"\\") != std::string_view::npos)
    return fallback;
  std::string lower(claim);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (sniffed == "application/octet-stream" || sniffed.empty()) return lower;
  auto top = [](std::string_view t) { return t.substr(0, t.find('/')); };
  if (top(lower) == top(sniffed)) return lower;
  static constexpr std::string_view textual[] = {"application/json",       "application/xml",
                                                 "application/javascript", "application/x-ndjson",
                                                 "application/yaml",       "text/csv"};
  if (sniffed == "text/plain") {
    for (auto t : textual)
      if (lower == t) return lower;
  }
  return fallback;
}

bool type_allowed(std::string_view type, std::vector<std::string> const& allowed) {
  if (allowed.empty()) return true;
  for (auto const& a : allowed) {
    if (a == type) return true;
    if (a.ends_with("/*") && type.starts_with(std::string_view(a).substr(0, a.size() - 1))) return true;
  }
  return false;
}

std::string link_signature(std::string_view key, std::string_view id, std::int64_t expires) {
  const std::string message = std::string(id) + "." + std::to_string(expires);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<unsigned char const*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<unsigned char const*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return core::base64url_encode(std::string_view(reinterpret_cast<char const*>(mac), sizeof mac));
}

LinkCheck check_link(std::string_view key, std::string_view id, std::string_view expires,
                     std::string_view signature, std::int64_t now_s) {
  auto at = number(expires);
  if (!at || *at > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return LinkCheck::invalid;
  const std::string expected = link_signature(key, id, static_cast<std::int64_t>(*at));
  if (expected.size() != signature.size() ||
      sodium_memcmp(expected.data(), signature.data(), expected.size()) != 0)
    return LinkCheck::invalid;
  return static_cast<std::int64_t>(*at) < now_s ? LinkCheck::expired : LinkCheck::valid;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_upload_metadata(
    std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  if (header.size() > 8192) return std::nullopt;
  if (core::trim_blanks(header).empty()) return out;
  std::size_t at = 0;
  while (at <= header.size()) {
    const auto comma = std::min(header.find(',', at), header.size());
    const std::string_view pair = core::trim_blanks(header.substr(at, comma - at));
    at = comma + 1;
    const auto space = pair.find(' ');
    const std::string_view key = pair.substr(0, space);
    const std::string_view value =
        space == std::string_view::npos ? std::string_view() : core::trim_blanks(pair.substr(space));
    if (key.empty() || out.size() == 32) return std::nullopt;
    for (unsigned char c : key) {
      if (c <= 0x20 || c >= 0x7F) return std::nullopt;
    }
    for (auto const& [k, v] : out) {
      if (k == key) return std::nullopt;
    }
    std::string decoded(value.size() * 3 / 4 + 3, '\0');
    std::size_t len = 0;
    char const* end = nullptr;
    if (!value.empty()) {
      if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), value.data(),
                            value.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 &&
          sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), value.data(),
                            value.size(), nullptr, &len, &end,
                            sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
        return std::nullopt;
      if (end != value.data() + value.size()) return std::nullopt;
    }
    decoded.resize(len);
    out.emplace_back(std::string(key), std::move(decoded));
    if (comma == header.size()) break;
  }
  return out;
}

std::string utc_format(long long ms, char const* format) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  const auto n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace bookspace::files
