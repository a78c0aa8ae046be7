package io.refundbroker.vipps;

/**
 * What a refund call did, as far as the broker can know. {@link Kind#UNKNOWN} is never turned into
 * a rejection: timeouts, resets and 5xx/429 after retries may have refunded the customer.
 *
 * @param kind applied, rejected or unknown
 * @param reason why it was rejected (null unless {@link Kind#REJECTED})
 * @param detail a short, secret-free description for logs, audit and the problem detail
 * @param httpStatus the final HTTP status from Vipps (0 when there was none, e.g. a timeout)
 */
public record RefundOutcome(Kind kind, RejectReason reason, String detail, int httpStatus) {

  public enum Kind {
    APPLIED,
    REJECTED,
    UNKNOWN
  }

  /** Definitive rejections, from ePayment problem {@code type}s and eCom {@code errorCode}s. */
  public enum RejectReason {
    NOT_ENOUGH_REFUNDABLE,
    REFERENCE_NOT_FOUND,
    REFUND_WINDOW_PASSED,
    IDEMPOTENCY_CONFLICT,
    BAD_CREDENTIALS,
    PAYMENT_NOT_CAPTURED,
    PAYMENT_CANCELLED,
    MERCHANT_BLOCKED,
    INVALID_REQUEST,
    OTHER
  }

  public static RefundOutcome applied(int status) {
    return new RefundOutcome(Kind.APPLIED, null, "refund applied", status);
  }

  public static RefundOutcome rejected(RejectReason reason, String detail, int status) {
    return new RefundOutcome(Kind.REJECTED, reason, detail, status);
  }

  public static RefundOutcome unknown(String detail, int status) {
    return new RefundOutcome(Kind.UNKNOWN, null, detail, status);
  }
}
