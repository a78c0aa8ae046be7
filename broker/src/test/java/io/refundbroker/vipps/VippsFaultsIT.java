package io.refundbroker.vipps;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.vipps.RefundOutcome.Kind;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each fault the sandbox can inject ends in the right outcome, retries always reuse the idempotency
 * key and the body, and an unknown outcome is never reported as a rejection.
 */
class VippsFaultsIT {
  private static final String MSN = "612345";
  private static final AtomicInteger REFS = new AtomicInteger();
  private static TestSandbox sandbox;
  private static StoreCredentials store;
  private static VippsClient client;

  @BeforeAll
  static void start() {
    sandbox = TestSandbox.start();
    store = sandbox.newStore(MSN);
    client =
        new VippsClient(
            sandbox.vertx(),
            sandbox.clientConfig("VIPPS_READ_TIMEOUT", "1s", "VIPPS_MAX_ATTEMPTS", "3"),
            new SimpleMeterRegistry(),
            Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    client.close();
    sandbox.assertNoViolations();
    sandbox.close();
  }

  @BeforeEach
  void noFaults() {
    sandbox.sandbox().clearFaults();
  }

  /** A fresh captured payment (own reference, so the per-minute limit never interferes). */
  private static String payment(VippsApi api) {
    String reference = MSN + "-fault-" + REFS.incrementAndGet();
    sandbox
        .sandbox()
        .seedPayment(
            SandboxPayment.captured(MSN, reference, api, new Money(10_000, "NOK"), Instant.now()));
    return reference;
  }

  private static RefundOutcome refund(VippsApi api, String reference, String key) {
    return Await.result(
        client.refund(
            new RefundCall(store.inUse(api), reference, new Money(2_500, "NOK"), key, null)));
  }

  private static List<RecordedRequest> refundRequests(VippsApi api, String reference) {
    String path =
        api == VippsApi.ECOM
            ? "/ecomm/v2/payments/" + reference + "/refund"
            : "/epayment/v1/payments/" + reference + "/refund";
    return sandbox.requestsTo(path);
  }

  private static List<LedgerEntry> ledger(String reference) {
    return sandbox.sandbox().ledger().stream()
        .filter(e -> e.reference().equals(reference))
        .toList();
  }

  private static RefundLookup lookup(VippsApi api, String reference, String key) {
    return Await.result(client.lookupRefund(store.inUse(api), reference, key));
  }

  /** Every attempt carried the same idempotency key and the very same body bytes. */
  private static void assertSameKeyAndBody(
      List<RecordedRequest> attempts, VippsApi api, String key) {
    String header = api == VippsApi.ECOM ? "X-Request-Id" : "Idempotency-Key";
    assertThat(attempts).allSatisfy(r -> assertThat(r.header(header)).contains(key));
    Buffer first = attempts.get(0).body();
    assertThat(attempts).allSatisfy(r -> assertThat(r.body()).isEqualTo(first));
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void latencyBeyondTheReadTimeoutOnEveryAttemptIsUnknown(VippsApi api) {
    String reference = payment(api);
    sandbox
        .sandbox()
        .inject(
            Fault.latency(Duration.ofMillis(2_000))
                .on(Fault.Target.REFUND)
                .forReference(reference)
                .times(3));

    RefundOutcome outcome = refund(api, reference, "lat-" + reference);
    Await.result(sandbox.sandbox().whenIdle());

    assertThat(outcome.kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(outcome.httpStatus()).isZero();
    assertThat(outcome.detail()).contains("timed out");
    List<RecordedRequest> attempts = refundRequests(api, reference);
    assertThat(attempts).hasSize(3);
    assertSameKeyAndBody(attempts, api, "lat-" + reference);
    // The slow requests were still handled by "Vipps": once, the others were replays.
    assertThat(ledger(reference)).hasSize(1);
    assertThat(lookup(api, reference, "lat-" + reference)).isEqualTo(RefundLookup.APPLIED);
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void serverErrorsOnEveryAttemptAreUnknownAndAreRetriedWithTheSameKey(VippsApi api) {
    String reference = payment(api);
    sandbox
        .sandbox()
        .inject(Fault.status(503).on(Fault.Target.REFUND).forReference(reference).always());

    RefundOutcome outcome = refund(api, reference, "5xx-" + reference);

    assertThat(outcome.kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(outcome.httpStatus()).isEqualTo(503);
    List<RecordedRequest> attempts = refundRequests(api, reference);
    assertThat(attempts).hasSize(3);
    assertSameKeyAndBody(attempts, api, "5xx-" + reference);
    assertThat(ledger(reference)).isEmpty();
    assertThat(lookup(api, reference, "5xx-" + reference)).isEqualTo(RefundLookup.NOT_APPLIED);
  }

  @Test
  void tooManyRequestsOnEveryAttemptIsUnknown() {
    String reference = payment(VippsApi.EPAYMENT);
    sandbox
        .sandbox()
        .inject(Fault.status(429).on(Fault.Target.REFUND).forReference(reference).always());

    RefundOutcome outcome = refund(VippsApi.EPAYMENT, reference, "429-" + reference);

    assertThat(outcome.kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(outcome.httpStatus()).isEqualTo(429);
    assertThat(refundRequests(VippsApi.EPAYMENT, reference)).hasSize(3);
    assertThat(ledger(reference)).isEmpty();
  }

  @Test
  void aServerErrorThenSuccessIsAppliedOnceWithTheSameKey() {
    String reference = payment(VippsApi.EPAYMENT);
    sandbox
        .sandbox()
        .inject(Fault.status(500).on(Fault.Target.REFUND).forReference(reference).times(1));

    RefundOutcome outcome = refund(VippsApi.EPAYMENT, reference, "once-" + reference);

    assertThat(outcome.kind()).isEqualTo(Kind.APPLIED);
    List<RecordedRequest> attempts = refundRequests(VippsApi.EPAYMENT, reference);
    assertThat(attempts).hasSize(2);
    assertSameKeyAndBody(attempts, VippsApi.EPAYMENT, "once-" + reference);
    assertThat(ledger(reference))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.idempotencyKey()).isEqualTo("once-" + reference);
              assertThat(e.amount()).isEqualTo(new Money(2_500, "NOK"));
            });
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void connectionResetsOnEveryAttemptAreUnknown(VippsApi api) {
    String reference = payment(api);
    sandbox
        .sandbox()
        .inject(Fault.reset().on(Fault.Target.REFUND).forReference(reference).always());

    RefundOutcome outcome = refund(api, reference, "rst-" + reference);

    assertThat(outcome.kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(outcome.httpStatus()).isZero();
    List<RecordedRequest> attempts = refundRequests(api, reference);
    assertThat(attempts).hasSize(3);
    assertSameKeyAndBody(attempts, api, "rst-" + reference);
    assertThat(ledger(reference)).isEmpty();
    assertThat(lookup(api, reference, "rst-" + reference)).isEqualTo(RefundLookup.NOT_APPLIED);
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void applyThenDropOnEveryAttemptIsUnknownButTheLedgerAndLookupShowItApplied(VippsApi api) {
    String reference = payment(api);
    sandbox
        .sandbox()
        .inject(Fault.applyThenDrop().on(Fault.Target.REFUND).forReference(reference).always());

    RefundOutcome outcome = refund(api, reference, "atd-" + reference);

    assertThat(outcome.kind()).isEqualTo(Kind.UNKNOWN);
    List<RecordedRequest> attempts = refundRequests(api, reference);
    assertThat(attempts).hasSize(3);
    assertSameKeyAndBody(attempts, api, "atd-" + reference);
    assertThat(ledger(reference))
        .singleElement()
        .satisfies(e -> assertThat(e.idempotencyKey()).isEqualTo("atd-" + reference));
    assertThat(lookup(api, reference, "atd-" + reference)).isEqualTo(RefundLookup.APPLIED);
    assertThat(sandbox.sandbox().payment(MSN, reference).orElseThrow().refunded())
        .isEqualTo(new Money(2_500, "NOK"));
  }

  @ParameterizedTest
  @EnumSource(VippsApi.class)
  void applyThenDropOnceIsRepairedByTheRetrysReplay(VippsApi api) {
    String reference = payment(api);
    sandbox
        .sandbox()
        .inject(Fault.applyThenDrop().on(Fault.Target.REFUND).forReference(reference).times(1));

    RefundOutcome outcome = refund(api, reference, "atd1-" + reference);

    assertThat(outcome.kind()).isEqualTo(Kind.APPLIED);
    assertThat(refundRequests(api, reference)).hasSize(2);
    assertThat(ledger(reference)).hasSize(1);
    assertThat(sandbox.sandbox().payment(MSN, reference).orElseThrow().refunded())
        .isEqualTo(new Money(2_500, "NOK"));
  }

  @Test
  void aRejectionAfterAnAttemptThatMayHaveBeenAppliedIsUnknown() {
    // After an attempt that may have been applied (here a 502), "not enough refundable" may be the
    // echo of our own refund, had Vipps not replayed it: it must not become a rejection.
    String reference = payment(VippsApi.EPAYMENT);
    assertThat(
            Await.result(
                    client.refund(
                        new RefundCall(
                            store.inUse(VippsApi.EPAYMENT),
                            reference,
                            new Money(10_000, "NOK"),
                            "all-" + reference,
                            null)))
                .kind())
        .isEqualTo(Kind.APPLIED);
    sandbox
        .sandbox()
        .inject(Fault.status(502).on(Fault.Target.REFUND).forReference(reference).times(1));

    RefundOutcome afterAmbiguous = refund(VippsApi.EPAYMENT, reference, "echo-" + reference);
    RefundOutcome plain = refund(VippsApi.EPAYMENT, reference, "plain-" + reference);

    assertThat(afterAmbiguous.kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(afterAmbiguous.detail()).contains("earlier attempt");
    assertThat(plain.kind()).isEqualTo(Kind.REJECTED);
    assertThat(plain.reason()).isEqualTo(RefundOutcome.RejectReason.NOT_ENOUGH_REFUNDABLE);
  }

  @Test
  void faultsCanTargetOneReferenceOnly() {
    String hit = payment(VippsApi.EPAYMENT);
    String spared = payment(VippsApi.EPAYMENT);
    sandbox.sandbox().inject(Fault.status(503).on(Fault.Target.REFUND).forReference(hit).always());

    assertThat(refund(VippsApi.EPAYMENT, spared, "sp-" + spared).kind()).isEqualTo(Kind.APPLIED);
    assertThat(refund(VippsApi.EPAYMENT, hit, "hit-" + hit).kind()).isEqualTo(Kind.UNKNOWN);
  }

  @Test
  void probabilisticFaultsAreDeterministicForASeed() {
    String reference = payment(VippsApi.EPAYMENT);
    String token =
        Await.result(
                WebClient.create(sandbox.vertx())
                    .post(sandbox.sandbox().port(), "127.0.0.1", "/accesstoken/get")
                    .putHeader("client_id", store.clientId())
                    .putHeader("client_secret", store.clientSecret().reveal())
                    .putHeader("Ocp-Apim-Subscription-Key", store.subscriptionKey().reveal())
                    .send())
            .bodyAsJsonObject()
            .getString("access_token");

    List<Integer> first = statuses(reference, token);
    List<Integer> second = statuses(reference, token);

    assertThat(first).isEqualTo(second).contains(200, 503);
  }

  /** Ten reads under a fresh 50 % fault with seed 7. */
  private static List<Integer> statuses(String reference, String token) {
    sandbox.sandbox().clearFaults();
    sandbox
        .sandbox()
        .inject(
            Fault.status(503)
                .on(Fault.Target.READ)
                .forReference(reference)
                .always()
                .withProbability(0.5, 7L));
    WebClient web = WebClient.create(sandbox.vertx());
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      HttpResponse<Buffer> response =
          Await.result(
              web.get(sandbox.sandbox().port(), "127.0.0.1", "/epayment/v1/payments/" + reference)
                  .putHeader("Authorization", "Bearer " + token)
                  .putHeader("Ocp-Apim-Subscription-Key", store.subscriptionKey().reveal())
                  .putHeader("Merchant-Serial-Number", MSN)
                  .send());
      statuses.add(response.statusCode());
    }
    web.close();
    return statuses;
  }
}
