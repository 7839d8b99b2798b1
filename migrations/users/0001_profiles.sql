-- Profiles: what users know of each other and what admins manage. A copy of auth's accounts
-- (id, email, role, disabled) fed by auth's events, plus what users owns (display_name).
CREATE TABLE users_profiles (
  id           TEXT    PRIMARY KEY,
  email        TEXT    NOT NULL,
  display_name TEXT    NOT NULL,
  role         TEXT    NOT NULL,
  disabled     INTEGER NOT NULL DEFAULT 0,
  created_at   BIGINT  NOT NULL,
  updated_at   BIGINT  NOT NULL
);
CREATE INDEX users_profiles_email ON users_profiles (email);
