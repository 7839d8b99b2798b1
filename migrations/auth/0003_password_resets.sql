-- Password-reset tokens, hashed (they carry 256 random bits). Single use: used_at is set when
-- one is redeemed, and a newer request supersedes the older ones (used_at set too).
CREATE TABLE auth_password_resets (
  token_hash TEXT   PRIMARY KEY,
  account_id TEXT   NOT NULL REFERENCES auth_accounts (id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at    BIGINT
);
CREATE INDEX auth_password_resets_account ON auth_password_resets (account_id);
