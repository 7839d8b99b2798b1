CREATE TABLE probe_sink_seen (
  event_id TEXT   PRIMARY KEY,
  note_id  TEXT   NOT NULL,
  seq      BIGINT NOT NULL
);
