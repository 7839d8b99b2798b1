-- The files module (issue 12): file metadata, and the content-addressed blobs it points at.
-- A blob is stored once per distinct content (blobs/sha256/ab/cd/<sha256> under the data
-- directory) and counted: `refs` is the number of files that point at it. Times in ms.
CREATE TABLE files_files (
  id           TEXT   PRIMARY KEY,            -- UUIDv7
  name         TEXT   NOT NULL,               -- sanitized
  content_type TEXT   NOT NULL,
  size         BIGINT NOT NULL,
  sha256       TEXT   NOT NULL,
  owner_id     TEXT   NOT NULL,
  document_id  TEXT,                          -- attached to a document (its readers may read it)
  created_at   BIGINT NOT NULL
);
CREATE INDEX files_by_owner ON files_files (owner_id, id);
CREATE INDEX files_by_document ON files_files (document_id, id) WHERE document_id IS NOT NULL;
CREATE INDEX files_by_blob ON files_files (sha256);

-- A blob whose refs fell to 0 is deleted by the blob GC once `unreferenced_at` is older than
-- files.blob_grace_s (an upload of the same content meanwhile takes it back).
CREATE TABLE files_blobs (
  sha256          TEXT    PRIMARY KEY,
  size            BIGINT  NOT NULL,
  refs            INTEGER NOT NULL,
  created_at      BIGINT  NOT NULL,
  unreferenced_at BIGINT
);
CREATE INDEX files_unreferenced ON files_blobs (unreferenced_at) WHERE refs = 0;

-- Per-user quotas set by administrators; users without a row have files.quota_bytes.
CREATE TABLE files_quotas (
  user_id     TEXT   PRIMARY KEY,
  quota_bytes BIGINT NOT NULL,                -- 0: no limit
  updated_at  BIGINT NOT NULL
);
