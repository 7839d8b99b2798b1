#include "rules.hpp"

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/text.hpp"

#include <boost/json.hpp>

namespace bookspace::documents {

namespace json = boost::json;
using core::ApiError;
using core::Error;

namespace {

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view string_of(json::value const& value, char const* field) {
  if (!value.is_string()) throw ApiError(Error::validation(field, "must be a string"));
  return value.as_string();
}

}  // namespace

std::string title_value(json::value const& value) {
  auto title = core::trim_space(string_of(value, "title"));
  if (title.empty()) throw ApiError(Error::validation("title", "must not be empty"));
  if (core::code_points(title) > max_title_chars)
    throw ApiError(Error::validation("title", "at most 500 characters"));
  if (auto problem = core::one_line_text_problem(title)) throw ApiError(Error::validation("title", *problem));
  return std::string(title);
}

std::string content_value(json::value const& value) {
  auto content = string_of(value, "content");
  if (content.size() > max_content_bytes) {
    Error e{
        core::ErrorCode::payload_too_large, "Content is limited to 1 MiB.", {{"content", "at most 1 MiB"}}};
    throw ApiError(std::move(e));
  }
  if (auto problem = core::multi_line_text_problem(content))
    throw ApiError(Error::validation("content", *problem));
  return std::string(content);
}

std::optional<std::string> normalize_tag(std::string_view tag) {
  std::string out;
  bool space = false;
  for (unsigned char c : core::trim_space(tag)) {
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (is_control(c)) return std::nullopt;
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (out.empty() || core::code_points(out) > max_tag_chars || core::one_line_text_problem(out))
    return std::nullopt;
  return out;
}

std::vector<std::string> tags_value(json::value const& value) {
  if (!value.is_array()) throw ApiError(Error::validation("tags", "must be an array of strings"));
  std::vector<std::string> tags;
  for (auto const& item : value.as_array()) {
    if (!item.is_string()) throw ApiError(Error::validation("tags", "must be an array of strings"));
    auto tag = normalize_tag(item.as_string());
    if (!tag)
      throw ApiError(Error::validation("tags", "each tag has 1–64 characters, no control characters"));
    if (std::find(tags.begin(), tags.end(), *tag) == tags.end()) tags.push_back(std::move(*tag));
    if (tags.size() > max_tags) throw ApiError(Error::validation("tags", "at most 32 tags"));
  }
  return tags;
}

std::string comment_value(json::value const& value) {
  auto body = string_of(value, "body");
  if (core::trim_space(body).empty()) throw ApiError(Error::validation("body", "must not be empty"));
  if (core::code_points(body) > max_comment_chars)
    throw ApiError(Error::validation("body", "at most 10,000 characters"));
  if (auto problem = core::multi_line_text_problem(body)) throw ApiError(Error::validation("body", *problem));
  return std::string(body);
}

std::string title_key(std::string_view title) {
  std::string key(title);
  for (auto& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

std::string tags_json(std::vector<std::string> const& tags) {
  json::array a;
  for (auto const& t : tags) a.emplace_back(t);
  return json::serialize(a);
}

std::vector<std::string> tags_from_json(std::string_view text) {
  std::vector<std::string> tags;
  const json::value parsed = json::parse(text);
  for (auto const& v : parsed.as_array()) tags.emplace_back(v.as_string());
  return tags;
}

bool etag_matches(std::string_view header, long long version, bool weak) {
  const std::string wanted = etag(version);
  std::size_t at = 0;
  while (at < header.size()) {
    auto comma = header.find(',', at);
    auto item = core::trim_space(
        header.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at));
    if (item == "*") return true;
    if (weak && item.starts_with("W/")) item.remove_prefix(2);
    if (item == wanted) return true;
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return false;
}

std::string etag(long long version) {
  return "\"" + std::to_string(version) + "\"";
}

namespace {}

}  // namespace bookspace::documents
