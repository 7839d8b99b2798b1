-- Readers become tokens of the index (issue 13, common words at scale): search_fts gains a
-- `readers` column holding `r` + each reader's id without dashes (reader_token() in
-- index_common.cpp builds the same), so a query intersects the caller's token with its words
-- inside FTS5 instead of joining every match with search_readers. FTS5 cannot add a column:
-- the table is rebuilt from itself.
CREATE VIRTUAL TABLE search_fts_next USING fts5(title, tags, body, readers,
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO search_fts_next (rowid, title, tags, body, readers)
SELECT f.rowid, f.title, f.tags, f.body,
       trim(COALESCE((SELECT group_concat('r' || lower(replace(r.user_id, '-', '')), ' ')
                        FROM search_readers r WHERE r.document_id = e.scope_id), '')
            || CASE WHEN e.always_user IS NULL THEN ''
                    ELSE ' r' || lower(replace(e.always_user, '-', '')) END)
  FROM search_fts f JOIN search_entries e ON e.entry = f.rowid;
DROP TABLE search_fts;
ALTER TABLE search_fts_next RENAME TO search_fts;
-- Queries no longer look readers up by user.
DROP INDEX search_readers_by_user;
