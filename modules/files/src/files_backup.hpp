#pragma once

// The files module's part of backups (files_backup.cpp): its blobs.

#include "app/module.hpp"

namespace bookspace::files {

void backup_save(app::BackupContext& ctx);
void backup_verify(app::BackupContext& ctx);
void backup_restore(app::BackupContext& ctx);

}  // namespace bookspace::files
