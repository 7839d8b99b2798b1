#pragma once

#include <boost/json/object.hpp>

namespace bookspace::http {
class Router;
}

namespace bookspace::jobs {

class Service;
class QueueImpl;

void add_routes(http::Router& router, Service& service);
/// `Job`, `JobSubmission` (its `type` enum lists the registered types as of the call).
boost::json::object openapi_schemas(QueueImpl const& queue);

}  // namespace bookspace::jobs
