-- One row per named event consumer: the last seq it has processed, and its current failure.
CREATE TABLE event_offsets (
  consumer   TEXT    PRIMARY KEY,
  seq        BIGINT  NOT NULL,
  updated_at BIGINT  NOT NULL,
  failures   INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
