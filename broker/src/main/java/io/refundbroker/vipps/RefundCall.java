package io.refundbroker.vipps;

import io.refundbroker.money.Money;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.salesunit.VippsApi;

/**
 * One refund request to Vipps, made for the origin store's sales unit.
 *
 * @param keys the origin store's MSN (the {@code Merchant-Serial-Number}), API flavour and the key
 *     set that authenticates the call
 * @param reference the payment's reference (ePayment) / orderId (eCom)
 * @param amount the amount to refund
 * @param idempotencyKey ePayment {@code Idempotency-Key} / eCom {@code X-Request-Id}; the same for
 *     every retry of this refund (≤ 40 characters so it fits both)
 * @param text eCom {@code transactionText} (≤ 100 characters); ePayment has no text field
 * @param retryOnlyUnsent retry only attempts that cannot have reached Vipps (the connection was
 *     never made): an attempt Vipps may have received counts against its limit of refund calls per
 *     payment per minute, so the caller resends it later, within that limit, instead
 */
public record RefundCall(
    KeysInUse keys,
    String reference,
    Money amount,
    String idempotencyKey,
    String text,
    boolean retryOnlyUnsent) {

  /** A call retried on every transient failure ({@code VIPPS_MAX_ATTEMPTS}). */
  public RefundCall(
      KeysInUse keys, String reference, Money amount, String idempotencyKey, String text) {
    this(keys, reference, amount, idempotencyKey, text, false);
  }

  /** The origin store's API flavour (null when the call names none). */
  public VippsApi api() {
    return keys == null ? null : keys.api();
  }
}
