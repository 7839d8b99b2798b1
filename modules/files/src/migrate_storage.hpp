#pragma once

// `bookspace files migrate-storage --to s3|local` (migrate_storage.cpp).

#include "app/module.hpp"

namespace bookspace::files {

int migrate_storage_command(app::CommandContext& ctx);

}  // namespace bookspace::files
