#pragma once

// Resumable uploads: tus 1.0.0 (core, creation, creation-with-upload, termination, expiration)
// at /api/v1/uploads. The bytes go to the blob store's partial area under the upload's id; the
// durable offset and a write lease live in files_uploads; the completed upload becomes a File
// through the same steps as a direct upload (Service::ingest and Service::record).

#include <cstdint>

namespace bookspace::http {
class Router;
}
namespace soci {
class session;
}

namespace bookspace::files {

class Service;

struct TusSettings {
  std::uint64_t max_bytes = 0;    ///< files.max_file_bytes
  std::int64_t expiry_s = 86400;  ///< files.upload_expiry_s: an upload untouched this long is swept
};

void add_tus_routes(http::Router& router, Service& service, TusSettings settings);

/// Removes uploads past their expiry (rows and bytes), at most `batch`; returns how many.
std::size_t sweep_uploads(soci::session& sql, Service& service, int batch);

}  // namespace bookspace::files
