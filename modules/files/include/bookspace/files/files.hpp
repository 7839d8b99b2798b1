#pragma once

#include "app/module.hpp"

#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}
namespace bookspace::core {
class Tx;
}

namespace bookspace::files {

/// The files module: streamed uploads into content-addressed, deduplicated storage, per-user
/// quotas, downloads with ETag and Range (sendfile), attachment to documents. Depends on auth and
/// documents. See docs/modules/files.md.
app::ModuleDescriptor files_module();

/// A file as other modules' background work sees it.
struct FileInfo {
  std::string id, name, content_type, owner_id;
  std::optional<std::string> document_id;
  long long created_at = 0;
};

/// A read-only export of files for system work (search's reindex): blocking calls on the
/// caller's own connection. Provided through the ServiceRegistry.
class Catalog {
 public:
  virtual ~Catalog() = default;
  /// All files in id order after `after_id`, at most `n`.
  virtual std::vector<FileInfo> page(soci::session& sql, std::string const& after_id, int n) = 0;
  /// Asks for the file's text again, in `tx`: a files.extract_text job (one per `key`) whose
  /// files.text_extracted.v1 follows. False when none will come (no jobs module, no text in
  /// its type).
  virtual bool request_text(core::Tx& tx, FileInfo const& file, std::string const& key) = 0;
};

/// The events this module publishes: <bookspace/files/events.hpp>.

}  // namespace bookspace::files
