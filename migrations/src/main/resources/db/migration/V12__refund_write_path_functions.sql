-- refund-broker schema, version 12: the refund write path in one round trip each.
-- Forward only: never edit a migration that has landed; add V<n>__... instead.
--
-- Until now the write-ahead of a refund was a transaction of up to ten statements (BEGIN, frozen
-- check, order lock, reserved sum, payment-rate count, per-day sum, idempotency claim, refund
-- insert, audit append, COMMIT) and the outcome one of six, each statement a round trip that
-- waited for the previous answer while the order's (or the refund's) row lock was held. The same
-- statements, in the same order and under the same locks, now run inside one function call each;
-- the call is its own transaction (the broker sends it outside BEGIN/COMMIT), so a refusal raised
-- by a check rolls back everything the call did, exactly as the failed transaction did before.
--
-- A check that refuses raises SQLSTATE RB001 with MESSAGE = the problem code the broker answers
-- with and DETAIL = a JSON object of the figures its message names; the broker turns it into the
-- same problem (code, status, detail text) as before. Nothing else raises RB001.
--
-- The audit event of each step is built and MACed by the broker (the database never holds the MAC
-- key) and passed in whole; the function inserts it into audit_entries in the same transaction as
-- the change it records (no audit row, no change), as AuditLog.append did.

