#pragma once

// The documents module's input rules and small encodings, free of I/O (unit-tested in
// tests/rules_test.cpp).

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bookspace::documents {

inline constexpr std::size_t max_title_chars = 500;
inline constexpr std::size_t max_content_bytes = 1024 * 1024;
inline constexpr std::size_t max_tags = 32;
inline constexpr std::size_t max_tag_chars = 64;
inline constexpr std::size_t max_comment_chars = 10'000;

/// Title: trimmed, 1–500 characters, no control characters. Throws ApiError (400).
std::string title_value(boost::json::value const& value);
/// Content: a string of at most 1 MiB (413 beyond), no NUL. Throws ApiError.
std::string content_value(boost::json::value const& value);
/// Tags: an array of strings, each normalized (trimmed, inner whitespace collapsed, lower
/// case), duplicates dropped keeping the first; at most 32 of 1–64 characters. Throws ApiError.
std::vector<std::string> tags_value(boost::json::value const& value);
/// One tag normalized as tags_value does; nullopt when it is not a valid tag.
std::optional<std::string> normalize_tag(std::string_view tag);
/// A comment body: 1–10,000 characters, not only whitespace, no NUL. Throws ApiError.
std::string comment_value(boost::json::value const& value);

/// The key sort=title orders by: ASCII letters lower-cased (same on SQLite and PostgreSQL).
std::string title_key(std::string_view title);

std::string tags_json(std::vector<std::string> const& tags);
std::vector<std::string> tags_from_json(std::string_view text);

/// `If-Match` / `If-None-Match`: true when the list holds `*` or the entity tag "<version>".
/// `weak` lets W/"<version>" match too (If-None-Match compares weakly, If-Match strongly).
bool etag_matches(std::string_view header, long long version, bool weak);
std::string etag(long long version);

}  // namespace bookspace::documents
