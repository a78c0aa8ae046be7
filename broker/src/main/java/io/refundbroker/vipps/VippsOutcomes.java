package io.refundbroker.vipps;

import io.refundbroker.vipps.RefundOutcome.RejectReason;
import io.refundbroker.vipps.VippsErrors.Meaning;
import io.refundbroker.vipps.VippsErrors.Verdict;
import io.refundbroker.vipps.VippsFailure.Kind;
import io.refundbroker.vipps.VippsTransport.Exchange;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * What an {@link Exchange} means: a refund's {@link RefundOutcome}, or the typed {@link
 * VippsFailure} of a read or a key check.
 *
 * <ul>
 *   <li>2xx is {@code APPLIED}; a definitive refusal (see {@link VippsErrors}) is {@code REJECTED};
 *       everything else is {@code UNKNOWN}. A "not enough refundable" or idempotency conflict that
 *       follows an attempt Vipps may have received is {@code UNKNOWN} too: it may be the echo of
 *       our own earlier, applied attempt.
 *   <li>No access token: Vipps refusing the keys is {@code REJECTED BAD_CREDENTIALS}; Vipps not
 *       answering the token endpoint is {@code UNKNOWN} with a "not sent" detail (a later lookup
 *       finds it not applied and the refund can be resent with the same key).
 * </ul>
 */
final class VippsOutcomes {
  private static final Set<RejectReason> MAYBE_OUR_OWN_ECHO =
      Set.of(RejectReason.NOT_ENOUGH_REFUNDABLE, RejectReason.IDEMPOTENCY_CONFLICT);

  private VippsOutcomes() {}

  /** The outcome of a refund's exchange. */
  static RefundOutcome refund(Exchange exchange) {
    if (exchange.tokenFailure() != null) {
      TokenUnavailableException t = exchange.tokenFailure();
      return t.rejected()
          ? RefundOutcome.rejected(
              RejectReason.BAD_CREDENTIALS,
              "not sent: Vipps refused the store's keys when asked for an access token (HTTP "
                  + t.status()
                  + ")",
              t.status())
          : RefundOutcome.unknown(
              "not sent: no access token could be had from Vipps (" + t.getMessage() + ")", 0);
    }
    if (exchange.failure() != null) {
      return RefundOutcome.unknown(
          "no answer from Vipps after "
              + exchange.attempts()
              + " attempt(s): "
              + exchange.failure().describe(),
          0);
    }
    int status = exchange.status();
    if (exchange.ok()) {
      return VippsErrors.parse(exchange.answer().body()) instanceof JsonObject
          ? RefundOutcome.applied(status)
          : RefundOutcome.unknown(
              "Vipps answered HTTP " + status + " with an unreadable body", status);
    }
    return rejectionOrUnknown(exchange, exchange.verdict(), status);
  }

  private static RefundOutcome rejectionOrUnknown(Exchange exchange, Verdict verdict, int status) {
    return switch (verdict.meaning()) {
      case TRANSIENT ->
          RefundOutcome.unknown(
              verdict.detail() + " after " + exchange.attempts() + " attempt(s)", status);
      case AMBIGUOUS -> RefundOutcome.unknown(verdict.detail(), status);
      case UNAUTHORIZED ->
          RefundOutcome.rejected(
              RejectReason.BAD_CREDENTIALS,
              "Vipps refused a fresh access token for this sales unit (HTTP 401)",
              status);
      case REJECTED ->
          exchange.earlierAmbiguous() && MAYBE_OUR_OWN_ECHO.contains(verdict.reason())
              ? RefundOutcome.unknown(
                  verdict.detail() + "; an earlier attempt may have been applied", status)
              : RefundOutcome.rejected(verdict.reason(), verdict.detail(), status);
    };
  }

  /** Why a read's exchange (not 2xx) failed. */
  static VippsFailure readFailure(Exchange exchange) {
    if (exchange.tokenFailure() != null) {
      TokenUnavailableException t = exchange.tokenFailure();
      return t.rejected()
          ? new VippsFailure(Kind.KEYS_REJECTED, t.status(), "Vipps refused the keys")
          : new VippsFailure(Kind.UNAVAILABLE, 0, "no access token could be had from Vipps");
    }
    if (exchange.failure() != null) {
      return new VippsFailure(
          Kind.UNAVAILABLE, 0, "no answer from Vipps: " + exchange.failure().describe());
    }
    Verdict verdict = exchange.verdict();
    int status = exchange.status();
    if (verdict.meaning() == Meaning.TRANSIENT) {
      return new VippsFailure(Kind.UNAVAILABLE, status, verdict.detail());
    }
    if (verdict.meaning() == Meaning.UNAUTHORIZED
        || verdict.reason() == RejectReason.BAD_CREDENTIALS) {
      return new VippsFailure(Kind.KEYS_REJECTED, status, verdict.detail());
    }
    if (verdict.reason() == RejectReason.REFERENCE_NOT_FOUND) {
      return new VippsFailure(Kind.REFERENCE_NOT_FOUND, status, verdict.detail());
    }
    return new VippsFailure(Kind.OTHER, status, verdict.detail());
  }

  /** Why a key check (a token fetch) failed. */
  static VippsFailure keyCheckFailure(Throwable failure) {
    if (failure instanceof TokenUnavailableException t && t.rejected()) {
      return new VippsFailure(
          Kind.KEYS_REJECTED, t.status(), "Vipps refused the keys (HTTP " + t.status() + ")");
    }
    return new VippsFailure(Kind.UNAVAILABLE, 0, String.valueOf(failure.getMessage()));
  }
}
