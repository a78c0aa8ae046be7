package io.refundbroker.refund;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.refundbroker.config.BrokerConfig.RefundConfig;
import io.refundbroker.error.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.store.RefundLimits;
import io.refundbroker.store.Store;
import io.refundbroker.vipps.RefundCall;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The decisions of {@link RefundService} that need no database: the requesting store's per-refund
 * limit, the bounds handed to the write-ahead (window, calls per minute, the limit's day), the
 * figures of a refusal, the request fingerprint and the Vipps call a refund is sent as.
 */
class RefundServiceRulesTest {
  private static final ZoneId OSLO = ZoneId.of("Europe/Oslo");
  private static final RefundConfig CONFIG = new RefundConfig(Duration.ofSeconds(5), 50, 5, OSLO);

  /** Only the configuration is used by the methods under test. */
  private final RefundService service =
      new RefundService(
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          CONFIG,
          Duration.ofSeconds(30));

  @Test
  void aStoreWithoutLimitsMayRefundAnyAmount() {
    assertThatCode(
            () ->
                RefundService.checkPerRefundLimit(
                    Refunds.store("bergen", "acme", null), new Money(Long.MAX_VALUE, "NOK")))
        .doesNotThrowAnyException();
    assertThatCode(
            () ->
                RefundService.checkPerRefundLimit(
                    Refunds.store("bergen", "acme", new RefundLimits("NOK", null, 100L)),
                    new Money(1_000_000, "NOK")))
        .as("a per-day limit alone does not limit one refund")
        .doesNotThrowAnyException();
  }

  @Test
  void thePerRefundLimitItselfIsAllowedAndOneOreMoreIsNot() {
    Store capped = Refunds.store("bergen", "acme", new RefundLimits("NOK", 5_000L, null));
    assertThatCode(() -> RefundService.checkPerRefundLimit(capped, new Money(5_000, "NOK")))
        .doesNotThrowAnyException();
    assertThatCode(() -> RefundService.checkPerRefundLimit(capped, new Money(4_999, "NOK")))
        .doesNotThrowAnyException();
    ProblemException over =
        catchThrowableOfType(
            () -> RefundService.checkPerRefundLimit(capped, new Money(5_001, "NOK")),
            ProblemException.class);
    assertThat(over.status()).isEqualTo(422);
    assertThat(over.code()).isEqualTo("LIMIT_EXCEEDED");
    assertThat(over.detail()).contains("NOK 50.00 per refund");
  }

  @Test
  void aRefundInAnotherCurrencyThanTheLimitsIsRefused() {
    Store capped = Refunds.store("bergen", "acme", new RefundLimits("NOK", null, null));
    ProblemException other =
        catchThrowableOfType(
            () -> RefundService.checkPerRefundLimit(capped, new Money(1, "EUR")),
            ProblemException.class);
    assertThat(other.code()).isEqualTo("LIMIT_EXCEEDED");
    assertThat(other.detail()).contains("in NOK").contains("EUR");
  }

  @Test
  void thePerRefundLimitRefusesExactlyTheAmountsAboveItForSeededLimits() {
    Random random = new Random(424242);
    for (int i = 0; i < 1_000; i++) {
      long limit = random.nextInt(100_000);
      long amount = Math.max(0, limit + random.nextInt(7) - 3);
      Store capped = Refunds.store("bergen", "acme", new RefundLimits("NOK", limit, null));
      boolean refused;
      try {
        RefundService.checkPerRefundLimit(capped, new Money(amount, "NOK"));
        refused = false;
      } catch (ProblemException e) {
        refused = true;
      }
      assertThat(refused)
          .as("seed 424242, case %d: limit %d, amount %d", i, limit, amount)
          .isEqualTo(amount > limit);
    }
  }

  @Test
  void theWriteAheadChecksThe365DayWindowAndVippsCallsOfTheLastMinute() {
    Instant now = Instant.parse("2026-11-30T12:00:00.123456Z");
    RefundRepository.Checks checks =
        service.checks(Refunds.store("bergen", "acme", new RefundLimits("NOK", null, 9_000L)), now);
    assertThat(checks.windowFrom()).isEqualTo(now.minus(Duration.ofDays(365)));
    assertThat(checks.callsSince()).isEqualTo(now.minusSeconds(60));
    assertThat(checks.callsPerMinute()).isEqualTo(5);
    assertThat(checks.perDay()).isEqualTo(9_000L);
    // 13:00 in Oslo: the day runs from midnight to midnight, Oslo time
    assertThat(checks.dayFrom()).isEqualTo(Instant.parse("2026-11-29T23:00:00Z"));
    assertThat(checks.dayTo()).isEqualTo(Instant.parse("2026-11-30T23:00:00Z"));
  }

  @Test
  void thePerDayLimitsDayIsTheLocalDayEvenWhenTheClocksGoForward() {
    // 2026-03-29 01:30 in Oslo (00:30 UTC): the day the clocks go forward has 23 hours
    RefundRepository.Checks checks =
        service.checks(
            Refunds.store("bergen", "acme", null), Instant.parse("2026-03-29T00:30:00Z"));
    assertThat(checks.perDay()).isNull();
    assertThat(checks.dayFrom()).isEqualTo(Instant.parse("2026-03-28T23:00:00Z"));
    assertThat(checks.dayTo()).isEqualTo(Instant.parse("2026-03-29T22:00:00Z"));
  }

  @Test
  void aRefusalForTheAmountNamesWhatIsLeftNeverBelowZero() {
    ProblemException over =
        RefundService.exceedsRefundable(
            new Money(10_000, "NOK"), new RefundRepository.Reserved(3_000, 2_000), "NOK");
    assertThat(over.status()).isEqualTo(422);
    assertThat(over.code()).isEqualTo("REFUND_EXCEEDS_REFUNDABLE");
    assertThat(over.extensions().getJsonObject("refundable").getLong("value")).isEqualTo(5_000L);
    assertThat(over.detail()).contains("At most NOK 50.00").contains("in progress NOK 50.00");

    ProblemException none =
        RefundService.exceedsRefundable(
            new Money(10_000, "NOK"), new RefundRepository.Reserved(9_000, 2_000), "NOK");
    assertThat(none.extensions().getJsonObject("refundable").getLong("value")).isZero();
  }

  @Test
  void tooManyRefundCallsSaysWhenTheOldestLeavesTheMinute() {
    Instant now = Instant.parse("2026-11-30T12:00:00Z");
    ProblemException wait = service.tooManyRefunds(now.minusSeconds(20), now);
    assertThat(wait.status()).isEqualTo(429);
    assertThat(wait.code()).isEqualTo("TOO_MANY_REFUNDS");
    assertThat(wait.extensions().getLong("retryAfterSeconds")).isEqualTo(40L);
    assertThat(wait.detail()).contains("Vipps accepts 5 refund calls");
    assertThat(
            service
                .tooManyRefunds(now.minusSeconds(60), now)
                .extensions()
                .getLong("retryAfterSeconds"))
        .as("never 0")
        .isEqualTo(1L);
    assertThat(
            service
                .tooManyRefunds(now.minusSeconds(58), now)
                .extensions()
                .getLong("retryAfterSeconds"))
        .isEqualTo(2L);
  }

  @Test
  void theFingerprintTellsEveryChangeOfTheRequestApart() {
    RefundService.RefundRequest request =
        new RefundService.RefundRequest("order-1", new Money(100, "NOK"), "damaged", null);
    byte[] print = RefundService.fingerprint(request);
    assertThat(print).hasSize(32);
    assertThat(
            RefundService.fingerprint(
                new RefundService.RefundRequest("order-1", new Money(100, "NOK"), "damaged", null)))
        .isEqualTo(print);
    for (RefundService.RefundRequest other :
        new RefundService.RefundRequest[] {
          new RefundService.RefundRequest("order-2", new Money(100, "NOK"), "damaged", null),
          new RefundService.RefundRequest("order-1", new Money(101, "NOK"), "damaged", null),
          new RefundService.RefundRequest("order-1", new Money(100, "EUR"), "damaged", null),
          new RefundService.RefundRequest("order-1", new Money(100, "NOK"), "broken", null),
          new RefundService.RefundRequest("order-1", new Money(100, "NOK"), "damaged", "oslo")
        }) {
      assertThat(RefundService.fingerprint(other)).as(other.toString()).isNotEqualTo(print);
    }
  }

  @Test
  void theOriginStoreNamedIsPartOfTheFingerprint() {
    byte[] oslo =
        RefundService.fingerprint(
            new RefundService.RefundRequest("order-1", new Money(100, "NOK"), "damaged", "oslo"));
    byte[] bergen =
        RefundService.fingerprint(
            new RefundService.RefundRequest("order-1", new Money(100, "NOK"), "damaged", "bergen"));
    assertThat(oslo).isNotEqualTo(bergen);
  }

  @Test
  void theVippsCallIsTheRefundsOwnMsnApiKeyAmountAndReason() {
    Refund refund = Refunds.pending();
    RefundCall call = RefundService.callFor(refund, Refunds.keys(KeyHolder.partner("acme-psp"), 4));
    assertThat(call.keys().msn()).isEqualTo("654321");
    assertThat(call.api()).isEqualTo(VippsApi.ECOM);
    assertThat(call.keys().keys().holder()).isEqualTo(KeyHolder.partner("acme-psp"));
    assertThat(call.keys().keys().version()).isEqualTo(4);
    assertThat(call.reference()).isEqualTo("654321-order-1");
    assertThat(call.amount()).isEqualTo(new Money(2500, "NOK"));
    assertThat(call.idempotencyKey()).isEqualTo(refund.refundId().toString());
    assertThat(call.text()).isEqualTo("damaged");
  }
}
