-- Issue 24: blobs in S3. The object of a blob is not named by its hash (no server-side copy of
-- a large object once its hash is known): this maps a content's SHA-256 to the object holding it.
-- `touched_at` moves whenever an upload finds its content already there, which keeps the GC's
-- conditional delete off a blob an upload is about to reference. Unused with local storage.
CREATE TABLE files_blob_objects (
  sha256     TEXT   PRIMARY KEY,
  object_key TEXT   NOT NULL,
  size       BIGINT NOT NULL,
  touched_at BIGINT NOT NULL
);
CREATE INDEX files_blob_objects_by_key ON files_blob_objects (object_key);
CREATE INDEX files_blob_objects_by_touch ON files_blob_objects (touched_at);

-- What the blob store needs to continue a resumable upload on any instance (S3: the multipart
-- upload's id, its parts and the object holding the bytes short of a part), saved with the offset.
ALTER TABLE files_uploads ADD COLUMN store_state TEXT NOT NULL DEFAULT '';
