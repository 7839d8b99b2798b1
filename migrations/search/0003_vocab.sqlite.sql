-- How many documents hold each indexed term (FTS5's own statistics, read-only): the search
-- statement reads it to choose its plan — from the full-text match for selective terms, from
-- the caller's readable entries for terms far more common than those.
CREATE VIRTUAL TABLE search_vocab USING fts5vocab(search_fts, 'row');
