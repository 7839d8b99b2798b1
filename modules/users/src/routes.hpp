#pragma once

#include <boost/json/object.hpp>

namespace bookspace::http {
class Router;
}

namespace bookspace::users {

class Service;

/// /api/v1/users… (API.md, Users).
void add_routes(http::Router& router, Service& service);
/// The OpenAPI schemas those routes refer to (`User` is auth's).
boost::json::object openapi_schemas();

}  // namespace bookspace::users
