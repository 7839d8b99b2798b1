CREATE TABLE probe_notes (
  id         TEXT   PRIMARY KEY,
  text       TEXT   NOT NULL,
  created_at BIGINT NOT NULL
);
