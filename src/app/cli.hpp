#pragma once

#include "app/module.hpp"

#include <vector>

namespace bookspace::app {

/// `bookspace <command> [options]`: serve, migrate, modules, config, version, help.
/// Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
int run_cli(int argc, char** argv, char** envp, std::vector<ModuleDescriptor> modules);

}  // namespace bookspace::app
