package io.refundbroker.vipps;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.VippsTransport.Request;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One Vipps API flavour: its limits, paths, bodies, answer parsers and error dialect. The client
 * picks the flavour once ({@link #of}) and never asks which one it has.
 */
interface Flavour extends VippsErrors.Dialect {

  /** The flavour of {@code api}: the one place that chooses between them. */
  static Flavour of(VippsApi api) {
    return switch (api) {
      case EPAYMENT -> EpaymentFlavour.INSTANCE;
      case ECOM -> EcomFlavour.INSTANCE;
    };
  }

  /** Which API this is. */
  VippsApi api();

  /** The longest idempotency key ({@code Idempotency-Key} / {@code X-Request-Id}) it takes. */
  int idempotencyKeyMax();

  /**
   * Why this API's spec does not allow {@code call} (MSN, reference and amount rules), or null.
   * Common rules (MSN digits, the idempotency key) are checked before.
   */
  String refusal(RefundCall call);

  /** Whether Vipps can know {@code reference} as a payment of this API at all. */
  boolean acceptsReference(String reference);

  /** How long a reference this API accepts may be, as words ({@code 8-50}). */
  String referenceLength();

  /** The refund request ({@code headers}: the call's API headers, to be completed). */
  Request refund(RefundCall call, MultiMap headers);

  /** The request that reads the payment's amounts. */
  Request paymentRead(String reference, MultiMap headers);

  /** The payment read by {@link #paymentRead}'s 2xx body (throws when it cannot be parsed). */
  PaymentSnapshot payment(String reference, Buffer body);

  /** The request that reads the payment's refund log. */
  Request refundLogRead(String reference, MultiMap headers);

  /** Whether {@link #refundLogRead}'s 2xx body holds a successful refund sent with {@code key}. */
  boolean refundLogged(Buffer body, String key);

  /**
   * Whether {@code entries} hold a successful {@code kind} entry with idempotency key {@code key}.
   */
  static boolean logged(
      JsonArray entries,
      String kindField,
      String kind,
      String okField,
      String keyField,
      String key) {
    for (int i = 0; i < entries.size(); i++) {
      JsonObject entry = entries.getJsonObject(i);
      if (kind.equals(entry.getString(kindField))
          && Boolean.TRUE.equals(entry.getBoolean(okField))
          && key.equals(entry.getString(keyField))) {
        return true;
      }
    }
    return false;
  }
}
