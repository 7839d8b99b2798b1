#include "store.hpp"

#include "core/database.hpp"
#include "core/prepared.hpp"
#include "core/sql.hpp"

#include <soci/soci.h>

namespace bookspace::files {

using soci::into;
using soci::use;
namespace db = core::sql;

namespace {

#define FILE_COLUMNS "id, name, content_type, size, sha256, owner_id, document_id, created_at"

constexpr std::string_view insert_sql =
    "INSERT INTO files_files (id, name, content_type, size, sha256, owner_id, document_id, created_at)"
    " VALUES (:id, :name, :type, :size, :sha, :owner, :doc, :created)";
constexpr std::string_view insert_unattached_sql =
    "INSERT INTO files_files (id, name, content_type, size, sha256, owner_id, document_id, created_at)"
    " VALUES (:id, :name, :type, :size, :sha, :owner, NULL, :created)";
constexpr std::string_view find_sql = "SELECT " FILE_COLUMNS " FROM files_files WHERE id = :id";
constexpr std::string_view delete_sql = "DELETE FROM files_files WHERE id = :id";
constexpr std::string_view of_document_sql =
    "SELECT " FILE_COLUMNS " FROM files_files WHERE document_id = :doc";
constexpr std::string_view files_after_sql =
    "SELECT " FILE_COLUMNS " FROM files_files WHERE id > :after ORDER BY id LIMIT :n";
constexpr std::string_view used_sql =
    "SELECT COALESCE(SUM(size), 0) FROM files_files WHERE owner_id = :owner";
constexpr std::string_view pending_sql =
    "SELECT COALESCE(SUM(length), 0) FROM files_uploads WHERE owner_id = :owner AND file_id IS NULL"
    " AND id <> :except";
constexpr std::string_view pg_owner_lock_sql =
    "SELECT 1 FROM pg_advisory_xact_lock(hashtextextended(:owner, 21))";
constexpr std::string_view reference_sql =
    "INSERT INTO files_blobs (sha256, size, refs, created_at) VALUES (:sha, :size, 1, :now)"
    " ON CONFLICT (sha256) DO UPDATE SET refs = files_blobs.refs + 1, unreferenced_at = NULL";
constexpr std::string_view release_sql =
    "UPDATE files_blobs SET refs = refs - 1, unreferenced_at = CASE WHEN refs = 1 THEN CAST(:now AS BIGINT)"
    " ELSE NULL END WHERE sha256 = :sha";
constexpr std::string_view note_unreferenced_sql =
    "INSERT INTO files_blobs (sha256, size, refs, created_at, unreferenced_at) VALUES (:sha, :size, 0, :now, "
    ":now2)"
    " ON CONFLICT (sha256) DO NOTHING";
constexpr std::string_view unreferenced_sql =
    "SELECT sha256 FROM files_blobs WHERE refs = 0 AND unreferenced_at < :cutoff ORDER BY unreferenced_at "
    "LIMIT :n";
constexpr std::string_view forget_sql = "DELETE FROM files_blobs WHERE sha256 = :sha AND refs = 0";
constexpr std::string_view blobs_after_sql =
    "SELECT sha256, size FROM files_blobs WHERE sha256 > :after ORDER BY sha256 LIMIT :n";
constexpr std::string_view blob_totals_sql = "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM files_blobs";
constexpr std::string_view blob_known_sql = "SELECT COUNT(*) FROM files_blobs WHERE sha256 = :sha";
constexpr std::string_view upload_known_sql = "SELECT COUNT(*) FROM files_uploads WHERE id = :id";
constexpr std::string_view quota_sql = "SELECT quota_bytes FROM files_quotas WHERE user_id = :u";
constexpr std::string_view set_quota_sql =
    "INSERT INTO files_quotas (user_id, quota_bytes, updated_at) VALUES (:u, :q, :now)"
    " ON CONFLICT (user_id) DO UPDATE SET quota_bytes = excluded.quota_bytes, updated_at = "
    "excluded.updated_at";
constexpr std::string_view clear_quota_sql = "DELETE FROM files_quotas WHERE user_id = :u";

File read_file(soci::row const& r) {
  File f;
  f.id = db::get_text(r, 0);
  f.name = db::get_text(r, 1);
  f.content_type = db::get_text(r, 2);
  f.size = db::get_int(r, 3);
  f.sha256 = db::get_text(r, 4);
  f.owner_id = db::get_text(r, 5);
  f.document_id = db::get_opt_text(r, 6);
  f.created_at = db::get_int(r, 7);
  return f;
}

}  // namespace

void insert_file(soci::session& sql, File const& f) {
  if (f.document_id) {
    core::execute(sql, insert_sql, f.id, f.name, f.content_type, f.size, f.sha256, f.owner_id, *f.document_id,
                  f.created_at);
  } else {
    core::execute(sql, insert_unattached_sql, f.id, f.name, f.content_type, f.size, f.sha256, f.owner_id,
                  f.created_at);
  }
}

std::optional<File> find_file(soci::session& sql, std::string const& id) {
  soci::rowset<soci::row> rows = (sql.prepare << find_sql, use(id));
  for (auto const& r : rows) return read_file(r);
  return std::nullopt;
}

std::vector<File> list_files(soci::session& sql, std::optional<std::string> const& owner_id,
                             std::optional<std::string> const& document_id, std::string const& before_id,
                             int n) {
  std::string text = "SELECT " FILE_COLUMNS " FROM files_files WHERE 1 = 1";
  if (owner_id) text += " AND owner_id = :owner";
  if (document_id) text += " AND document_id = :doc";
  if (!before_id.empty()) text += " AND id < :before";
  text += " ORDER BY id DESC LIMIT :n";
  soci::statement st(sql);
  st.alloc();
  st.prepare(text);
  soci::row row;
  st.exchange(into(row));
  if (owner_id) st.exchange(use(*owner_id));
  if (document_id) st.exchange(use(*document_id));
  if (!before_id.empty()) st.exchange(use(before_id));
  st.exchange(use(n));
  st.define_and_bind();
  std::vector<File> out;
  if (st.execute(true)) {
    do {
      out.push_back(read_file(row));
    } while (st.fetch());
  }
  return out;
}

bool delete_file(soci::session& sql, std::string const& id) {
  return core::execute(sql, delete_sql, id) == 1;
}

std::vector<File> files_after(soci::session& sql, std::string const& after_id, int n) {
  std::vector<File> out;
  soci::rowset<soci::row> rows = (sql.prepare << files_after_sql, use(after_id), use(n));
  for (auto const& r : rows) out.push_back(read_file(r));
  return out;
}

std::vector<File> files_of_document(soci::session& sql, std::string const& document_id) {
  std::vector<File> out;
  soci::rowset<soci::row> rows = (sql.prepare << of_document_sql, use(document_id));
  for (auto const& r : rows) out.push_back(read_file(r));
  return out;
}

std::int64_t used_bytes(soci::session& sql, std::string const& owner_id) {
  long long used = 0;
  sql << used_sql, use(owner_id), into(used);
  return used;
}

std::int64_t pending_bytes(soci::session& sql, std::string const& owner_id, std::string const& except) {
  long long pending = 0;
  sql << pending_sql, use(owner_id), use(except), into(pending);
  return pending;
}

void lock_owner_quota(core::Tx& tx, std::string const& owner_id) {
  if (tx.dialect != core::Dialect::postgresql) return;
  int one = 0;
  tx.sql << pg_owner_lock_sql, use(owner_id), into(one);
}

std::optional<std::int64_t> quota_of(soci::session& sql, std::string const& user_id) {
  long long bytes = 0;
  soci::indicator ind = soci::i_null;
  sql << quota_sql, use(user_id), into(bytes, ind);
  if (!sql.got_data()) return std::nullopt;
  return bytes;
}

void set_quota(soci::session& sql, std::string const& user_id, std::int64_t bytes, long long now) {
  core::execute(sql, set_quota_sql, user_id, static_cast<long long>(bytes), now);
}

void clear_quota(soci::session& sql, std::string const& user_id) {
  core::execute(sql, clear_quota_sql, user_id);
}

void reference_blob(soci::session& sql, std::string const& sha256, std::int64_t size, long long now) {
  core::execute(sql, reference_sql, sha256, static_cast<long long>(size), now);
}

void release_blob(soci::session& sql, std::string const& sha256, long long now) {
  core::execute(sql, release_sql, now, sha256);
}

void note_unreferenced(soci::session& sql, std::string const& sha256, std::int64_t size, long long now) {
  core::execute(sql, note_unreferenced_sql, sha256, static_cast<long long>(size), now, now);
}

std::vector<std::string> unreferenced_blobs(soci::session& sql, long long cutoff, int n) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows = (sql.prepare << unreferenced_sql, use(cutoff), use(n));
  for (auto const& s : rows) out.push_back(s);
  return out;
}

