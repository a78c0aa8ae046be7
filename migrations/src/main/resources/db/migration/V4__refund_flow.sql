-- Refund flow bookkeeping (issue 5). V2 (credentials) and V3 (audit checkpoints) come from
-- their own issues; numbers are reserved so the three can land in any order.

-- The caller's Idempotency-Key and the upstream bookkeeping the reconciler needs.
ALTER TABLE refunds
  ADD COLUMN idempotency_key  text,
  ADD COLUMN request_id       text,
  ADD COLUMN upstream_status  integer,
  ADD COLUMN last_attempt_at  timestamptz;

-- The reconciler respects Vipps's per-payment call limit by counting recent attempts.
CREATE INDEX refunds_payment_attempts_idx ON refunds (msn, order_id, last_attempt_at);

-- A refund is visible to its requesting store and to the origin store.
CREATE INDEX refunds_origin_order_created_idx ON refunds (origin_store_id, order_id, created_at);
