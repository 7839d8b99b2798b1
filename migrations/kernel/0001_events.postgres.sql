-- The durable event log (outbox): rows are written in the same transaction as the change they
-- describe. Publishers take a transaction-level advisory lock before inserting, so seq order is
-- commit order and a consumer never skips a row that commits late.
CREATE TABLE events (
  seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id           TEXT   NOT NULL UNIQUE,
  type         TEXT   NOT NULL,
  aggregate_id TEXT   NOT NULL,
  payload      TEXT   NOT NULL,
  occurred_at  BIGINT NOT NULL
);
CREATE INDEX events_occurred_at ON events (occurred_at);
