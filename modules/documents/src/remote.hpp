#pragma once

// Documents across processes (a split deployment, docs/operations.md): the internal routes the
// documents process serves to other processes, and the stand-in those processes run in its
// place. Together they carry documents' public interfaces (Access, Catalog) over HTTP, so a
// module that uses them (files, search) runs in another process without a line changed.

#include "app/module.hpp"

#include <memory>

namespace bookspace::core {
class Database;
}

namespace bookspace::http {
class Router;
}

namespace bookspace::documents {

class Access;
class Catalog;

/// What the internal routes answer from: the documents module's own Access and Catalog.
struct InternalDeps {
  Access& access;
  Catalog& catalog;
  core::Database& db;
};

/// GET /internal/documents/… (http::Auth::service): role, readers, ids and snapshots.
void add_internal_routes(http::Router& router, InternalDeps& deps);

/// Access and Catalog from `documents.remote_url`, with `cluster.service_key`.
std::unique_ptr<app::Module> documents_stand_in(app::ModuleContext& ctx);

}  // namespace bookspace::documents
