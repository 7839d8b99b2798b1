#pragma once

// The users module's input rules, free of I/O (unit-tested in tests/rules_test.cpp).

#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace bookspace::users {

/// `display_name`: a string, trimmed of spaces, 1–100 characters without control or format
/// characters. Throws ApiError (400 on `display_name`).
std::string display_name_value(boost::json::value const* value);
/// `role`: "admin" or "member". Throws ApiError.
std::string role_value(boost::json::value const& value);
/// `disabled`: true or false. Throws ApiError.
bool disabled_value(boost::json::value const& value);
/// `?q=` as a LIKE pattern: lower-cased (ASCII), `%`, `_` and `\` escaped, wrapped in `%…%`;
/// empty for an empty query.
std::string search_pattern(std::string_view q);

}  // namespace bookspace::users
