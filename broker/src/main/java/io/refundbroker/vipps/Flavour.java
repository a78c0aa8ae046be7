package io.refundbroker.vipps;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.VippsTransport.Operation;
import io.refundbroker.vipps.VippsTransport.Request;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;

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

  /**
   * A flavour's fixed rules.
   *
   * @param api which API it is
   * @param pathPrefix the path of a payment, up to its reference ({@code /epayment/v1/payments/})
   * @param reference the form of a reference / orderId it accepts
   * @param referenceLength that form's length, as words ({@code 8-50})
   * @param idempotencyKeyMax the longest {@code Idempotency-Key} / {@code X-Request-Id} it takes
   */
  record Limits(
      VippsApi api,
      String pathPrefix,
      Pattern reference,
      String referenceLength,
      int idempotencyKeyMax) {}

  /** This flavour's fixed rules. */
  Limits limits();

  /** Which API this is. */
  default VippsApi api() {
    return limits().api();
  }

  /** The longest idempotency key ({@code Idempotency-Key} / {@code X-Request-Id}) it takes. */
  default int idempotencyKeyMax() {
    return limits().idempotencyKeyMax();
  }

  /** Whether Vipps can know {@code reference} as a payment of this API at all. */
  default boolean acceptsReference(String reference) {
    return limits().reference().matcher(reference).matches();
  }

  /** How long a reference this API accepts may be, as words ({@code 8-50}). */
  default String referenceLength() {
    return limits().referenceLength();
  }

  /** A request on payment {@code reference} ({@code suffix}: the path after the reference). */
  default Request request(
      Operation op,
      HttpMethod method,
      String reference,
      String suffix,
      MultiMap headers,
      Buffer body) {
    return new Request(
        op, api(), this, method, limits().pathPrefix() + reference + suffix, headers, body);
  }

  /**
   * Why this API's spec does not allow {@code call} (MSN, reference and amount rules), or null.
   * Common rules (MSN digits, the idempotency key) are checked before.
   */
  String refusal(RefundCall call);

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
