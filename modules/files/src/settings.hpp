#pragma once

// The files module's configuration (files.*), read and checked once when the module is made;
// nothing else in the module reads configuration keys. Declared in declare_config
// (files_module.cpp), documented in config/bookspace.jsonc.

#include "file_jobs.hpp"
#include "service.hpp"
#include "tus.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace bookspace::app {
class Config;
}
namespace bookspace::core {
class Logger;
}

namespace bookspace::files {

struct FilesSettings {
  std::filesystem::path storage_dir;  ///< files.storage_dir, else <data_dir>/blobs
  std::size_t io_threads = 2;
  std::uint64_t max_file_bytes = 0;
  std::chrono::seconds gc_interval{600};
  Settings service;  ///< quota, blob grace, link key, allowed types, cache
  TusSettings tus;
  JobSettings jobs;
};

/// Reads files.* from `config`; the link key comes from files.link_key or, when that is empty,
/// is generated once into `data_dir` (every instance must share it). Throws on a bad link key.
FilesSettings settings_from(app::Config const& config, std::string const& data_dir, core::Logger& log);

}  // namespace bookspace::files
