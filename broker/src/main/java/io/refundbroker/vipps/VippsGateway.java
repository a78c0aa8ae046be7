package io.refundbroker.vipps;

import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.salesunit.VippsKeys;
import io.vertx.core.Future;

/**
 * The Vipps MobilePay operations the broker needs, each with the key set a call uses. Implemented
 * by {@code VippsClient} over HTTP (production and the sandbox alike). Failures are typed ({@link
 * VippsFailure}); the callers decide what they mean for the broker's own answers.
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
   * @return fails with a {@link VippsFailure}: {@code REFERENCE_UNKNOWABLE} or {@code
   *     REFERENCE_NOT_FOUND} when Vipps does not know the reference for this MSN, {@code
   *     MSN_INVALID} or {@code KEYS_REJECTED} for unusable keys, {@code UNAVAILABLE} when Vipps
   *     cannot be asked, {@code BAD_RESPONSE} or {@code OTHER} for answers that tell nothing
   */
  Future<PaymentSnapshot> payment(KeysInUse keys, String reference);

  /**
   * Whether a refund with {@code idempotencyKey} was applied to the payment.
   *
   * @return fails with a {@link VippsFailure} when Vipps cannot be asked (the caller then keeps the
   *     refund unresolved)
   */
  Future<RefundLookup> lookupRefund(KeysInUse keys, String reference, String idempotencyKey);

  /**
   * Proves a key set by fetching an access token with it (used before storing rotated keys).
   *
   * @return fails with a {@link VippsFailure}: {@code MSN_INVALID} when the holder's MSN is not 4-7
   *     digits, {@code KEYS_REJECTED} (with the token endpoint's status) when Vipps refuses the
   *     keys, {@code UNAVAILABLE} when Vipps cannot be asked
   */
  Future<Void> verifyCredentials(VippsKeys keys);

  /** Drops the cached access tokens of {@code holder}'s key sets (after a key rotation). */
  void forgetTokens(KeyHolder holder);

  /**
   * Drops every cached access token (when key rotations may have been missed: the invalidation
   * listener reconnected).
   */
  void forgetAllTokens();
}
