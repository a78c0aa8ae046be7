-- refund-broker schema, version 5: the broker's own secrets in the local credential backend.
--
-- With CREDENTIALS_BACKEND=local, the secrets the broker itself needs (the client-certificate
-- CA's private key, the audit MAC key) are envelope-encrypted exactly like a store's key set
-- (credential_versions): a random data key per secret, wrapped by the key-encryption key from
-- LOCAL_KEK_FILE, both bound to the secret's name as additional authenticated data. With the
-- Vault backend they live in Vault KV under broker/<name> and this table stays empty.
--
-- A secret is created once, on first use, and never replaced: the broker may add a row and
-- read it, nothing else. Two instances creating the same secret at once collide on the primary
-- key, and the loser reads the winner's row.
CREATE TABLE broker_secrets (
  name        text        PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  kek_id      text        NOT NULL CHECK (kek_id ~ '^[0-9a-f]{16}$'),
  wrapped_key bytea       NOT NULL CHECK (length(wrapped_key) BETWEEN 28 AND 128),
  ciphertext  bytea       NOT NULL CHECK (length(ciphertext) BETWEEN 28 AND 65536),
  created_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON broker_secrets TO refund_broker_app;
