package io.refundbroker.refund;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.money.Money;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The one home of "how much is left to refund" and of Vipps's 365-day window. */
class RefundableTest {
  private static final Instant CAPTURED = Instant.parse("2025-12-01T10:15:30.000001Z");

  @Test
  void leftIsCapturedMinusRefundedMinusInFlight() {
    assertThat(Refundable.left(nok(10_000), nok(3_000), nok(2_000))).isEqualTo(nok(5_000));
    assertThat(Refundable.left(nok(10_000), nok(0), nok(0))).isEqualTo(nok(10_000));
    assertThat(Refundable.left(nok(10_000), nok(10_000), nok(0))).isEqualTo(nok(0));
    assertThat(Refundable.left(nok(10_000), nok(9_999), nok(0))).isEqualTo(nok(1));
    assertThat(Refundable.left(nok(10_000), nok(0), nok(9_999))).isEqualTo(nok(1));
  }

  @Test
  void leftIsNeverBelowZeroWhateverIsReserved() {
    assertThat(Refundable.left(nok(1_000), nok(800), nok(500))).isEqualTo(nok(0));
    assertThat(Refundable.left(nok(1_000), nok(1_001), nok(0))).isEqualTo(nok(0));
  }

  @Test
  void leftMatchesTheFormulaForSeededAmounts() {
    Random random = new Random(20261130);
    for (int i = 0; i < 2_000; i++) {
      long captured = random.nextInt(1_000_000);
      long refunded = random.nextInt(1_000_000);
      long inFlight = random.nextInt(1_000_000);
      String currency = i % 3 == 0 ? "EUR" : "NOK";
      Money left =
          Refundable.left(
              new Money(captured, currency),
              new Money(refunded, currency),
              new Money(inFlight, currency));
      assertThat(left)
          .as("seed 20261130, case %d: %d - %d - %d", i, captured, refunded, inFlight)
          .isEqualTo(new Money(Math.max(0, captured - refunded - inFlight), currency));
    }
  }

  @Test
  void leftRefusesToMixCurrencies() {
    assertThatThrownBy(() -> Refundable.left(nok(1_000), new Money(1, "EUR"), nok(0)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theWindowIs365DaysFromTheCapture() {
    assertThat(Refundable.WINDOW).isEqualTo(Duration.ofDays(365));
    assertThat(Refundable.until(CAPTURED)).isEqualTo(Instant.parse("2026-12-01T10:15:30.000001Z"));
  }

  @Test
  void theWindowPassesOnlyAfterItsLastMoment() {
    Instant last = CAPTURED.plus(Duration.ofDays(365));
    assertThat(Refundable.windowPassed(CAPTURED, CAPTURED)).isFalse();
    assertThat(Refundable.windowPassed(CAPTURED, last.minusNanos(1))).isFalse();
    assertThat(Refundable.windowPassed(CAPTURED, last)).isFalse();
    assertThat(Refundable.windowPassed(CAPTURED, last.plusNanos(1))).isTrue();
    assertThat(Refundable.windowPassed(CAPTURED, last.plus(Duration.ofDays(400)))).isTrue();
  }

  @Test
  void anUnknownCaptureTimeNeverClosesTheWindow() {
    assertThat(Refundable.windowPassed(null, Instant.MAX)).isFalse();
  }

  private static Money nok(long value) {
    return new Money(value, "NOK");
  }
}
