-- refund-broker schema, version 1.
-- Forward only: never edit a migration that has landed; add V<n>__... instead.
--
-- Migrations run as the schema owner. The broker itself runs as a member of the
-- NOLOGIN group role refund_broker_app, which gets exactly the privileges below:
-- in particular only SELECT and INSERT on the audit trail.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'refund_broker_app') THEN
    CREATE ROLE refund_broker_app NOLOGIN;
  END IF;
END
$$;

-- A retail chain: the boundary of every cross-store refund.
CREATE TABLE chains (
  chain_id   text        PRIMARY KEY CHECK (chain_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A store is one Vipps sales unit (Merchant-Serial-Number).
CREATE TABLE stores (
  store_id         text        PRIMARY KEY CHECK (store_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  chain_id         text        NOT NULL REFERENCES chains (chain_id),
  name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  msn              text        NOT NULL UNIQUE CHECK (msn ~ '^[0-9]{4,7}$'),
  api              text        NOT NULL CHECK (api IN ('epayment', 'ecom')),
  order_id_prefix  text        CHECK (order_id_prefix ~ '^[A-Za-z0-9-]{1,40}$'),
  limit_currency   text        CHECK (limit_currency ~ '^[A-Z]{3}$'),
  limit_per_refund bigint      CHECK (limit_per_refund > 0),
  limit_per_day    bigint      CHECK (limit_per_day > 0),
  frozen           boolean     NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((limit_per_refund IS NULL AND limit_per_day IS NULL) OR limit_currency IS NOT NULL)
);
CREATE INDEX stores_chain_idx ON stores (chain_id);

-- POS systems, admins and auditors. Only a SHA-256 of the bearer token is kept.
CREATE TABLE api_clients (
  client_id   text        PRIMARY KEY,
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role        text        NOT NULL CHECK (role IN ('STORE', 'ADMIN', 'AUDITOR')),
  store_id    text        REFERENCES stores (store_id),
  token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text        NOT NULL,
  revoked_at  timestamptz,
  revoked_by  text,
  CHECK ((role = 'STORE') = (store_id IS NOT NULL))
);

-- Completed sales, keyed by the store they were made in. Vipps order ids are
-- unique per MSN only, so (store, order id) is the identity.
CREATE TABLE orders (
  store_id      text        NOT NULL REFERENCES stores (store_id),
  order_id      text        NOT NULL CHECK (order_id ~ '^[A-Za-z0-9-]{1,50}$'),
  amount_value  bigint      NOT NULL CHECK (amount_value > 0),
  currency      text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  captured_at   timestamptz,
  source        text        NOT NULL CHECK (source IN ('REGISTERED', 'IMPORTED', 'VIPPS')),
  registered_by text        NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (store_id, order_id)
);
CREATE INDEX orders_order_id_idx ON orders (order_id);

-- One row per broker refund. refund_id doubles as the upstream idempotency key
-- (a UUID: 36 characters, within eCom's 40 and ePayment's 50).
CREATE TABLE refunds (
  refund_id            uuid        PRIMARY KEY,
  requesting_client_id text        NOT NULL REFERENCES api_clients (client_id),
  requesting_store_id  text        NOT NULL REFERENCES stores (store_id),
  origin_store_id      text        NOT NULL,
  order_id             text        NOT NULL,
  chain_id             text        NOT NULL REFERENCES chains (chain_id),
  msn                  text        NOT NULL,
  api                  text        NOT NULL CHECK (api IN ('epayment', 'ecom')),
  amount_value         bigint      NOT NULL CHECK (amount_value > 0),
  currency             text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason               text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 100),
  status               text        NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'UNKNOWN')),
  upstream_key         text        NOT NULL UNIQUE CHECK (length(upstream_key) <= 40),
  failure_code         text,
  failure_detail       text,
  credentials_version  integer,
  attempts             integer     NOT NULL DEFAULT 0,
  next_attempt_at      timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  completed_at         timestamptz,
  FOREIGN KEY (origin_store_id, order_id) REFERENCES orders (store_id, order_id)
);
CREATE INDEX refunds_order_idx ON refunds (origin_store_id, order_id);
CREATE INDEX refunds_unresolved_idx ON refunds (next_attempt_at) WHERE status IN ('PENDING', 'UNKNOWN');
CREATE INDEX refunds_requesting_day_idx ON refunds (requesting_store_id, created_at);

-- Caller-supplied idempotency keys, per calling client.
CREATE TABLE idempotency_records (
  client_id        text        NOT NULL REFERENCES api_clients (client_id),
  idempotency_key  text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 128),
  operation        text        NOT NULL,
  request_hash     bytea       NOT NULL,
  state            text        NOT NULL CHECK (state IN ('IN_FLIGHT', 'COMPLETED')),
  resource_id      text,
  response_status  integer,
  response_body    jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  PRIMARY KEY (client_id, idempotency_key)
);

-- The audit trail: append-only and hash-chained. seq is gap-free; each row's
-- hash covers its canonical content and prev_hash (the hash of seq - 1).
CREATE TABLE audit_events (
  seq             bigint      PRIMARY KEY CHECK (seq > 0),
  occurred_at     timestamptz NOT NULL,
  actor_client_id text,
  actor_role      text        NOT NULL,
  actor_store_id  text,
  action          text        NOT NULL,
  subject_type    text        NOT NULL,
  subject_id      text        NOT NULL,
  chain_id        text,
  outcome         text        NOT NULL,
  request_id      text,
  details         jsonb       NOT NULL,
  prev_hash       text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash            text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_type, subject_id);
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);

-- Serialises appenders and returns the current head of the chain (seq 0 and the
-- all-zero hash when the trail is empty). The advisory lock is held until the
-- appending transaction ends, so the head cannot move under the caller.
CREATE FUNCTION audit_lock_head(OUT head_seq bigint, OUT head_hash text)
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(727364001);
  SELECT e.seq, e.hash INTO head_seq, head_hash FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
  IF head_seq IS NULL THEN
    head_seq := 0;
    head_hash := repeat('0', 64);
  END IF;
END
$$;

-- Refuse anything but an append that continues the chain.
CREATE FUNCTION audit_events_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  last_seq  bigint;
  last_hash text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT e.seq, e.hash INTO last_seq, last_hash FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
  IF NEW.seq <> coalesce(last_seq, 0) + 1 OR NEW.prev_hash <> coalesce(last_hash, repeat('0', 64)) THEN
    RAISE EXCEPTION 'audit append does not continue the chain at seq %', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_events_append_only
  BEFORE INSERT OR UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_guard();
CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_guard();

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO refund_broker_app;
GRANT SELECT, INSERT, UPDATE ON chains, stores, api_clients, orders, refunds, idempotency_records TO refund_broker_app;
GRANT DELETE ON idempotency_records TO refund_broker_app;
GRANT SELECT, INSERT ON audit_events TO refund_broker_app;
GRANT EXECUTE ON FUNCTION audit_lock_head() TO refund_broker_app;
-- Readiness checks that the migrations it was built with are applied.
GRANT SELECT ON flyway_schema_history TO refund_broker_app;
