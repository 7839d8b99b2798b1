-- When an entry was last written (ms): a reindex removes the entries neither it nor the consumer
-- wrote since it began — what the owning modules no longer have.
ALTER TABLE search_entries ADD COLUMN marked_at BIGINT NOT NULL DEFAULT 0;
