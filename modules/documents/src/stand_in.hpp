#pragma once

// Documents in a process that does not run them: Access and Catalog over HTTP to the process
// that does (its internal routes, internal_routes.hpp), through one http::Peer (service key,
// retries, circuit breaker, metrics). A module that uses them (files, search) runs in another
// process without a line changed.

#include "app/module.hpp"

#include <memory>

namespace bookspace::documents {

/// Access and Catalog from `documents.remote_url`, with `cluster.service_key`.
std::unique_ptr<app::Module> documents_stand_in(app::ModuleContext& ctx);

}  // namespace bookspace::documents