bool blob_known(soci::session& sql, std::string const& sha256) {
  long long n = 0;
  sql << blob_known_sql, use(sha256), into(n);
  return n > 0;
}

bool upload_known(soci::session& sql, std::string const& id) {
  long long n = 0;
  sql << upload_known_sql, use(id), into(n);
  return n > 0;
}

bool forget_blob(soci::session& sql, std::string const& sha256) {
  return core::execute(sql, forget_sql, sha256) == 1;
}

// --- resumable uploads ------------------------------------------------------------------------

namespace {

#define UPLOAD_COLUMNS                                                                                     \
  "id, owner_id, length, upload_offset, metadata, name, content_type, document_id, file_id, lease_holder," \
  " lease_until, created_at, expires_at"

constexpr std::string_view insert_upload_sql = "INSERT INTO files_uploads (" UPLOAD_COLUMNS
                                               ") VALUES (:id, :owner, :length, 0, :metadata, :name, :type,"
                                               " :doc, NULL, NULL, NULL, :created, :expires)";
constexpr std::string_view find_upload_sql =
    "SELECT " UPLOAD_COLUMNS ", store_state FROM files_uploads WHERE id = :id";
constexpr std::string_view take_lease_sql =
    "UPDATE files_uploads SET lease_holder = :holder, lease_until = :until WHERE id = :id AND upload_offset ="
    " :offset AND file_id IS NULL AND (lease_holder IS NULL OR lease_until < :now OR lease_holder = :stale)";
constexpr std::string_view save_offset_sql =
    "UPDATE files_uploads SET upload_offset = :offset, store_state = :state, lease_until = :until,"
    " expires_at = :expires WHERE id = :id AND lease_holder = :holder";
constexpr std::string_view release_lease_sql =
    "UPDATE files_uploads SET lease_holder = NULL, lease_until = NULL WHERE id = :id AND lease_holder = "
    ":holder";
constexpr std::string_view complete_upload_sql =
    "UPDATE files_uploads SET file_id = :file, upload_offset = length, lease_holder = NULL, lease_until = "
    "NULL"
    " WHERE id = :id AND file_id IS NULL";
constexpr std::string_view delete_upload_sql = "DELETE FROM files_uploads WHERE id = :id";
constexpr std::string_view expired_uploads_sql =
    "SELECT id FROM files_uploads WHERE expires_at < :now ORDER BY expires_at LIMIT :n";
constexpr std::string_view export_of_sql = "SELECT file_id FROM files_exports WHERE job_id = :job";
constexpr std::string_view delete_export_sql = "DELETE FROM files_exports WHERE job_id = :job";
constexpr std::string_view insert_export_sql =
    "INSERT INTO files_exports (job_id, file_id, created_at) VALUES (:job, :file, :now)";

}  // namespace

