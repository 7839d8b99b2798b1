#pragma once

#include <boost/json/object.hpp>

#include <cstdint>

namespace bookspace::http {
class Router;
}

namespace bookspace::files {

class Service;

void add_routes(http::Router& router, Service& service, std::uint64_t max_file_bytes);
boost::json::object openapi_schemas();

}  // namespace bookspace::files
