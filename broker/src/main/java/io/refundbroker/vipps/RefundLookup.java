package io.refundbroker.vipps;

/**
 * Whether Vipps has applied the refund with a given idempotency key, read from the payment's event
 * log (ePayment) or transaction history (eCom).
 */
public enum RefundLookup {
  /** A successful refund with our idempotency key is in the log. */
  APPLIED,
  /** No successful refund with our key is in the log (resending with the same key is safe). */
  NOT_APPLIED
}