void insert_upload(soci::session& sql, UploadRow const& u) {
  soci::indicator type_ind = u.content_type ? soci::i_ok : soci::i_null;
  soci::indicator doc_ind = u.document_id ? soci::i_ok : soci::i_null;
  const std::string type = u.content_type.value_or(""), doc = u.document_id.value_or("");
  const long long length = u.length;
  sql << insert_upload_sql, use(u.id), use(u.owner_id), use(length), use(u.metadata), use(u.name),
      use(type, type_ind), use(doc, doc_ind), use(u.created_at), use(u.expires_at);
}

std::optional<UploadRow> find_upload(soci::session& sql, std::string const& id) {
  soci::rowset<soci::row> rows = (sql.prepare << find_upload_sql, use(id));
  for (auto const& r : rows) {
    UploadRow u;
    u.id = db::get_text(r, 0);
    u.owner_id = db::get_text(r, 1);
    u.length = db::get_int(r, 2);
    u.offset = db::get_int(r, 3);
    u.metadata = db::get_text(r, 4);
    u.name = db::get_text(r, 5);
    u.content_type = db::get_opt_text(r, 6);
    u.document_id = db::get_opt_text(r, 7);
    u.file_id = db::get_opt_text(r, 8);
    u.lease_holder = db::get_opt_text(r, 9);
    u.lease_until = db::get_opt_int(r, 10).value_or(0);
    u.created_at = db::get_int(r, 11);
    u.expires_at = db::get_int(r, 12);
    u.store_state = db::get_text(r, 13);
    return u;
  }
  return std::nullopt;
}

bool take_upload_lease(soci::session& sql, std::string const& id, std::int64_t offset,
                       std::string const& holder, long long now, long long until,
                       std::string const& stale_holder) {
  return core::execute(sql, take_lease_sql, holder, until, id, static_cast<long long>(offset), now,
                       stale_holder) == 1;
}

bool save_upload_offset(soci::session& sql, std::string const& id, std::int64_t offset,
                        std::string const& state, std::string const& holder, long long lease_until,
                        long long expires_at) {
  return core::execute(sql, save_offset_sql, static_cast<long long>(offset), state, lease_until, expires_at,
                       id, holder) == 1;
}

void release_upload_lease(soci::session& sql, std::string const& id, std::string const& holder) {
  core::execute(sql, release_lease_sql, id, holder);
}

