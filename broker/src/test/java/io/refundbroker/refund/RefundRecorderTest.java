package io.refundbroker.refund;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.MutableClock;
import io.refundbroker.vipps.RefundOutcome;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

/** What an outcome makes of an unresolved refund, and when an unknown one is tried again. */
class RefundRecorderTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T12:00:10Z"));

  /** The transition and the backoff use only the clock and the base. */
  private final RefundRecorder recorder =
      new RefundRecorder(null, null, null, null, clock, Duration.ofSeconds(5));

  @Test
  void theBackoffDoublesFromTheBaseAndStopsAtAnHour() {
    assertThat(recorder.backoff(1)).isEqualTo(Duration.ofSeconds(5));
    assertThat(recorder.backoff(2)).isEqualTo(Duration.ofSeconds(10));
    assertThat(recorder.backoff(3)).isEqualTo(Duration.ofSeconds(20));
    assertThat(recorder.backoff(10)).isEqualTo(Duration.ofSeconds(5 * 512));
    assertThat(recorder.backoff(11)).isEqualTo(Duration.ofHours(1));
    assertThat(recorder.backoff(Integer.MAX_VALUE)).isEqualTo(Duration.ofHours(1));
    assertThat(recorder.backoff(0)).as("no attempt yet").isEqualTo(Duration.ofSeconds(5));
    assertThat(recorder.backoff(-3)).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void theBackoffsExponentIsCappedSoItNeverOverflows() {
    RefundRecorder tiny = new RefundRecorder(null, null, null, null, clock, Duration.ofMillis(1));
    assertThat(tiny.backoff(17)).isEqualTo(Duration.ofMillis(1L << 16));
    assertThat(tiny.backoff(18)).isEqualTo(Duration.ofMillis(1L << 16));
    assertThat(tiny.backoff(40)).isEqualTo(Duration.ofMillis(1L << 16));
    RefundRecorder hour = new RefundRecorder(null, null, null, null, clock, Duration.ofHours(1));
    assertThat(hour.backoff(1)).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void anAppliedRefundSucceedsAndIsCompleted() {
    Refund next = recorder.transition(Refunds.pending(), RefundOutcome.applied(200));
    assertThat(next.status()).isEqualTo(RefundStatus.SUCCEEDED);
    assertThat(next.upstreamStatus()).isEqualTo(200);
    assertThat(next.nextAttemptAt()).isNull();
    assertThat(next.completedAt()).isEqualTo(clock.instant());
    assertThat(next.updatedAt()).isEqualTo(clock.instant());
    assertThat(next.failureCode()).isNull();
  }

  @Test
  void aRejectedRefundFailsWithVippssReason() {
    Refund next =
        recorder.transition(
            Refunds.pending(),
            RefundOutcome.rejected(RejectReason.NOT_ENOUGH_REFUNDABLE, "amount too high", 400));
    assertThat(next.status()).isEqualTo(RefundStatus.FAILED);
    assertThat(next.failureCode()).isEqualTo("NOT_ENOUGH_REFUNDABLE");
    assertThat(next.failureDetail()).isEqualTo("amount too high");
    assertThat(next.upstreamStatus()).isEqualTo(400);
    assertThat(next.nextAttemptAt()).isNull();
    assertThat(next.completedAt()).isEqualTo(clock.instant());
  }

  @Test
  void anUnknownOutcomeIsTriedAgainAfterTheBackoffAndKeepsWhatWasKnown() {
    clock.set(Instant.parse("2026-11-30T12:00:10.5Z"));
    Refund before = Refunds.in(Refunds.pending(), RefundStatus.UNKNOWN, null, null, 503);
    Refund next = recorder.transition(before, RefundOutcome.unknown("read timeout", 0));
    assertThat(next.status()).isEqualTo(RefundStatus.UNKNOWN);
    assertThat(next.upstreamStatus()).as("no answer: the last one is kept").isEqualTo(503);
    assertThat(next.nextAttemptAt())
        .isEqualTo(clock.instant().plusSeconds(5).truncatedTo(ChronoUnit.MICROS));
    assertThat(next.completedAt()).isNull();
    assertThat(next.failureCode()).isNull();

    Refund answered = recorder.transition(before, RefundOutcome.unknown("bad gateway", 502));
    assertThat(answered.upstreamStatus()).isEqualTo(502);
  }
}
