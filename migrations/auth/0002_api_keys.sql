-- API keys: shown once at creation, stored as SHA-256 (they carry 256 random bits).
CREATE TABLE auth_api_keys (
  id         TEXT   PRIMARY KEY,
  account_id TEXT   NOT NULL REFERENCES auth_accounts (id),
  name       TEXT   NOT NULL,
  key_hash   TEXT   NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX auth_api_keys_account ON auth_api_keys (account_id);
