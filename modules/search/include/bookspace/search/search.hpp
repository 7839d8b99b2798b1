#pragma once

#include "app/module.hpp"

namespace bookspace::search {

/// The search module: full-text search over documents and files' text, permission-aware, on
/// SQLite FTS5 and PostgreSQL tsvector alike, fed by documents' and files' events. See
/// docs/modules/search.md.
app::ModuleDescriptor search_module();

}  // namespace bookspace::search
