-- Documents, their immutable versions, who may read them, tags and comments.

-- The current state of each document. `deleted_at` is set while it is in the trash.
CREATE TABLE documents_documents (
  id         TEXT    PRIMARY KEY,
  owner_id   TEXT    NOT NULL,
  title      TEXT    NOT NULL,
  content    TEXT    NOT NULL,
  tags       TEXT    NOT NULL,  -- JSON array of normalized tags, as returned
  version    BIGINT  NOT NULL,
  created_at BIGINT  NOT NULL,
  updated_at BIGINT  NOT NULL,
  deleted_at BIGINT
);
-- The trash list (owner, newest first) and the purge (oldest first).
CREATE INDEX documents_documents_trash ON documents_documents (owner_id, deleted_at, id);
CREATE INDEX documents_documents_deleted ON documents_documents (deleted_at);

-- One row per version, written in the same transaction as the change; never updated.
CREATE TABLE documents_versions (
  document_id TEXT   NOT NULL,
  version     BIGINT NOT NULL,
  title       TEXT   NOT NULL,
  content     TEXT   NOT NULL,
  tags        TEXT   NOT NULL,
  author_id   TEXT   NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (document_id, version)
);

-- Who may read a document: the owner's row and one per share. Every access check is one
-- primary-key lookup here. It also carries copies of the document's sort keys and trash
-- state, so that each list (scope × sort) is a single range of one index, whatever the
-- number of documents.
CREATE TABLE documents_members (
  document_id TEXT    NOT NULL,
  user_id     TEXT    NOT NULL,
  role        TEXT    NOT NULL,  -- owner | editor | viewer
  owned       INTEGER NOT NULL,  -- 1 on the owner's row
  created_at  BIGINT  NOT NULL,  -- when the share was made
  updated_at  BIGINT  NOT NULL,  -- = the document's
  title_key   TEXT    NOT NULL,  -- the document's title, lower-cased: sort=title
  trashed     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (document_id, user_id)
);
CREATE INDEX documents_members_all_updated ON documents_members (user_id, trashed, updated_at, document_id);
CREATE INDEX documents_members_all_title ON documents_members (user_id, trashed, title_key, document_id);
CREATE INDEX documents_members_scope_updated
  ON documents_members (user_id, owned, trashed, updated_at, document_id);
CREATE INDEX documents_members_scope_title
  ON documents_members (user_id, owned, trashed, title_key, document_id);

-- The tag filter.
CREATE TABLE documents_tags (
  document_id TEXT NOT NULL,
  tag         TEXT NOT NULL,
  PRIMARY KEY (document_id, tag)
);
CREATE INDEX documents_tags_by_tag ON documents_tags (tag, document_id);

CREATE TABLE documents_comments (
  id          TEXT   PRIMARY KEY,
  document_id TEXT   NOT NULL,
  author_id   TEXT   NOT NULL,
  body        TEXT   NOT NULL,
  created_at  BIGINT NOT NULL
);
CREATE INDEX documents_comments_by_document ON documents_comments (document_id, id);
