package io.refundbroker.refund;

/**
 * Where a broker refund stands. {@code PENDING}: written ahead, the Vipps call's answer is not
 * recorded yet. {@code UNKNOWN}: Vipps was called but the outcome could not be known (timeout,
 * reset, 5xx); the reconciler finds out. Neither is ever turned into {@code FAILED} by guessing.
 */
public enum RefundStatus {
  PENDING,
  SUCCEEDED,
  FAILED,
  UNKNOWN;

  public boolean unresolved() {
    return this == PENDING || this == UNKNOWN;
  }
}
