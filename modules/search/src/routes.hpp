#pragma once

#include <boost/json/object.hpp>

namespace bookspace::http {
class Router;
}

namespace bookspace::search {

class Service;

void add_routes(http::Router& router, Service& service);
boost::json::object openapi_schemas();

}  // namespace bookspace::search
