-- Live auth instances (a heartbeat every few seconds) and the session revocations each has
-- applied to its token cache: a logout answers once every live instance refuses the session's
-- access tokens (docs/modules/auth.md, "Revocation across instances").
CREATE TABLE auth_instances (
  id TEXT PRIMARY KEY,
  seen_at BIGINT NOT NULL
);

CREATE TABLE auth_revocation_acks (
  session_id TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  acked_at BIGINT NOT NULL,
  PRIMARY KEY (session_id, instance_id)
);
CREATE INDEX auth_revocation_acks_acked_at ON auth_revocation_acks (acked_at);
