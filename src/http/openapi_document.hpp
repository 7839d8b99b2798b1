#pragma once

// /openapi.json: the OpenAPI 3.0.3 document assembled from the routes registered so far (each
// carries its operation, http/openapi.hpp) and the modules' schemas — operation ids, the
// problem responses every route shares, response headers, security, the license.

#include <boost/json/object.hpp>

namespace bookspace::http {

class Router;

/// The document for `router`'s routes (internal ones left out), with `module_schemas` in
/// components.schemas beside the kernel's own (Problem, Health, Readiness).
boost::json::object build_openapi(Router const& router, boost::json::object const& module_schemas);

}  // namespace bookspace::http
