-- Issue 14: the three ways of the Vipps POS FAQ to let one store refund another.
--
-- Option A (partner keys): a partner's key set acts for every MSN the partner is linked to at
-- Vipps. A store with partner_id set is refunded with that partner's keys and its own MSN.
-- Option B (what the broker did so far): each store is its own sales unit with its own keys.
-- Option C (one sales unit for several stores): stores share an MSN, and with it one key set and
-- one version history; each of them has its own order-id prefix, which decides the origin store.

-- Partners whose keys the broker keeps. A row is written with the partner's first key version.
CREATE TABLE partners (
  partner_id text        PRIMARY KEY CHECK (partner_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON partners TO refund_broker_app;

-- With CREDENTIALS_BACKEND=local, a partner's key versions, exactly like credential_versions
-- (see V2): envelope-encrypted by the broker, the envelope bound to 'partner:<id>' and the
-- version, so a row copied to another partner or to a sales unit fails to decrypt.
CREATE TABLE partner_credential_versions (
  partner_id       text        NOT NULL REFERENCES partners (partner_id),
  version          integer     NOT NULL CHECK (version > 0),
  kek_id           text        NOT NULL CHECK (kek_id ~ '^[0-9a-f]{16}$'),
  wrapped_key      bytea       NOT NULL CHECK (length(wrapped_key) BETWEEN 28 AND 128),
  ciphertext       bytea       NOT NULL CHECK (length(ciphertext) BETWEEN 28 AND 8192),
  created_at       timestamptz NOT NULL,
  rotated_by       text        NOT NULL CHECK (length(rotated_by) BETWEEN 1 AND 200),
  validated_at     timestamptz,
  restored_version integer     CHECK (restored_version > 0),
  PRIMARY KEY (partner_id, version)
);
GRANT SELECT, INSERT ON partner_credential_versions TO refund_broker_app;

-- Option A: a store refunded with a partner's keys.
ALTER TABLE stores ADD COLUMN partner_id text REFERENCES partners (partner_id);

-- Option C: the sales unit is its own thing; keys belong to it, and several stores may be on it.
CREATE TABLE sales_units (
  msn        text        PRIMARY KEY CHECK (msn ~ '^[0-9]{4,7}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);
-- UPDATE only so that enrolling a store can lock its sales unit's row (SELECT ... FOR UPDATE):
-- stores joining one MSN are checked one at a time (distinct order-id prefixes).
GRANT SELECT, INSERT, UPDATE ON sales_units TO refund_broker_app;
INSERT INTO sales_units (msn) SELECT DISTINCT msn FROM stores;

ALTER TABLE credential_versions DROP CONSTRAINT credential_versions_msn_fkey;
ALTER TABLE credential_versions
  ADD CONSTRAINT credential_versions_msn_fkey FOREIGN KEY (msn) REFERENCES sales_units (msn);
ALTER TABLE stores DROP CONSTRAINT stores_msn_key;
ALTER TABLE stores
  ADD CONSTRAINT stores_msn_fkey FOREIGN KEY (msn) REFERENCES sales_units (msn);
CREATE INDEX stores_msn_idx ON stores (msn);
-- Two stores on one sales unit never share an order-id prefix (the service also requires every
-- store on a shared MSN to have one; this is the backstop against a race).
CREATE UNIQUE INDEX stores_msn_prefix_key ON stores (msn, order_id_prefix);

-- Which key set a refund is sent with: null = its sales unit's own keys, else the partner's.
-- Written with the refund and never changed, so a refund in flight when its store switches
-- options is finished (and reconciled) with the keys it was written with.
ALTER TABLE refunds ADD COLUMN partner_id text REFERENCES partners (partner_id);
