#pragma once

// The routes the documents process serves to other processes (a split deployment,
// docs/operations.md): what their stand-ins (stand_in.hpp) call to carry Access and Catalog.

namespace bookspace::core {
class Database;
}
namespace bookspace::http {
class Router;
}

namespace bookspace::documents {

class Access;

/// What the internal routes answer from: the module's own Access and its pool.
struct InternalDeps {
  Access& access;
  core::Database& db;
};

/// GET /internal/documents/… (http::Auth::service): role, readers, ids and snapshots.
void add_internal_routes(http::Router& router, InternalDeps& deps);

}  // namespace bookspace::documents
