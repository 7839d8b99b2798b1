#pragma once

#include "app/module.hpp"

#include <optional>
#include <string>
#include <vector>

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

/// Files for system work (search's reindex). Provided through the ServiceRegistry.
class Catalog {
 public:
  virtual ~Catalog() = default;
  /// All files in id order after `after_id`, at most `n`. Blocking (a job or scheduler thread, a
  /// CLI command; never an io thread), read on a connection of the module's own: committed
  /// state as of the call, never part of a transaction of the caller.
  virtual std::vector<FileInfo> page(std::string const& after_id, int n) = 0;
  /// Asks for the file's text again: a files.extract_text job (one per `key`) whose
  /// files.text_extracted.v1 follows. False when none will come (no jobs module, no text in
  /// its type). This one takes the caller's transaction on purpose: the job is enqueued
  /// atomically with what the caller writes (search's index entry that waits for the text), so
  /// neither exists without the other (docs/architecture.md, "Cross-module calls").
  virtual bool request_text(core::Tx& tx, FileInfo const& file, std::string const& key) = 0;
};

/// The events this module publishes: <bookspace/files/events.hpp>.

}  // namespace bookspace::files
