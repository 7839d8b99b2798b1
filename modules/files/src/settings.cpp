#include "settings.hpp"

#include "app/config.hpp"
#include "core/ids.hpp"
#include "core/secret_file.hpp"

#include <sodium.h>

#include <stdexcept>

namespace bookspace::files {

namespace {

std::string new_link_key() {
  unsigned char key[32];
  randombytes_buf(key, sizeof key);
  return core::base64url_encode(std::string_view(reinterpret_cast<char const*>(key), sizeof key));
}

/// The HMAC key of signed links: files.link_key, else generated once into the data directory
/// (like the token signing key). Instances must share it.
std::string link_key(app::Config const& config, std::string const& data_dir, core::Logger& log) {
  std::string text = config.str("files.link_key");
  if (text.empty())
    text = core::load_or_create_secret(std::filesystem::path(data_dir) / "files-link-key", &new_link_key, log,
                                       "file link key");
  auto key = core::base64url_decode(text);
  if (!key || key->size() < 32) throw std::runtime_error("files.link_key: 32 or more bytes, base64url");
  return *key;
}

}  // namespace

FilesSettings settings_from(app::Config const& c, std::string const& data_dir, core::Logger& log) {
  FilesSettings s;
  const auto dir = c.str("files.storage_dir");
  s.storage_dir = dir.empty() ? std::filesystem::path(data_dir) / "blobs" : std::filesystem::path(dir);
  s.io_threads = static_cast<std::size_t>(c.integer("files.io_threads"));
  s.max_file_bytes = static_cast<std::uint64_t>(c.integer("files.max_file_bytes"));
  s.gc_interval = std::chrono::seconds(c.integer("files.gc_interval_s"));
  s.service = {c.integer("files.quota_bytes"), c.integer("files.blob_grace_s"), link_key(c, data_dir, log),
               c.list("files.allowed_types"), c.integer("files.cache_ms")};
  s.tus = {s.max_file_bytes, c.integer("files.upload_expiry_s")};
  s.jobs = {static_cast<std::size_t>(c.integer("files.extract_max_bytes")),
            static_cast<int>(c.integer("files.extract_timeout_s")), 1800};
  return s;
}

}  // namespace bookspace::files
