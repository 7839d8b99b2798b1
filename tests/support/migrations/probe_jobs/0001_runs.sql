-- Test-only: what the probe job handlers did. probe_jobs_effects holds one row per job whose
-- handler finished its work (keyed by the job: the idempotent effect); probe_jobs_runs one row per
-- execution, to count runs and find two executions of one job overlapping in time.
CREATE TABLE probe_jobs_effects (
  job_id  TEXT   PRIMARY KEY,
  payload TEXT   NOT NULL,
  done_at BIGINT NOT NULL
);
CREATE TABLE probe_jobs_runs (
  job_id      TEXT    NOT NULL,
  run_id      TEXT    NOT NULL PRIMARY KEY,
  attempt     INTEGER NOT NULL,
  started_us  BIGINT  NOT NULL,
  finished_us BIGINT
);
