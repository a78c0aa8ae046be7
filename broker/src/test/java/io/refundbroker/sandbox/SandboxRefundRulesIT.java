package io.refundbroker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.error.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.order.VippsReadProblems;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.MutableClock;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.vipps.PaymentSnapshot;
import io.refundbroker.vipps.RefundCall;
import io.refundbroker.vipps.RefundOutcome;
import io.refundbroker.vipps.RefundOutcome.Kind;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import io.refundbroker.vipps.VippsClient;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The sandbox enforces Vipps's refund rules for both API flavours, seen through the broker's
 * client: over-refunds, idempotent replays and conflicts, other sales units, the per-minute limit
 * and the 365-day window.
 */
class SandboxRefundRulesIT {
  private static final String MSN_A = "623456";
  private static final String MSN_B = "634567";
  private static final AtomicInteger REFS = new AtomicInteger();
  private static MutableClock clock;
  private static TestSandbox sandbox;
  private static StoreCredentials storeA;
  private static StoreCredentials storeB;
  private static VippsClient client;

  @BeforeAll
  static void start() {
    clock = MutableClock.now();
    sandbox = TestSandbox.start(SandboxOptions.defaults().withClock(clock));
    storeA = sandbox.newStore(MSN_A);
    storeB = sandbox.newStore(MSN_B);
    // One attempt: a 429 must show as such instead of being retried away.
    client =
        new VippsClient(
            sandbox.vertx(),
            sandbox.clientConfig("VIPPS_MAX_ATTEMPTS", "1", "VIPPS_PAYMENT_CACHE_TTL", "0s"),
            new SimpleMeterRegistry(),
            clock);
  }

  @AfterAll
  static void stop() {
    client.close();
    sandbox.assertNoViolations();
    sandbox.close();
  }

  private static String seed(VippsApi api, long captured, Instant capturedAt) {
    String reference = MSN_A + "-rules-" + REFS.incrementAndGet();
    sandbox
        .sandbox()
        .seedPayment(
            SandboxPayment.captured(MSN_A, reference, api, new Money(captured, "NOK"), capturedAt));
    return reference;
  }

  private static RefundOutcome refund(
      StoreCredentials store, VippsApi api, String reference, long amount, String key) {
    return Await.result(
        client.refund(
            new RefundCall(store.inUse(api), reference, new Money(amount, "NOK"), key, null)));
  }

  private static long ledgerCount(String reference) {
    return sandbox.sandbox().ledger().stream().filter(e -> e.reference().equals(reference)).count();
  }

