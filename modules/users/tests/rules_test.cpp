#include "rules.hpp"

#include "core/error.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

using namespace bookspace::users;
using bookspace::core::ApiError;

TEST_CASE("search patterns: lower case, LIKE wildcards taken literally") {
  CHECK(search_pattern("") == "");
  CHECK(search_pattern("QuInn") == "%quinn%");
  CHECK(search_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%");
}

TEST_CASE("display names are trimmed and checked; role and disabled take their values only") {
  boost::json::value v = "  Nia B. ";
  CHECK(display_name_value(&v) == "Nia B.");
  CHECK_THROWS_AS(display_name_value(nullptr), ApiError);
  v = "   ";
  CHECK_THROWS_AS(display_name_value(&v), ApiError);
  v = 7;
  CHECK_THROWS_AS(display_name_value(&v), ApiError);
  CHECK(role_value(boost::json::value("admin")) == "admin");
  CHECK_THROWS_AS(role_value(boost::json::value("owner")), ApiError);
  CHECK(disabled_value(boost::json::value(true)));
  CHECK_THROWS_AS(disabled_value(boost::json::value(1)), ApiError);
}
