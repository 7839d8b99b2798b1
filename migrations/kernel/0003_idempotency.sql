-- Responses to requests that carried an Idempotency-Key (API.md), replayed for 24 h.
-- state 'running': the first request is in its handler; 'done': status/headers/body are set.
CREATE TABLE idempotency_keys (
  scope       TEXT    NOT NULL,
  idem_key    TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,
  state       TEXT    NOT NULL CHECK (state IN ('running', 'done')),
  status      INTEGER,
  headers     TEXT,
  body        TEXT,
  created_at  BIGINT  NOT NULL,
  PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
