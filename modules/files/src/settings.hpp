#pragma once

// The files module's configuration (files.*), read and checked once when the module is made;
// nothing else in the module reads configuration keys. Declared in declare_config
// (files_module.cpp), documented in config/bookspace.jsonc.

#include "file_jobs.hpp"
#include "s3_client.hpp"
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
  bool s3 = false;  ///< files.storage is "s3": blobs in files.s3.* (storage_dir: scratch only)
  S3Config s3_config;
  std::size_t io_threads = 2;
  std::uint64_t max_file_bytes = 0;
  std::chrono::seconds gc_interval{600};
  Settings service;  ///< quota, blob grace, link key, allowed types, cache
  TusSettings tus;
  JobSettings jobs;
};

/// Reads files.* from `config`; the link key comes from files.link_key or, when that is empty,
/// is generated once into `data_dir` (every instance must share it). Throws on a bad link key or
/// an incomplete S3 configuration.
FilesSettings settings_from(app::Config const& config, std::string const& data_dir, core::Logger& log);

/// files.s3.* as an S3Config; throws std::runtime_error naming the key that is missing or wrong.
S3Config s3_settings(app::Config const& config);

}  // namespace bookspace::files
