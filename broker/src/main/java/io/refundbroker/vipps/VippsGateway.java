package io.refundbroker.vipps;

import io.refundbroker.credential.StoreCredentials;
import io.vertx.core.Future;

/**
 * The Vipps MobilePay operations the broker needs, always with one sales unit's credentials.
 * Implemented by {@code VippsClient} over HTTP (production and the sandbox alike).
 */
public interface VippsGateway {

  /**
   * Refunds {@code call.amount()} of a payment, retrying transport failures, 429 and 5xx with the
   * same idempotency key.
   *
   * @return the classified outcome; the future itself does not fail for upstream problems
   */
  Future<RefundOutcome> refund(RefundCall call);

  /**
   * The payment's captured and refunded totals.
   *
   * @return fails with a {@code ProblemException} 404 {@code ORDER_NOT_FOUND} when Vipps does not
   *     know the reference for this MSN, 502/503 when Vipps cannot be asked
   */
  Future<PaymentSnapshot> payment(StoreCredentials credentials, VippsApi api, String reference);

  /**
   * Whether a refund with {@code idempotencyKey} was applied to the payment.
   *
   * @return fails when Vipps cannot be asked (the caller then keeps the refund unresolved)
   */
  Future<RefundLookup> lookupRefund(
      StoreCredentials credentials, VippsApi api, String reference, String idempotencyKey);

  /**
   * Proves a key set by fetching an access token with it (used before storing rotated keys).
   *
   * @return fails with a {@code ProblemException} 422 {@code CREDENTIALS_REJECTED} when Vipps
   *     refuses the keys, 502/503 when Vipps cannot be asked
   */
  Future<Void> verifyCredentials(StoreCredentials credentials);

  /** Drops the cached access token of {@code msn} (after a key rotation). */
  void forgetToken(String msn);
}
