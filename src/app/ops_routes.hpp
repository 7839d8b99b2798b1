#pragma once

#include "app/application_parts.hpp"

namespace bookspace::app {

/// /healthz, /readyz, /metrics, /openapi.json, /docs — the kernel's own endpoints.
void register_ops_routes(Application::Parts& parts);

/// OpenAPI 3.0.3 for the routes registered so far (enabled modules only) and their schemas.
boost::json::object build_openapi(http::Router const& router,
                                  std::vector<std::unique_ptr<Module>> const& modules);

/// The self-contained HTML page served at /docs.
std::string_view docs_page_html();

}  // namespace bookspace::app
