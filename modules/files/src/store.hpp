#pragma once

// The files module's repository: every SQL statement on files_* (migrations/files). Callers own
// transactions. Times are ms since the epoch.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bookspace::core {
class Tx;
}

namespace soci {
class session;
}

namespace bookspace::files {

struct File {
  std::string id, name, content_type, sha256, owner_id;
  std::int64_t size = 0;
  std::optional<std::string> document_id;
  long long created_at = 0;
};

void insert_file(soci::session& sql, File const& f);
std::optional<File> find_file(soci::session& sql, std::string const& id);
/// The owner's files, or a document's (`document_id`), newest first, ids below `before_id`.
std::vector<File> list_files(soci::session& sql, std::optional<std::string> const& owner_id,
                             std::optional<std::string> const& document_id, std::string const& before_id,
                             int n);
bool delete_file(soci::session& sql, std::string const& id);
/// All files in id order after `after_id`, at most `n`.
std::vector<File> files_after(soci::session& sql, std::string const& after_id, int n);
/// Every file attached to the document.
std::vector<File> files_of_document(soci::session& sql, std::string const& document_id);

/// Logical bytes the user's files take (what the quota counts; shared blobs count per file).
std::int64_t used_bytes(soci::session& sql, std::string const& owner_id);
/// Bytes reserved by the owner's unfinished resumable uploads (their Upload-Length), but for the
/// upload `except` (the one being completed, whose File takes its place).
std::int64_t pending_bytes(soci::session& sql, std::string const& owner_id, std::string const& except = {});
/// Serialises, until the transaction ends, the quota decisions of one owner across connections
/// and instances (PostgreSQL: an advisory lock; SQLite's write transactions are serial already).
void lock_owner_quota(core::Tx& tx, std::string const& owner_id);

/// An administrator's quota for the user (0: none); nullopt: the configured default applies.
std::optional<std::int64_t> quota_of(soci::session& sql, std::string const& user_id);
void set_quota(soci::session& sql, std::string const& user_id, std::int64_t bytes, long long now);
void clear_quota(soci::session& sql, std::string const& user_id);

/// One more file points at the blob (a new row, or refs + 1 and no longer unreferenced).
void reference_blob(soci::session& sql, std::string const& sha256, std::int64_t size, long long now);
/// One file fewer; at 0 the blob is unreferenced from `now` (the GC deletes it after the grace).
void release_blob(soci::session& sql, std::string const& sha256, long long now);
/// A stored blob no file references (an upload refused after its content was stored): known to
/// the GC, which removes it after the grace unless a file takes it meanwhile.
void note_unreferenced(soci::session& sql, std::string const& sha256, std::int64_t size, long long now);
/// Blobs unreferenced since before `cutoff`, at most `n`.
std::vector<std::string> unreferenced_blobs(soci::session& sql, long long cutoff, int n);
/// Deletes the blob's row if it is still unreferenced; true when deleted (then remove the file).
/// Whether a row names the blob (referenced or waiting for the GC) / the resumable upload.
bool blob_known(soci::session& sql, std::string const& sha256);
bool upload_known(soci::session& sql, std::string const& id);
bool forget_blob(soci::session& sql, std::string const& sha256);
/// Every known blob (referenced or waiting for the GC) in hash order after `after`: hash, size.
std::vector<std::pair<std::string, std::int64_t>> blobs_after(soci::session& sql, std::string const& after,
                                                              int n);
/// How many blobs are known, and their bytes.
std::pair<std::size_t, std::uint64_t> blob_totals(soci::session& sql);

// --- resumable uploads (tus) ----------------------------------------------------------------

struct UploadRow {
  std::string id, owner_id, metadata, name;
  std::int64_t length = 0, offset = 0;
  std::optional<std::string> content_type, document_id, file_id, lease_holder;
  long long lease_until = 0, created_at = 0, expires_at = 0;
  std::string store_state;  ///< the blob store's own (BlobStore::Partial::state), saved with the offset
};

void insert_upload(soci::session& sql, UploadRow const& u);
std::optional<UploadRow> find_upload(soci::session& sql, std::string const& id);
/// Takes the write lease of the unfinished upload at `offset` when it is free, expired, or
/// held by `stale_holder` (a dead process); false otherwise.
bool take_upload_lease(soci::session& sql, std::string const& id, std::int64_t offset,
                       std::string const& holder, long long now, long long until,
                       std::string const& stale_holder);
/// Records the durable offset under the lease (renewing it, moving the expiry); false when the
/// lease is no longer `holder`'s.
bool save_upload_offset(soci::session& sql, std::string const& id, std::int64_t offset,
                        std::string const& state, std::string const& holder, long long lease_until,
                        long long expires_at);
void release_upload_lease(soci::session& sql, std::string const& id, std::string const& holder);
/// Records the upload's File; false when another request completed it first.
bool complete_upload(soci::session& sql, std::string const& id, std::string const& file_id);
bool delete_upload(soci::session& sql, std::string const& id);
/// Uploads past their expiry (finished or not), at most `n`.
std::vector<std::string> expired_uploads(soci::session& sql, long long now, int n);

// --- exports ----------------------------------------------------------------------------------

std::optional<std::string> export_of(soci::session& sql, std::string const& job_id);
void insert_export(soci::session& sql, std::string const& job_id, std::string const& file_id, long long now);
void delete_export(soci::session& sql, std::string const& job_id);

// --- S3 objects of blobs (files_blob_objects; the S3 blob store's) ------------------------------

/// Records that `key` holds the content `sha256`, unless another object already does: returns
/// the object that holds it now (ours, or the earlier one, whose time it refreshes).
std::string map_blob_object(soci::session& sql, std::string const& sha256, std::string const& key,
                            std::int64_t size, long long now);
std::optional<std::string> blob_object(soci::session& sql, std::string const& sha256);
/// Drops the mapping unless it was touched since `before`; the object to delete, if dropped.
std::optional<std::string> unmap_blob_object(soci::session& sql, std::string const& sha256, long long before);
/// Mapped contents after `after` in hash order, untouched since `before`, at most `n`.
std::vector<std::string> mapped_blobs_after(soci::session& sql, std::string const& after, long long before,
                                            int n);
bool object_key_mapped(soci::session& sql, std::string const& key);
struct BlobObject {
  std::string sha256, key;
  std::int64_t size = 0;
};
/// Every mapping in hash order after `after`, at most `n` (storage migration, backups).
std::vector<BlobObject> blob_objects_after(soci::session& sql, std::string const& after, int n);

}  // namespace bookspace::files
