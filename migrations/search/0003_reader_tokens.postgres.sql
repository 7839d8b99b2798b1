-- Readers become lexemes of the index (issue 13, common words at scale): `r` + each reader's id
-- without dashes (reader_token() in index_common.cpp builds the same), weight D — the text is
-- A–C — so a query intersects the caller's lexeme with its words inside the GIN index instead
-- of joining every match with search_readers.
UPDATE search_entries e
   SET tsv = ts_filter(e.tsv, '{a,b,c}') || CAST(COALESCE((
         SELECT string_agg('''' || t.token || ''':1D', ' ')
           FROM (SELECT 'r' || lower(replace(r.user_id, '-', '')) AS token
                   FROM search_readers r WHERE r.document_id = e.scope_id
                 UNION
                 SELECT 'r' || lower(replace(e.always_user, '-', '')) WHERE e.always_user IS NOT NULL) t),
         '') AS tsvector);
-- Queries no longer look readers up by user.
DROP INDEX search_readers_by_user;
