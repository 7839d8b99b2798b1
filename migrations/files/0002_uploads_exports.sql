-- Resumable uploads (tus 1.0.0, /api/v1/uploads) and the exports made by the documents.export job.
-- The bytes of an upload in progress live in the blob store under uploads/<id>; `upload_offset` is
-- how many of them are durable. A PATCH holds the lease (holder "<host>-<pid>-<random>") while it
-- writes, so two requests never write one upload. Times in ms.
CREATE TABLE files_uploads (
  id            TEXT   PRIMARY KEY,            -- UUIDv7
  owner_id      TEXT   NOT NULL,
  length        BIGINT NOT NULL,               -- Upload-Length
  upload_offset BIGINT NOT NULL,
  metadata      TEXT   NOT NULL,               -- Upload-Metadata as sent (HEAD repeats it)
  name          TEXT   NOT NULL,               -- sanitized `filename`, or "file"
  content_type  TEXT,                          -- `filetype`, the client's claim
  document_id   TEXT,
  file_id       TEXT,                          -- the File, once complete
  lease_holder  TEXT,
  lease_until   BIGINT,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL                -- unfinished past it: swept
);
CREATE INDEX files_uploads_by_expiry ON files_uploads (expires_at);

-- One row per export job that stored its zip: a job run again answers the same file.
CREATE TABLE files_exports (
  job_id     TEXT   PRIMARY KEY,
  file_id    TEXT   NOT NULL,
  created_at BIGINT NOT NULL
);
