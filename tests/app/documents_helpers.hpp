#pragma once

// Helpers shared by the whole-application tests of the documents module.

#include "auth_helpers.hpp"

#include <bookspace/documents/documents.hpp>

#include <doctest/doctest.h>
#include <boost/json.hpp>

namespace bookspace::testing {

inline std::vector<app::ModuleDescriptor> with_documents() {
  return {auth::auth_module(), documents::documents_module()};
}

struct Member {
  std::string id, token;
};

inline Member join(HttpClient& c, std::string const& email) {
  auto r = register_user(c, email);
  REQUIRE(r.status == 201);
  return {std::string(r.json().at("user").at("id").as_string()),
          std::string(r.json().at("access_token").as_string())};
}

/// A request as `who`, with a JSON body when one is given.
inline HttpResponse call(HttpClient& c, Member const& who, std::string const& method, std::string const& path,
                         std::string const& body = "", std::map<std::string, std::string> headers = {}) {
  headers["Authorization"] = "Bearer " + who.token;
  if (!body.empty() && !headers.contains("Content-Type")) headers["Content-Type"] = "application/json";
  return c.request(method, path, body, headers);
}

inline std::string doc_path(std::string const& id, std::string const& rest = "") {
  return "/api/v1/documents/" + id + rest;
}

/// Creates a document; returns its id.
inline std::string create_doc(HttpClient& c, Member const& who, std::string const& title,
                              std::string const& extra = "") {
  auto r = call(c, who, "POST", "/api/v1/documents",
                R"({"title":)" + boost::json::serialize(boost::json::value(title)) + extra + "}");
  REQUIRE(r.status == 201);
  return str(r, "id");
}

inline HttpResponse patch_doc(HttpClient& c, Member const& who, std::string const& id,
                              std::string const& body, std::string const& if_match) {
  return call(c, who, "PATCH", doc_path(id), body, {{"If-Match", if_match}});
}

/// Every id of a list, following next_cursor from `first` (a path with its query).
inline std::vector<std::string> all_ids(HttpClient& c, Member const& who, std::string const& first) {
  std::vector<std::string> ids;
  std::string next = first;
  for (int pages = 0; pages < 1000; ++pages) {
    auto r = call(c, who, "GET", next);
    REQUIRE(r.status == 200);
    const boost::json::value body = r.json();
    for (auto const& item : body.at("items").as_array()) ids.emplace_back(item.at("id").as_string());
    auto const& cursor = body.at("next_cursor");
    if (cursor.is_null()) break;
    next = first + (first.find('?') == std::string::npos ? "?" : "&") +
           "cursor=" + std::string(cursor.as_string());
  }
  return ids;
}

}  // namespace bookspace::testing
