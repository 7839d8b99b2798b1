-- Credentials and sessions. Profiles (display names shown to others) belong to the users
-- module; auth keeps the display name of each account as its own copy for token responses.
CREATE TABLE auth_accounts (
  id            TEXT    PRIMARY KEY,
  email         TEXT    NOT NULL UNIQUE,
  password_hash TEXT    NOT NULL,
  display_name  TEXT    NOT NULL,
  role          TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    BIGINT  NOT NULL,
  updated_at    BIGINT  NOT NULL
);

-- One row per login. revoked_at set: every token of the session stops working.
CREATE TABLE auth_sessions (
  id           TEXT   PRIMARY KEY,
  account_id   TEXT   NOT NULL REFERENCES auth_accounts (id),
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  revoked_at   BIGINT,
  user_agent   TEXT   NOT NULL,
  ip           TEXT   NOT NULL
);
CREATE INDEX auth_sessions_account ON auth_sessions (account_id);

-- Every refresh token ever issued, hashed. rotated_at set: it was exchanged; presenting it
-- again is reuse, which revokes the whole session.
CREATE TABLE auth_refresh_tokens (
  token_hash TEXT   PRIMARY KEY,
  session_id TEXT   NOT NULL REFERENCES auth_sessions (id),
  created_at BIGINT NOT NULL,
  rotated_at BIGINT
);
CREATE INDEX auth_refresh_tokens_session ON auth_refresh_tokens (session_id);
