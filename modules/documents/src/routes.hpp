#pragma once

#include <boost/json/object.hpp>

namespace bookspace::http {
class Router;
}

namespace bookspace::documents {

class Service;

/// /api/v1/documents… and /api/v1/trash… (API.md, Documents).
void add_routes(http::Router& router, Service& service);
/// The OpenAPI schemas those routes refer to.
boost::json::object openapi_schemas();

}  // namespace bookspace::documents
