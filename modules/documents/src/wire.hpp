#pragma once

// What the internal routes (internal_routes.cpp) and the stand-in (stand_in.cpp) agree on: the
// shapes of /internal/documents/… answers.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace bookspace::documents::wire {

/// Ids per page of /internal/documents/ids.
inline constexpr int max_ids = 1000;

inline boost::json::array array_of(std::vector<std::string> const& items) {
  boost::json::array a;
  for (auto const& i : items) a.emplace_back(i);
  return a;
}

inline std::vector<std::string> texts_of(boost::json::value const& v) {
  std::vector<std::string> out;
  if (auto const* a = v.if_array()) {
    for (auto const& i : *a) {
      if (auto const* s = i.if_string()) out.emplace_back(*s);
    }
  }
  return out;
}

}  // namespace bookspace::documents::wire