bool complete_upload(soci::session& sql, std::string const& id, std::string const& file_id) {
  return core::execute(sql, complete_upload_sql, file_id, id) == 1;
}

bool delete_upload(soci::session& sql, std::string const& id) {
  return core::execute(sql, delete_upload_sql, id) == 1;
}

std::vector<std::string> expired_uploads(soci::session& sql, long long now, int n) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows = (sql.prepare << expired_uploads_sql, use(now), use(n));
  for (auto const& s : rows) out.push_back(s);
  return out;
}

std::optional<std::string> export_of(soci::session& sql, std::string const& job_id) {
  std::string file;
  soci::indicator ind = soci::i_null;
  sql << export_of_sql, use(job_id), into(file, ind);
  if (!sql.got_data() || ind != soci::i_ok) return std::nullopt;
  return file;
}

void delete_export(soci::session& sql, std::string const& job_id) {
  core::execute(sql, delete_export_sql, job_id);
}

void insert_export(soci::session& sql, std::string const& job_id, std::string const& file_id, long long now) {
  core::execute(sql, insert_export_sql, job_id, file_id, now);
}

std::vector<std::pair<std::string, std::int64_t>> blobs_after(soci::session& sql, std::string const& after,
                                                              int n) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  soci::rowset<soci::row> rows = (sql.prepare << blobs_after_sql, use(after), use(n));
  for (auto const& r : rows) out.emplace_back(db::get_text(r, 0), db::get_int(r, 1));
  return out;
}

std::pair<std::size_t, std::uint64_t> blob_totals(soci::session& sql) {
  long long count = 0, bytes = 0;
  sql << blob_totals_sql, into(count), into(bytes);
  return {static_cast<std::size_t>(count), static_cast<std::uint64_t>(bytes)};
}

// --- S3 objects of blobs ------------------------------------------------------------------------

namespace {

constexpr std::string_view map_object_sql =
    "INSERT INTO files_blob_objects (sha256, object_key, size, touched_at) VALUES (:sha, :key, :size, :now)"
    " ON CONFLICT (sha256) DO UPDATE SET touched_at = excluded.touched_at RETURNING object_key";
constexpr std::string_view object_of_sql = "SELECT object_key FROM files_blob_objects WHERE sha256 = :sha";
constexpr std::string_view unmap_object_sql =
    "DELETE FROM files_blob_objects WHERE sha256 = :sha AND touched_at < :before RETURNING object_key";
constexpr std::string_view mapped_after_sql =
    "SELECT sha256 FROM files_blob_objects WHERE sha256 > :after AND touched_at < :before ORDER BY sha256"
    " LIMIT :n";
constexpr std::string_view key_mapped_sql = "SELECT COUNT(*) FROM files_blob_objects WHERE object_key = :key";
constexpr std::string_view all_objects_sql =
    "SELECT sha256, object_key, size FROM files_blob_objects WHERE sha256 > :after ORDER BY sha256 LIMIT :n";

}  // namespace

std::string map_blob_object(soci::session& sql, std::string const& sha256, std::string const& key,
                            std::int64_t size, long long now) {
  std::string winner;
  sql << map_object_sql, use(sha256), use(key), use(size), use(now), into(winner);
  return winner;
}

std::optional<std::string> blob_object(soci::session& sql, std::string const& sha256) {
  std::string key;
  soci::indicator ind = soci::i_null;
  sql << object_of_sql, use(sha256), into(key, ind);
  if (!sql.got_data() || ind != soci::i_ok) return std::nullopt;
  return key;
}

std::optional<std::string> unmap_blob_object(soci::session& sql, std::string const& sha256,
                                             long long before) {
  std::string key;
  soci::indicator ind = soci::i_null;
  sql << unmap_object_sql, use(sha256), use(before), into(key, ind);
  if (!sql.got_data() || ind != soci::i_ok) return std::nullopt;
  return key;
}

std::vector<std::string> mapped_blobs_after(soci::session& sql, std::string const& after, long long before,
                                            int n) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows = (sql.prepare << mapped_after_sql, use(after), use(before), use(n));
  for (auto const& sha : rows) out.push_back(sha);
  return out;
}

bool object_key_mapped(soci::session& sql, std::string const& key) {
  long long n = 0;
  sql << key_mapped_sql, use(key), into(n);
  return n > 0;
}

std::vector<BlobObject> blob_objects_after(soci::session& sql, std::string const& after, int n) {
  std::vector<BlobObject> out;
  soci::rowset<soci::row> rows = (sql.prepare << all_objects_sql, use(after), use(n));
  for (auto const& r : rows) out.push_back({db::get_text(r, 0), db::get_text(r, 1), db::get_int(r, 2)});
  return out;
}

}  // namespace bookspace::files
