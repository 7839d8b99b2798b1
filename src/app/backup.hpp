#pragma once

// `bookspace backup --to DIR`, `bookspace backup verify DIR`, `bookspace restore --from DIR`
// (backup.cpp). Exit codes: 0 done, 1 failed or found a problem, 2 refused (usage, a non-empty
// target).

#include "app/module.hpp"

#include <string>
#include <vector>

namespace bookspace::app {

int cmd_backup(Config const& config, std::vector<ModuleDescriptor> const& modules,
               std::vector<std::string> const& args);
int cmd_restore(Config const& config, std::vector<ModuleDescriptor> const& modules,
                std::vector<std::string> const& args);

}  // namespace bookspace::app
