package io.refundbroker.refund;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.error.ProblemException;
import io.refundbroker.vipps.RefundOutcome;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import java.util.Locale;

/**
 * The one home of a refund's transitions: what a Vipps outcome makes of a refund ({@link
 * #statusFor}), what a change of state is called in the audit trail ({@link #event}) and how a
 * refund in each state is answered ({@link #status}, {@link #problem}): 201 when it succeeded, 202
 * while its outcome is not known, a problem with a stable code when Vipps refused it. A replay of
 * the same idempotency key answers from the refund's state at that time. {@link RefundRecorder}
 * applies the transitions under a lock; {@link RefundRoutes} answers with them.
 */
final class RefundTransitions {
  private RefundTransitions() {}

  /**
   * What an outcome makes of an unresolved refund: {@code APPLIED} → SUCCEEDED, {@code REJECTED} →
   * FAILED, {@code UNKNOWN} → UNKNOWN (never guessed into FAILED).
   */
  static RefundStatus statusFor(RefundOutcome outcome) {
    return switch (outcome.kind()) {
      case APPLIED -> RefundStatus.SUCCEEDED;
      case REJECTED -> RefundStatus.FAILED;
      case UNKNOWN -> RefundStatus.UNKNOWN;
    };
  }

  /** The audit event of a refund that has just reached its state through {@code outcome}. */
  static AuditEvent event(Refund refund, RefundOutcome outcome) {
    String action = "refund." + refund.status().name().toLowerCase(Locale.ROOT);
    var details = refund.auditDetails().put("upstreamOutcome", outcome.detail());
    return new AuditEvent(
        action,
        "refund",
        refund.refundId().toString(),
        refund.chainId(),
        refund.status() == RefundStatus.FAILED ? "FAILED" : "SUCCESS",
        details);
  }

  /** The audit event of a refund just written ahead ({@code PENDING}). */
  static AuditEvent requested(Refund refund) {
    return new AuditEvent(
        "refund.requested",
        "refund",
        refund.refundId().toString(),
        refund.chainId(),
        "PENDING",
        refund.auditDetails().put("reason", refund.reason()));
  }

  /** The HTTP status a refund in this state is answered with. */
  static int status(Refund refund) {
    return switch (refund.status()) {
      case SUCCEEDED -> 201;
      case PENDING, UNKNOWN -> 202;
      case FAILED -> problem(refund).status();
    };
  }

  /** The problem for a refund Vipps refused. */
  static ProblemException problem(Refund refund) {
    RejectReason reason = reasonOf(refund.failureCode());
    String refundId = refund.refundId().toString();
    ProblemException problem =
        switch (reason) {
          case NOT_ENOUGH_REFUNDABLE ->
              ProblemException.unprocessable(
                  "REFUND_EXCEEDS_REFUNDABLE",
                  "Vipps refused: the amount is more than is left to refund on this payment.");
          case REFUND_WINDOW_PASSED ->
              ProblemException.unprocessable(
                  "REFUND_WINDOW_PASSED",
                  "Vipps refused: the payment is more than 365 days old and can no longer be"
                      + " refunded through Vipps.");
          case REFERENCE_NOT_FOUND ->
              ProblemException.unprocessable(
                  "VIPPS_PAYMENT_NOT_FOUND",
                  "Vipps does not know this order in the origin store's sales unit; check that the"
                      + " order was paid with Vipps in that store.");
          case BAD_CREDENTIALS ->
              new ProblemException(
                  502,
                  "ORIGIN_CREDENTIALS_REJECTED",
                  "Bad gateway",
                  "Vipps refused the origin store's API keys; an admin must rotate them. Nothing"
                      + " was refunded.");
          case PAYMENT_NOT_CAPTURED, PAYMENT_CANCELLED ->
              ProblemException.unprocessable(
                  "PAYMENT_NOT_REFUNDABLE",
                  "Vipps refused: the payment is not captured (or was cancelled).");
          default ->
              ProblemException.unprocessable(
                  "REFUND_REJECTED", "Vipps refused the refund: " + refund.failureDetail());
        };
    return problem.with("refundId", refundId).with("refundStatus", refund.status().name());
  }

  private static RejectReason reasonOf(String code) {
    try {
      return code == null ? RejectReason.OTHER : RejectReason.valueOf(code);
    } catch (IllegalArgumentException e) {
      return RejectReason.OTHER;
    }
  }
}
