package io.refundbroker.refund;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.error.ProblemException;
import io.refundbroker.vipps.RefundOutcome;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Outcome → status, state → audit event, state → answer: the refund's transitions. */
class RefundTransitionsTest {

  @Test
  void anAppliedRefundSucceedsARejectedOneFailsAnUnknownOneStaysUnknown() {
    assertThat(RefundTransitions.statusFor(RefundOutcome.applied(200)))
        .isEqualTo(RefundStatus.SUCCEEDED);
    assertThat(
            RefundTransitions.statusFor(
                RefundOutcome.rejected(RejectReason.NOT_ENOUGH_REFUNDABLE, "too much", 400)))
        .isEqualTo(RefundStatus.FAILED);
    assertThat(RefundTransitions.statusFor(RefundOutcome.unknown("timeout", 0)))
        .isEqualTo(RefundStatus.UNKNOWN);
    assertThat(RefundTransitions.statusFor(RefundOutcome.unknown("502 after retries", 502)))
        .isEqualTo(RefundStatus.UNKNOWN);
  }

  @Test
  void theAuditEventNamesTheNewStateAndOnlyAFailureIsAFailedOutcome() {
    Refund pending = Refunds.pending();
    RefundOutcome applied = RefundOutcome.applied(200);
    AuditEvent succeeded =
        RefundTransitions.event(
            Refunds.in(pending, RefundStatus.SUCCEEDED, null, null, 200), applied);
    assertThat(succeeded.action()).isEqualTo("refund.succeeded");
    assertThat(succeeded.subjectType()).isEqualTo("refund");
    assertThat(succeeded.subjectId()).isEqualTo(pending.refundId().toString());
    assertThat(succeeded.chainId()).isEqualTo("acme");
    assertThat(succeeded.outcome()).isEqualTo("SUCCESS");
    assertThat(succeeded.details().getString("upstreamOutcome")).isEqualTo("refund applied");
    assertThat(succeeded.details().getString("status")).isEqualTo("SUCCEEDED");
    assertThat(succeeded.details().getInteger("upstreamStatus")).isEqualTo(200);

    RefundOutcome rejected =
        RefundOutcome.rejected(RejectReason.REFUND_WINDOW_PASSED, "too old", 400);
    AuditEvent failed =
        RefundTransitions.event(
            Refunds.in(pending, RefundStatus.FAILED, "REFUND_WINDOW_PASSED", "too old", 400),
            rejected);
    assertThat(failed.action()).isEqualTo("refund.failed");
    assertThat(failed.outcome()).isEqualTo("FAILED");
    assertThat(failed.details().getString("failureCode")).isEqualTo("REFUND_WINDOW_PASSED");
    assertThat(failed.details().getString("upstreamOutcome")).isEqualTo("too old");

    AuditEvent unknown =
        RefundTransitions.event(
            Refunds.in(pending, RefundStatus.UNKNOWN, null, null, null),
            RefundOutcome.unknown("timeout", 0));
    assertThat(unknown.action()).isEqualTo("refund.unknown");
    assertThat(unknown.outcome()).isEqualTo("SUCCESS");
  }

  @Test
  void aRefundWrittenAheadIsAuditedAsRequestedWithItsReason() {
    Refund pending = Refunds.pending();
    AuditEvent requested = RefundTransitions.requested(pending);
    assertThat(requested.action()).isEqualTo("refund.requested");
    assertThat(requested.subjectType()).isEqualTo("refund");
    assertThat(requested.subjectId()).isEqualTo(pending.refundId().toString());
    assertThat(requested.chainId()).isEqualTo("acme");
    assertThat(requested.outcome()).isEqualTo("PENDING");
    assertThat(requested.details().getString("reason")).isEqualTo("damaged");
    assertThat(requested.details().getString("originStoreId")).isEqualTo("oslo");
    assertThat(requested.details().getJsonObject("amount").getLong("value")).isEqualTo(2500L);
  }

  @Test
  void aSucceededRefundIs201AndAnUnresolvedOne202() {
    Refund pending = Refunds.pending();
    assertThat(RefundTransitions.status(pending)).isEqualTo(202);
    assertThat(RefundTransitions.status(Refunds.in(pending, RefundStatus.UNKNOWN, null, null, 0)))
        .isEqualTo(202);
    assertThat(
            RefundTransitions.status(Refunds.in(pending, RefundStatus.SUCCEEDED, null, null, 200)))
        .isEqualTo(201);
  }

  @Test
  void aRefusedRefundIsAnsweredWithTheProblemOfItsReason() {
    Map<RejectReason, String> codes =
        Map.of(
            RejectReason.NOT_ENOUGH_REFUNDABLE, "REFUND_EXCEEDS_REFUNDABLE",
            RejectReason.REFUND_WINDOW_PASSED, "REFUND_WINDOW_PASSED",
            RejectReason.REFERENCE_NOT_FOUND, "VIPPS_PAYMENT_NOT_FOUND",
            RejectReason.PAYMENT_NOT_CAPTURED, "PAYMENT_NOT_REFUNDABLE",
            RejectReason.PAYMENT_CANCELLED, "PAYMENT_NOT_REFUNDABLE",
            RejectReason.MERCHANT_BLOCKED, "REFUND_REJECTED",
            RejectReason.IDEMPOTENCY_CONFLICT, "REFUND_REJECTED",
            RejectReason.INVALID_REQUEST, "REFUND_REJECTED",
            RejectReason.OTHER, "REFUND_REJECTED");
    Refund pending = Refunds.pending();
    codes.forEach(
        (reason, code) -> {
          Refund failed =
              Refunds.in(pending, RefundStatus.FAILED, reason.name(), "Vipps said no", 400);
          ProblemException problem = RefundTransitions.problem(failed);
          assertThat(problem.code()).as(reason.name()).isEqualTo(code);
          assertThat(problem.status()).as(reason.name()).isEqualTo(422);
          assertThat(RefundTransitions.status(failed)).as(reason.name()).isEqualTo(422);
          assertThat(problem.extensions().getString("refundId"))
              .isEqualTo(pending.refundId().toString());
          assertThat(problem.extensions().getString("refundStatus")).isEqualTo("FAILED");
        });
  }

  @Test
  void rejectedKeysAreABadGatewayNotTheCallersFault() {
    Refund failed =
        Refunds.in(Refunds.pending(), RefundStatus.FAILED, "BAD_CREDENTIALS", "401", 401);
    ProblemException problem = RefundTransitions.problem(failed);
    assertThat(problem.status()).isEqualTo(502);
    assertThat(problem.code()).isEqualTo("ORIGIN_CREDENTIALS_REJECTED");
    assertThat(RefundTransitions.status(failed)).isEqualTo(502);
  }

  @Test
  void anUnknownOrMissingFailureCodeIsAPlainRejectionQuotingVipps() {
    Refund pending = Refunds.pending();
    for (String code : new String[] {null, "SOMETHING_NEW"}) {
      ProblemException problem =
          RefundTransitions.problem(
              Refunds.in(pending, RefundStatus.FAILED, code, "merchant is blocked", 400));
      assertThat(problem.code()).isEqualTo("REFUND_REJECTED");
      assertThat(problem.status()).isEqualTo(422);
      assertThat(problem.detail()).isEqualTo("Vipps refused the refund: merchant is blocked");
    }
  }
}
