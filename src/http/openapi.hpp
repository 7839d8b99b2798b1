#pragma once

// Helpers for the OpenAPI 3.0.3 documents routes carry in RouteOptions::openapi and modules
// return from Module::openapi_schemas(). /openapi.json is assembled from them.

#include "http/router.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <initializer_list>
#include <string_view>

namespace bookspace::http::openapi {

/// {"$ref": "#/components/schemas/<name>"}
boost::json::object ref(std::string_view schema);
/// A response whose body is JSON of `schema` (a ref or an inline schema).
boost::json::object json_response(std::string_view description, boost::json::value schema);
/// A response without a body.
boost::json::object empty_response(std::string_view description);
/// An Operation: summary and responses; a required JSON request body when `request` is set.
boost::json::object operation(std::string_view summary, boost::json::object responses,
                              boost::json::value request = nullptr);
/// A closed object schema (additionalProperties false) with `required` properties.
boost::json::object object(boost::json::object properties, std::initializer_list<std::string_view> required);
/// {"items": [item…], "next_cursor": string | null}
boost::json::object list_of(boost::json::value item);

boost::json::object string();
boost::json::object nullable_string();
boost::json::object date_time();  ///< RFC 3339 with milliseconds
boost::json::object nullable_date_time();
boost::json::object integer();
boost::json::object boolean();
boost::json::object enumeration(std::initializer_list<std::string_view> values);

/// A Parameter object: `in` is "query", "path" or "header".
boost::json::object param(std::string_view name, std::string_view in, boost::json::object schema,
                          std::string_view description);
/// `operation` with its "parameters" set to `params`.
boost::json::object with_params(boost::json::object operation,
                                std::initializer_list<boost::json::object> params);
/// The `?limit=` (1–100, default 20) and `?cursor=` parameters every list route takes.
boost::json::object limit_param();
boost::json::object cursor_param();
/// A list operation: `operation` with limit_param(), cursor_param() and then `more`.
boost::json::object list_operation(boost::json::object operation,
                                   std::initializer_list<boost::json::object> more = {});
/// `options` carrying `operation` as its OpenAPI document.
RouteOptions documented(boost::json::object operation, RouteOptions options = {});

}  // namespace bookspace::http::openapi
