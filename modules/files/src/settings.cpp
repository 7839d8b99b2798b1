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

S3Config s3_settings(app::Config const& c) {
  S3Config s;
  s.endpoint = c.str("files.s3.endpoint");
  s.region = c.str("files.s3.region");
  s.bucket = c.str("files.s3.bucket");
  s.access_key_id = c.str("files.s3.access_key_id");
  s.secret_access_key = c.str("files.s3.secret_access_key");
  s.path_style = c.boolean("files.s3.path_style");
  s.prefix = c.str("files.s3.prefix");
  s.part_size = static_cast<std::uint64_t>(c.integer("files.s3.part_size_bytes"));
  s.presign_downloads = c.boolean("files.s3.presign_downloads");
  s.ca_file = c.str("files.s3.ca_file");
  for (auto [key, value] :
       {std::pair{"files.s3.endpoint", &s.endpoint}, std::pair{"files.s3.bucket", &s.bucket},
        std::pair{"files.s3.access_key_id", &s.access_key_id},
        std::pair{"files.s3.secret_access_key", &s.secret_access_key},
        std::pair{"files.s3.region", &s.region}})
    if (value->empty()) throw std::runtime_error(std::string(key) + " is required with files.storage \"s3\"");
  if (!s.endpoint.starts_with("http://") && !s.endpoint.starts_with("https://"))
    throw std::runtime_error("files.s3.endpoint: http(s)://host[:port]");
  return s;
}

FilesSettings settings_from(app::Config const& c, std::string const& data_dir, core::Logger& log) {
  FilesSettings s;
  const auto dir = c.str("files.storage_dir");
  s.storage_dir = dir.empty() ? std::filesystem::path(data_dir) / "blobs" : std::filesystem::path(dir);
  const auto storage = c.str("files.storage");
  if (storage != "local" && storage != "s3") throw std::runtime_error("files.storage: \"local\" or \"s3\"");
  s.s3 = storage == "s3";
  if (s.s3) s.s3_config = s3_settings(c);
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