CREATE FUNCTION refund_write_ahead(
  -- the refund asked for
  p_refund_id            uuid,
  p_requesting_client_id text,
  p_requesting_store_id  text,
  p_origin_store_id      text,
  p_order_id             text,
  p_chain_id             text,
  p_msn                  text,
  p_api                  text,
  p_amount               bigint,
  p_currency             text,
  p_reason               text,
  p_upstream_key         text,
  p_idempotency_key      text,
  p_request_id           text,
  p_credentials_version  integer,
  p_partner_id           text,         -- NULL: the sales unit's own keys (V11)
  p_next_attempt_at      timestamptz,
  p_now                  timestamptz,
  -- the checks' bounds, computed by the broker (Refundable.WINDOW, the configured limits)
  p_window_from          timestamptz,  -- captured before this: past the refund window
  p_calls_since          timestamptz,  -- Vipps's per-payment call window starts here
  p_calls_per_minute     integer,
  p_per_day              bigint,       -- NULL: the requesting store has no per-day limit
  p_day_from             timestamptz,
  p_day_to               timestamptz,
  -- the idempotency claim
  p_operation            text,
  p_request_hash         bytea,
  -- an order the broker read from Vipps (not registered): inserted unless present; NULL: none
  p_vipps_amount         bigint,
  p_vipps_currency       text,
  p_vipps_captured_at    timestamptz,
  p_vipps_source         text,
  p_vipps_registered_by  text,
  -- the audit event 'refund.requested' (AuditLog.Append's columns)
  e_event_id             uuid,
  e_occurred_at          timestamptz,
  e_actor_client_id      text,
  e_actor_role           text,
  e_actor_store_id       text,
  e_action               text,
  e_subject_type         text,
  e_subject_id           text,
  e_chain_id             text,
  e_outcome              text,
  e_request_id           text,
  e_details              jsonb,
  e_entry_hash           text,
  e_mac                  text)
  RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  requesting_frozen boolean;
  origin_frozen     boolean;
  order_amount      bigint;
  order_currency    text;
  order_captured_at timestamptz;
  succeeded         bigint;
  in_flight         bigint;
  calls             bigint;
  oldest            timestamptz;
  today             bigint;
BEGIN
  IF p_vipps_amount IS NOT NULL THEN
    INSERT INTO orders (store_id, order_id, amount_value, currency, captured_at, source,
                        registered_by)
    VALUES (p_origin_store_id, p_order_id, p_vipps_amount, p_vipps_currency, p_vipps_captured_at,
            p_vipps_source, p_vipps_registered_by)
    ON CONFLICT (store_id, order_id) DO NOTHING;
  END IF;

  -- neither store frozen (read now: a store frozen since the broker looked still stops it)
  SELECT coalesce(bool_or(frozen) FILTER (WHERE store_id = p_requesting_store_id), false),
         coalesce(bool_or(frozen) FILTER (WHERE store_id = p_origin_store_id), false)
    INTO requesting_frozen, origin_frozen
    FROM stores WHERE store_id IN (p_requesting_store_id, p_origin_store_id);
  IF requesting_frozen THEN
    RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'STORE_FROZEN',
      DETAIL = jsonb_build_object('side', 'requesting')::text;
  END IF;
  IF origin_frozen THEN
    RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'STORE_FROZEN',
      DETAIL = jsonb_build_object('side', 'origin')::text;
  END IF;

  -- the order, locked until the end of this call. Only the test suite's sabotage switch
  -- DROP_ORDER_LOCK (io.refundbroker.sabotage.Sabotage, RELIABILITY.md) reads it unlocked, to show
  -- that the concurrency tests notice; the broker sets that setting only while the switch is on.
  IF current_setting('refundbroker.sabotage', true) = 'DROP_ORDER_LOCK' THEN
    SELECT o.amount_value, o.currency, o.captured_at
      INTO order_amount, order_currency, order_captured_at
      FROM orders o WHERE o.store_id = p_origin_store_id AND o.order_id = p_order_id;
  ELSE
    SELECT o.amount_value, o.currency, o.captured_at
      INTO order_amount, order_currency, order_captured_at
      FROM orders o WHERE o.store_id = p_origin_store_id AND o.order_id = p_order_id
       FOR UPDATE;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'ORDER_NOT_FOUND', DETAIL = '{}';
  END IF;
  IF order_currency <> p_currency THEN
    RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'CURRENCY_MISMATCH',
      DETAIL = jsonb_build_object('currency', order_currency)::text;
  END IF;
  IF order_captured_at IS NOT NULL AND order_captured_at < p_window_from THEN
    RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'REFUND_WINDOW_PASSED', DETAIL = '{}';
  END IF;

  -- captured − (succeeded + pending + unknown), as Refundable.left
  SELECT coalesce(sum(r.amount_value) FILTER (WHERE r.status = 'SUCCEEDED'), 0),
         coalesce(sum(r.amount_value) FILTER (WHERE r.status IN ('PENDING', 'UNKNOWN')), 0)
    INTO succeeded, in_flight
    FROM refunds r WHERE r.origin_store_id = p_origin_store_id AND r.order_id = p_order_id;
  IF p_amount > order_amount - succeeded - in_flight THEN
    RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'REFUND_EXCEEDS_REFUNDABLE',
      DETAIL = jsonb_build_object('captured', order_amount, 'currency', order_currency,
                                  'succeeded', succeeded, 'inFlight', in_flight)::text;
  END IF;

  -- Vipps's per-payment call limit
  SELECT count(*), min(r.last_attempt_at) INTO calls, oldest
    FROM refunds r
   WHERE r.msn = p_msn AND r.order_id = p_order_id AND r.last_attempt_at > p_calls_since;
  IF calls >= p_calls_per_minute THEN
    RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'TOO_MANY_REFUNDS',
      DETAIL = jsonb_build_object('calls', calls,
                                  'oldestMicros', (extract(epoch FROM oldest) * 1000000)::bigint)::text;
  END IF;

  -- the per-day limit, with the requesting store's row locked while its day is summed
  IF p_per_day IS NOT NULL THEN
    PERFORM 1 FROM stores s WHERE s.store_id = p_requesting_store_id FOR UPDATE;
    SELECT coalesce(sum(r.amount_value), 0) INTO today
      FROM refunds r
     WHERE r.requesting_store_id = p_requesting_store_id AND r.currency = p_currency
       AND r.status <> 'FAILED' AND r.created_at >= p_day_from AND r.created_at < p_day_to;
    IF today + p_amount > p_per_day THEN
      RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'LIMIT_EXCEEDED',
        DETAIL = jsonb_build_object('today', today)::text;
    END IF;
  END IF;

  -- claim the idempotency key (a concurrent first use waits here for the other call's end)
  INSERT INTO idempotency_records (client_id, idempotency_key, operation, request_hash, state,
                                   resource_id, created_at)
  VALUES (p_requesting_client_id, p_idempotency_key, p_operation, p_request_hash, 'IN_FLIGHT',
          p_refund_id::text, p_now)
  ON CONFLICT (client_id, idempotency_key) DO NOTHING;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'RB001', MESSAGE = 'KEY_TAKEN', DETAIL = '{}';
  END IF;

  INSERT INTO refunds (refund_id, requesting_client_id, requesting_store_id, origin_store_id,
                       order_id, chain_id, msn, api, amount_value, currency, reason, status,
                       upstream_key, idempotency_key, request_id, credentials_version,
                       partner_id, attempts, next_attempt_at, last_attempt_at, created_at,
                       updated_at)
  VALUES (p_refund_id, p_requesting_client_id, p_requesting_store_id, p_origin_store_id,
          p_order_id, p_chain_id, p_msn, p_api, p_amount, p_currency, p_reason, 'PENDING',
          p_upstream_key, p_idempotency_key, p_request_id, p_credentials_version,
          p_partner_id, 1, p_next_attempt_at, p_now, p_now, p_now);

  INSERT INTO audit_entries (event_id, occurred_at, actor_client_id, actor_role, actor_store_id,
                             action, subject_type, subject_id, chain_id, outcome, request_id,
                             details, entry_hash, mac)
  VALUES (e_event_id, e_occurred_at, e_actor_client_id, e_actor_role, e_actor_store_id,
          e_action, e_subject_type, e_subject_id, e_chain_id, e_outcome, e_request_id,
          e_details, e_entry_hash, e_mac);
END
$$;

-- The outcome of a refund the caller holds a copy of (the request path: the refund it has just
-- written ahead). Writes the transition only while the stored refund still is that copy (status,
-- attempts, keys' version, upstream status, failure) — then what the broker computed from its copy
-- (the updated row, the audit event) is what the locked row gives; otherwise it writes nothing and
-- returns false, and the broker records the outcome the long way (lock, read, decide, write).
CREATE FUNCTION refund_record_outcome(
  p_refund_id                uuid,
  -- the caller's copy
  x_status                   text,
  x_attempts                 integer,
  x_credentials_version      integer,
  x_upstream_status          integer,
  x_failure_code             text,
  x_failure_detail           text,
  -- the transition (RefundRepository.RECORD_OUTCOME's parameters)
  p_status                   text,
  p_failure_code             text,
  p_failure_detail           text,
  p_upstream_status          integer,
  p_next_attempt_at          timestamptz,
  p_terminal                 boolean,
  p_now                      timestamptz,
  -- the caller's idempotency key to complete (NULL: none)
  p_client_id                text,
  p_idempotency_key          text,
  p_response_status          integer,
  -- the audit event of the change of state (NULL event id: the state does not change)
  e_event_id                 uuid,
  e_occurred_at              timestamptz,
  e_actor_client_id          text,
  e_actor_role               text,
  e_actor_store_id           text,
  e_action                   text,
  e_subject_type             text,
  e_subject_id               text,
  e_chain_id                 text,
  e_outcome                  text,
  e_request_id               text,
  e_details                  jsonb,
  e_entry_hash               text,
  e_mac                      text)
  RETURNS boolean
  LANGUAGE plpgsql AS $$
DECLARE
  cur refunds%ROWTYPE;
BEGIN
  SELECT * INTO cur FROM refunds WHERE refund_id = p_refund_id FOR UPDATE;
  IF NOT FOUND
     OR cur.status IS DISTINCT FROM x_status
     OR cur.attempts IS DISTINCT FROM x_attempts
     OR cur.credentials_version IS DISTINCT FROM x_credentials_version
     OR cur.upstream_status IS DISTINCT FROM x_upstream_status
     OR cur.failure_code IS DISTINCT FROM x_failure_code
     OR cur.failure_detail IS DISTINCT FROM x_failure_detail THEN
    RETURN false;
  END IF;

  UPDATE refunds
     SET status = p_status, failure_code = p_failure_code, failure_detail = p_failure_detail,
         upstream_status = p_upstream_status, next_attempt_at = p_next_attempt_at,
         updated_at = p_now,
         completed_at = CASE WHEN p_terminal THEN p_now ELSE completed_at END
   WHERE refund_id = p_refund_id;

  IF p_idempotency_key IS NOT NULL THEN
    UPDATE idempotency_records
       SET state = 'COMPLETED', response_status = p_response_status, completed_at = p_now
     WHERE client_id = p_client_id AND idempotency_key = p_idempotency_key
       AND state = 'IN_FLIGHT';
  END IF;

  IF e_event_id IS NOT NULL THEN
    INSERT INTO audit_entries (event_id, occurred_at, actor_client_id, actor_role, actor_store_id,
                               action, subject_type, subject_id, chain_id, outcome, request_id,
                               details, entry_hash, mac)
    VALUES (e_event_id, e_occurred_at, e_actor_client_id, e_actor_role, e_actor_store_id,
            e_action, e_subject_type, e_subject_id, e_chain_id, e_outcome, e_request_id,
            e_details, e_entry_hash, e_mac);
  END IF;
  RETURN true;
END
$$;

REVOKE ALL ON FUNCTION refund_write_ahead FROM PUBLIC;
REVOKE ALL ON FUNCTION refund_record_outcome FROM PUBLIC;
GRANT EXECUTE ON FUNCTION refund_write_ahead TO refund_broker_app;
GRANT EXECUTE ON FUNCTION refund_record_outcome TO refund_broker_app;

-- refunds_order_idx (origin_store_id, order_id) is a prefix of refunds_origin_order_created_idx
-- (origin_store_id, order_id, created_at), which serves every query it served (the reserved sum
-- under the order's lock, the order's refund list); every refund insert and every outcome (a
-- non-HOT update: status and next_attempt_at are indexed) paid for both.
DROP INDEX refunds_order_idx;
