#include "rules.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <boost/json/value.hpp>

namespace bookspace::users {

using core::ApiError;

std::string display_name_value(boost::json::value const* value) {
  if (!value || !value->is_string())
    throw ApiError(core::Error::validation("display_name", "must be a string"));
  std::string_view raw = value->as_string();
  const auto b = raw.find_first_not_of(' ');
  const auto e = raw.find_last_not_of(' ');
  std::string name = b == std::string_view::npos ? "" : std::string(raw.substr(b, e - b + 1));
  if (auto problem = core::name_problem(name, 1, 100))
    throw ApiError(core::Error::validation("display_name", *problem));
  return name;
}

std::string role_value(boost::json::value const& value) {
  if (!value.is_string() || (value.as_string() != "admin" && value.as_string() != "member"))
    throw ApiError(core::Error::validation("role", "must be admin or member"));
  return std::string(value.as_string());
}

bool disabled_value(boost::json::value const& value) {
  if (!value.is_bool()) throw ApiError(core::Error::validation("disabled", "must be true or false"));
  return value.as_bool();
}

std::string search_pattern(std::string_view q) {
  if (q.empty()) return {};
  std::string pattern = "%";
  for (char ch : q) {
    if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
    pattern += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  pattern += '%';
  return pattern;
}

}  // namespace bookspace::users
