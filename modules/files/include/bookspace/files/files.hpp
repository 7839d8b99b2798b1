#pragma once

#include "app/module.hpp"

namespace bookspace::files {

/// The files module: streamed uploads into content-addressed, deduplicated storage, per-user
/// quotas, downloads with ETag and Range (sendfile), attachment to documents. Depends on auth and
/// documents. See docs/modules/files.md.
app::ModuleDescriptor files_module();

/// The events this module publishes: <bookspace/files/events.hpp>.

}  // namespace bookspace::files
