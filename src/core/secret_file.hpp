#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace bookspace::core {

class Logger;

/// A secret kept in a file of the data directory (mode 0600): read when the file exists, else
/// made with `make`, written and fsynced. O_EXCL: of two instances starting on a fresh data
/// directory, one writes and both read it. `what` names it in the log ("token signing key").
std::string load_or_create_secret(std::filesystem::path const& path, std::function<std::string()> const& make,
                                  Logger& log, std::string_view what);

}  // namespace bookspace::core