  private static Money refunded(String reference) {
    return sandbox.sandbox().payment(MSN_A, reference).orElseThrow().refunded();
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void refundsStopAtTheCapturedAmount(VippsApi api) {
    String reference = seed(api, 10_000, clock.instant());

    RefundOutcome first = refund(storeA, api, reference, 6_000, reference + "-1");
    RefundOutcome tooMuch = refund(storeA, api, reference, 5_000, reference + "-2");
    RefundOutcome rest = refund(storeA, api, reference, 4_000, reference + "-3");

    assertThat(first.kind()).isEqualTo(Kind.APPLIED);
    assertThat(tooMuch.kind()).isEqualTo(Kind.REJECTED);
    assertThat(tooMuch.reason()).isEqualTo(RejectReason.NOT_ENOUGH_REFUNDABLE);
    assertThat(tooMuch.httpStatus()).isEqualTo(400);
    assertThat(rest.kind()).isEqualTo(Kind.APPLIED);
    assertThat(refunded(reference)).isEqualTo(new Money(10_000, "NOK"));
    PaymentSnapshot snapshot = Await.result(client.payment(storeA.inUse(api), reference));
    assertThat(snapshot.refundable()).isEqualTo(new Money(0, "NOK"));
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void theSameKeyAndBodyReplaysWithoutASecondRefund(VippsApi api) {
    String reference = seed(api, 10_000, clock.instant());

    RefundOutcome first = refund(storeA, api, reference, 3_000, reference + "-k");
    RefundOutcome replay = refund(storeA, api, reference, 3_000, reference + "-k");

    assertThat(first.kind()).isEqualTo(Kind.APPLIED);
    assertThat(replay.kind()).isEqualTo(Kind.APPLIED);
    assertThat(ledgerCount(reference)).isEqualTo(1);
    assertThat(refunded(reference)).isEqualTo(new Money(3_000, "NOK"));
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void theSameKeyWithAnotherBodyIsAConflict(VippsApi api) {
    String reference = seed(api, 10_000, clock.instant());

    RefundOutcome first = refund(storeA, api, reference, 3_000, reference + "-k");
    RefundOutcome conflict = refund(storeA, api, reference, 2_000, reference + "-k");

    assertThat(first.kind()).isEqualTo(Kind.APPLIED);
    assertThat(conflict.kind()).isEqualTo(Kind.REJECTED);
    assertThat(conflict.reason()).isEqualTo(RejectReason.IDEMPOTENCY_CONFLICT);
    assertThat(ledgerCount(reference)).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void anotherSalesUnitsKeysDoNotFindThePayment(VippsApi api) {
    String reference = seed(api, 10_000, clock.instant());

    RefundOutcome outcome = refund(storeB, api, reference, 1_000, reference + "-b");
    // The client fails with a typed VippsFailure; the order caller's mapping makes it the problem.
    Throwable read =
        VippsReadProblems.of(
            Await.failure(client.payment(storeB.inUse(api), reference)), storeB, reference);

    assertThat(outcome.kind()).isEqualTo(Kind.REJECTED);
    assertThat(outcome.reason()).isEqualTo(RejectReason.REFERENCE_NOT_FOUND);
    assertThat(outcome.httpStatus()).isEqualTo(404);
    assertThat(read).isInstanceOf(ProblemException.class);
    assertThat(((ProblemException) read).status()).isEqualTo(404);
    assertThat(((ProblemException) read).code()).isEqualTo("ORDER_NOT_FOUND");
    assertThat(ledgerCount(reference)).isZero();
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void theSixthRefundCallWithinAMinuteIsRateLimited(VippsApi api) {
    String reference = seed(api, 100_000, clock.instant());
    for (int i = 1; i <= 5; i++) {
      assertThat(refund(storeA, api, reference, 100, reference + "-" + i).kind())
          .isEqualTo(Kind.APPLIED);
    }

    RefundOutcome sixth = refund(storeA, api, reference, 100, reference + "-6");
    clock.advance(Duration.ofSeconds(61));
    RefundOutcome afterAMinute = refund(storeA, api, reference, 100, reference + "-6");

    assertThat(sixth.kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(sixth.httpStatus()).isEqualTo(429);
    assertThat(afterAMinute.kind()).isEqualTo(Kind.APPLIED);
    assertThat(ledgerCount(reference)).isEqualTo(6);
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void refundsEndAfter365Days(VippsApi api) {
    Instant now = clock.instant();
    String old = seed(api, 10_000, now.minus(Duration.ofDays(366)));
    String recent = seed(api, 10_000, now.minus(Duration.ofDays(364)));

    RefundOutcome tooLate = refund(storeA, api, old, 1_000, old + "-1");
    RefundOutcome inTime = refund(storeA, api, recent, 1_000, recent + "-1");

    assertThat(tooLate.kind()).isEqualTo(Kind.REJECTED);
    assertThat(tooLate.reason()).isEqualTo(RejectReason.REFUND_WINDOW_PASSED);
    assertThat(inTime.kind()).isEqualTo(Kind.APPLIED);
  }

  @Test
  void eComCannotTouchEPaymentPaymentsButEPaymentRefundsEComOnes() {
    String epayment = seed(VippsApi.EPAYMENT, 10_000, clock.instant());
    String ecom = seed(VippsApi.ECOM, 10_000, clock.instant());

    RefundOutcome viaEcom = refund(storeA, VippsApi.ECOM, epayment, 1_000, epayment + "-1");
    RefundOutcome viaEpayment = refund(storeA, VippsApi.EPAYMENT, ecom, 1_000, ecom + "-1");

    assertThat(viaEcom.reason()).isEqualTo(RejectReason.REFERENCE_NOT_FOUND);
    assertThat(viaEpayment.kind()).isEqualTo(Kind.APPLIED);
  }

  @Test
  void eComRefundsForMsnsOutsideItsFiveToSixDigitsAreRefusedBeforeSending() {
    StoreCredentials sevenDigits = sandbox.newStore("1234567");
    int before = sandbox.sandbox().requests().size();

    RefundOutcome outcome = refund(sevenDigits, VippsApi.ECOM, "1234567-order-1", 1_000, "seven-1");

    assertThat(outcome.kind()).isEqualTo(Kind.REJECTED);
    assertThat(outcome.reason()).isEqualTo(RejectReason.INVALID_REQUEST);
    assertThat(outcome.httpStatus()).isZero();
    assertThat(outcome.detail()).contains("5-6 digit MSN");
    assertThat(sandbox.sandbox().requests()).hasSize(before);
  }

  @Test
  void paymentReadsAreCachedForTheirTtlAndDroppedByARefund() {
    VippsClient caching =
        new VippsClient(
            sandbox.vertx(),
            sandbox.clientConfig("VIPPS_PAYMENT_CACHE_TTL", "5s"),
            new SimpleMeterRegistry(),
            clock);
    String reference = seed(VippsApi.EPAYMENT, 10_000, clock.instant());
    String path = "/epayment/v1/payments/" + reference;

    Await.result(caching.payment(storeA.inUse(VippsApi.EPAYMENT), reference));
    Await.result(caching.payment(storeA.inUse(VippsApi.EPAYMENT), reference));
    assertThat(sandbox.requestsTo(path)).hasSize(1);
    clock.advance(Duration.ofSeconds(6));
    Await.result(caching.payment(storeA.inUse(VippsApi.EPAYMENT), reference));
    assertThat(sandbox.requestsTo(path)).hasSize(2);
    Await.result(
        caching.refund(
            new RefundCall(
                storeA.inUse(VippsApi.EPAYMENT), reference, new Money(1_000, "NOK"), "c-1", null)));
    PaymentSnapshot after =
        Await.result(caching.payment(storeA.inUse(VippsApi.EPAYMENT), reference));

    assertThat(sandbox.requestsTo(path)).hasSize(3);
    assertThat(after.refunded()).isEqualTo(new Money(1_000, "NOK"));
    caching.close();
  }
}
