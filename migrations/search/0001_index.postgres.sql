-- The search module (issue 13): its own copy of what may be searched, fed by documents' and
-- files' events (never their tables). One row per document or file; who may find it: the
-- readers of `scope_id`'s document (search_readers), and `always_user` (a file's owner).

-- Text search configuration: `simple` (no stemming: names, codes and any language alike),
-- with accents folded through unaccent when the server has the extension (contrib).
DO $$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent;
    CREATE TEXT SEARCH CONFIGURATION bookspace_search (COPY = simple);
    ALTER TEXT SEARCH CONFIGURATION bookspace_search
      ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, simple;
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'unaccent is not available: search does not fold accents';
    CREATE TEXT SEARCH CONFIGURATION bookspace_search (COPY = simple);
  END;
END $$;

CREATE TABLE search_entries (
  entry       BIGSERIAL PRIMARY KEY,
  kind        TEXT     NOT NULL,             -- document | file
  ref_id      TEXT     NOT NULL,
  always_user TEXT,
  scope_id    TEXT,
  title       TEXT     NOT NULL,
  tags        TEXT     NOT NULL,
  body        TEXT     NOT NULL,
  updated_at  BIGINT   NOT NULL,
  tsv         tsvector NOT NULL,             -- title A, tags B, body C
  UNIQUE (kind, ref_id)
);
CREATE INDEX search_entries_tsv ON search_entries USING GIN (tsv);
CREATE INDEX search_entries_by_scope ON search_entries (scope_id) WHERE scope_id IS NOT NULL;
CREATE INDEX search_entries_by_user ON search_entries (always_user) WHERE always_user IS NOT NULL;

CREATE TABLE search_readers (
  document_id TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  PRIMARY KEY (document_id, user_id)
);
CREATE INDEX search_readers_by_user ON search_readers (user_id, document_id);
