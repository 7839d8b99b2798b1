-- The durable event log (outbox): rows are written in the same transaction as the change they
-- describe. AUTOINCREMENT keeps seq from ever being reused after pruning.
CREATE TABLE events (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL UNIQUE,
  type         TEXT    NOT NULL,
  aggregate_id TEXT    NOT NULL,
  payload      TEXT    NOT NULL,
  occurred_at  BIGINT  NOT NULL
);
CREATE INDEX events_occurred_at ON events (occurred_at);
