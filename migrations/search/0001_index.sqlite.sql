-- The search module (issue 13): its own copy of what may be searched, fed by documents' and
-- files' events (never their tables). One row per document or file; who may find it: the
-- readers of `scope_id`'s document (search_readers), and `always_user` (a file's owner).
CREATE TABLE search_entries (
  entry       INTEGER PRIMARY KEY,           -- the FTS rowid
  kind        TEXT    NOT NULL,              -- document | file
  ref_id      TEXT    NOT NULL,
  always_user TEXT,
  scope_id    TEXT,
  title       TEXT    NOT NULL,
  updated_at  BIGINT  NOT NULL,
  UNIQUE (kind, ref_id)
);
CREATE INDEX search_entries_by_scope ON search_entries (scope_id) WHERE scope_id IS NOT NULL;
CREATE INDEX search_entries_by_user ON search_entries (always_user) WHERE always_user IS NOT NULL;

-- FTS5 over title, tags and body; diacritics folded (café ~ cafe); prefix indexes for 2 and 3
-- characters (prefix* queries).
CREATE VIRTUAL TABLE search_fts USING fts5(title, tags, body,
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');

CREATE TABLE search_readers (
  document_id TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  PRIMARY KEY (document_id, user_id)
);
CREATE INDEX search_readers_by_user ON search_readers (user_id, document_id);
