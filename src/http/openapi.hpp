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
/// `param` marked required (a query or header parameter the server insists on).
boost::json::object required(boost::json::object param);
/// `operation` with its "parameters" set to `params`.
boost::json::object with_params(boost::json::object operation,
                                std::initializer_list<boost::json::object> params);
/// The `?limit=` (1–100, default 20) and `?cursor=` parameters every list route takes.
boost::json::object limit_param();
boost::json::object cursor_param();
/// A list operation: `operation` with limit_param(), cursor_param() and then `more`.
boost::json::object list_operation(boost::json::object operation,
                                   std::initializer_list<boost::json::object> more = {});
/// `operation` with problem+json responses for `statuses` ("403", "412"…): the ways API.md says
/// it can fail beyond those every route shares (400, 401, 404 on ids, 413, 415, 429, 503).
boost::json::object with_problems(boost::json::object operation,
                                  std::initializer_list<std::string_view> statuses);
/// `response` with the named headers (components.headers: ETag, Location, Content-Range,
/// Content-Disposition, Accept-Ranges, X-Content-Type-Options, Cache-Control, BookSpace-File-Id,
/// and tus's Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Upload-Offset,
/// Upload-Length, Upload-Metadata, Upload-Expires).
boost::json::object with_headers(boost::json::object response, std::initializer_list<std::string_view> names);
/// A response whose body is bytes of any media type (a file's own).
boost::json::object binary_response(std::string_view description);
/// `operation` with an optional JSON request body of `schema`.
boost::json::object with_optional_body(boost::json::object operation, boost::json::value schema);

/// `options` carrying `operation` as its OpenAPI document.
RouteOptions documented(boost::json::object operation, RouteOptions options = {});

}  // namespace bookspace::http::openapi
