-- The jobs module's queue (issue 11). One row per job; a worker claims a queued job whose run_at
-- has come by setting status 'running' with a lease (lease_owner, lease_until) in one short
-- transaction (FOR UPDATE SKIP LOCKED on PostgreSQL), extends the lease by heartbeat, and ends
-- it. A running job whose lease expired is claimable again: delivery is at least once.
-- Times are ms since the epoch.
CREATE TABLE jobs_jobs (
  id               TEXT    PRIMARY KEY,           -- UUIDv7: creation order
  type             TEXT    NOT NULL,
  status           TEXT    NOT NULL,              -- queued, running, succeeded, failed, cancelled
  payload          TEXT    NOT NULL,              -- a JSON object
  result           TEXT,                          -- JSON, when succeeded
  progress         INTEGER NOT NULL DEFAULT 0,    -- 0–100
  attempts         INTEGER NOT NULL DEFAULT 0,    -- since the last enqueue or API retry
  tries            INTEGER NOT NULL DEFAULT 0,    -- every attempt ever: numbers the history
  max_attempts     INTEGER NOT NULL,
  priority         INTEGER NOT NULL DEFAULT 0,    -- higher first
  last_error       TEXT,
  run_at           BIGINT  NOT NULL,
  created_at       BIGINT  NOT NULL,
  started_at       BIGINT,
  finished_at      BIGINT,
  owner_id         TEXT    NOT NULL,
  lease_owner      TEXT,                          -- the worker holding a running job
  lease_until      BIGINT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,    -- a running job's handler sees cancelled()
  unique_key       TEXT    UNIQUE                 -- "cron:<schedule>:<tick>": one enqueue per tick
);
-- The claim: the queued job to run next.
CREATE INDEX jobs_queued ON jobs_jobs (priority DESC, run_at, id) WHERE status = 'queued';
-- The lease sweep: running jobs whose lease ran out.
CREATE INDEX jobs_leases ON jobs_jobs (lease_until) WHERE status = 'running';
-- Lists: own jobs newest first, and retention by finish time.
CREATE INDEX jobs_by_owner ON jobs_jobs (owner_id, id);
CREATE INDEX jobs_finished ON jobs_jobs (finished_at) WHERE finished_at IS NOT NULL;
-- Metrics: the dead letters by type.
CREATE INDEX jobs_failed ON jobs_jobs (type) WHERE status = 'failed';

-- Every attempt: when, how long, how it ended (kept when a job is retried through the API, so
-- `attempt` is the job's `tries`, which an API retry does not reset).
CREATE TABLE jobs_attempts (
  job_id      TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  worker      TEXT    NOT NULL,                   -- the instance that ran it (host:pid:random)
  started_at  BIGINT  NOT NULL,
  finished_at BIGINT,
  outcome     TEXT,                               -- succeeded, failed, timed_out, cancelled, lease_lost, released
  error       TEXT,
  PRIMARY KEY (job_id, attempt)
);

-- Cron schedules (jobs.schedules): the last tick enqueued, shared by every instance.
CREATE TABLE jobs_schedules (
  name       TEXT   PRIMARY KEY,
  last_tick  BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
