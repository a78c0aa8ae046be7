package io.refundbroker.refund;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.money.Money;
import org.junit.jupiter.api.Test;

/**
 * A stored idempotency key replays only the request it was first used with, and only once that
 * request is answered; what the write path reserves is what succeeded plus what is in flight.
 */
class IdempotencyRecordTest {
  private static final byte[] FIRST =
      RefundService.fingerprint(
          new RefundService.RefundRequest("order-1", new Money(100, "NOK"), "damaged", null));

  @Test
  void onlyTheSameRequestIsTheSameRequest() {
    IdempotencyRepository.Record record =
        new IdempotencyRepository.Record(FIRST.clone(), "COMPLETED", "r-1");
    assertThat(record.sameRequest(FIRST)).isTrue();
    byte[] other = FIRST.clone();
    other[31] ^= 1;
    assertThat(record.sameRequest(other)).isFalse();
    assertThat(record.sameRequest(new byte[0])).isFalse();
  }

  @Test
  void aKeyIsInFlightUntilItsRequestIsAnswered() {
    assertThat(new IdempotencyRepository.Record(FIRST, "IN_FLIGHT", "r-1").inFlight()).isTrue();
    assertThat(new IdempotencyRepository.Record(FIRST, "COMPLETED", "r-1").inFlight()).isFalse();
  }

  @Test
  void theReservedTotalIsSucceededPlusInFlight() {
    assertThat(new RefundRepository.Reserved(3_000, 2_500).total()).isEqualTo(5_500);
    assertThat(new RefundRepository.Reserved(0, 0).total()).isZero();
  }
}
