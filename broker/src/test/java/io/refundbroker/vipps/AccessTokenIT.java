package io.refundbroker.vipps;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.refundbroker.config.Secret;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.credential.VippsKeyProblems;
import io.refundbroker.error.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.sandbox.SandboxOptions;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.MutableClock;
import io.refundbroker.testing.TestSandbox;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The access-token cache: one token per store, one fetch at a time, refreshed and dropped right.
 */
class AccessTokenIT {
  private static final AtomicInteger MSNS = new AtomicInteger(510_000);
  private static MutableClock clock;
  private static TestSandbox sandbox;

  private SimpleMeterRegistry registry;
  private VippsClient client;

  @BeforeAll
  static void startSandbox() {
    clock = MutableClock.now();
    sandbox = TestSandbox.start(SandboxOptions.defaults().withClock(clock));
  }

  @AfterAll
  static void stopSandbox() {
    sandbox.assertNoViolations();
    sandbox.close();
  }

  @BeforeEach
  void newClient() {
    sandbox.sandbox().clearFaults();
    sandbox.sandbox().tokenLifetime(Duration.ofHours(1));
    registry = new SimpleMeterRegistry();
    client =
        new VippsClient(
            sandbox.vertx(),
            // no test here is about timeouts: a generous read timeout keeps a busy machine's
            // slow answers from being retried (which would change the request counts asserted)
            sandbox.clientConfig("VIPPS_TOKEN_REFRESH_MARGIN", "5m", "VIPPS_READ_TIMEOUT", "30s"),
            registry,
            clock);
  }

  @AfterEach
  void closeClient() {
    client.close();
  }

  private static StoreCredentials newStore() {
    return sandbox.newStore(String.valueOf(MSNS.incrementAndGet()));
  }

  private static void seed(String msn, String reference) {
    sandbox
        .sandbox()
        .seedPayment(
            SandboxPayment.captured(
                msn, reference, VippsApi.EPAYMENT, new Money(100_000, "NOK"), clock.instant()));
  }

  private static String ref(StoreCredentials store, String suffix) {
    return store.msn() + "-" + suffix;
  }

  private RefundOutcome refund(StoreCredentials store, String reference, long amount, String key) {
    return Await.result(
        client.refund(
            new RefundCall(
                store.inUse(VippsApi.EPAYMENT), reference, new Money(amount, "NOK"), key, null)));
  }

  private RefundLookup lookup(StoreCredentials store, String reference) {
    return Await.result(
        client.lookupRefund(store.inUse(VippsApi.EPAYMENT), reference, "no-such-key"));
  }

  private static List<RecordedRequest> tokenFetches(StoreCredentials store) {
    return sandbox.requestsTo("/accesstoken/get").stream()
        .filter(r -> r.header("client_id").orElse("").equals(store.clientId()))
        .toList();
  }

  private double counter(String name, String tag, String value) {
    Counter counter = registry.find(name).tag(tag, value).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void aHundredConcurrentCallsShareOneTokenFetch() {
    StoreCredentials store = newStore();
    String reference = ref(store, "concurrent");
    seed(store.msn(), reference);
    // Hold the token answer back so that all hundred calls wait for the same fetch.
    sandbox.sandbox().inject(Fault.latency(Duration.ofMillis(300)).on(Fault.Target.TOKEN));

    List<Future<RefundLookup>> calls = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      calls.add(client.lookupRefund(store.inUse(VippsApi.EPAYMENT), reference, "key-" + i));
    }
    Await.result(Future.all(calls));

    assertThat(calls).allSatisfy(c -> assertThat(c.result()).isEqualTo(RefundLookup.NOT_APPLIED));
    assertThat(tokenFetches(store)).hasSize(1);
    assertThat(counter("vipps.token.fetches", "result", "ok")).isEqualTo(1.0);
    assertThat(sandbox.requestsTo("/epayment/v1/payments/" + reference + "/events")).hasSize(100);
  }

  @Test
  void callsSharingAFetchContinueOnTheirOwnContexts() {
    StoreCredentials store = newStore();
    String reference = ref(store, "contexts");
    seed(store.msn(), reference);
    sandbox.sandbox().inject(Fault.latency(Duration.ofMillis(200)).on(Fault.Target.TOKEN));
    List<Context> contexts = new ArrayList<>();
    List<Future<Boolean>> sameContext = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Context context = sandbox.vertx().getOrCreateContext();
      contexts.add(context);
      Promise<Boolean> done = Promise.promise();
      context.runOnContext(
          v ->
              client
                  .lookupRefund(store.inUse(VippsApi.EPAYMENT), reference, "ctx-key")
                  .onComplete(
                      ar -> done.complete(ar.succeeded() && Vertx.currentContext() == context)));
      sameContext.add(done.future());
    }
    Await.result(Future.all(sameContext));

    assertThat(sameContext).allSatisfy(f -> assertThat(f.result()).isTrue());
    assertThat(contexts.stream().distinct()).hasSize(4);
    assertThat(tokenFetches(store)).hasSize(1);
  }

  @Test
  void theTokenIsReusedUntilTheMarginBeforeExpiryThenRefreshed() {
    StoreCredentials store = newStore();
    String reference = ref(store, "refresh");
    seed(store.msn(), reference);

    lookup(store, reference);
    clock.advance(Duration.ofMinutes(54));
    lookup(store, reference);
    assertThat(tokenFetches(store)).as("54 min into a 60 min token").hasSize(1);

    clock.advance(Duration.ofMinutes(2));
    lookup(store, reference);
    assertThat(tokenFetches(store)).as("56 min: inside the 5 min margin").hasSize(2);

    List<String> bearers =
        sandbox.requestsTo("/epayment/v1/payments/" + reference + "/events").stream()
            .map(r -> r.header("Authorization").orElseThrow())
            .toList();
    assertThat(bearers).hasSize(3);
    assertThat(bearers.get(0).equals(bearers.get(1))).as("cached token reused").isTrue();
    assertThat(bearers.get(1).equals(bearers.get(2))).as("refreshed token used").isFalse();
  }

  @Test
  void shortLivedTokensAreRefreshedAtHalfTheirLifetime() {
    sandbox.sandbox().tokenLifetime(Duration.ofSeconds(60));
    StoreCredentials store = newStore();
    String reference = ref(store, "short-lived");
    seed(store.msn(), reference);

    lookup(store, reference);
    clock.advance(Duration.ofSeconds(29));
    lookup(store, reference);
    assertThat(tokenFetches(store)).hasSize(1);
    clock.advance(Duration.ofSeconds(2));
    lookup(store, reference);
    assertThat(tokenFetches(store))
        .as("a 5 min margin on a 60 s token is capped at 30 s")
        .hasSize(2);
  }

  @Test
  void everyStoreHasItsOwnTokenAndRefundsAreAuthorizedWithTheOriginStoresKeys() {
    StoreCredentials a = newStore();
    StoreCredentials b = newStore();
    seed(a.msn(), ref(a, "own-token"));
    seed(b.msn(), ref(b, "own-token"));

    RefundOutcome refundA = refund(a, ref(a, "own-token"), 500, "a-1");
    RefundOutcome refundB = refund(b, ref(b, "own-token"), 700, "b-1");

    assertThat(refundA.kind()).isEqualTo(RefundOutcome.Kind.APPLIED);
    assertThat(refundB.kind()).isEqualTo(RefundOutcome.Kind.APPLIED);
    assertThat(tokenFetches(a)).hasSize(1);
    assertThat(tokenFetches(b)).hasSize(1);
    LedgerEntry entryA = ledgerEntry(ref(a, "own-token"));
    LedgerEntry entryB = ledgerEntry(ref(b, "own-token"));
    assertThat(entryA.clientId()).isEqualTo(a.clientId());
    assertThat(entryA.tokenMsn()).isEqualTo(a.msn());
    assertThat(entryB.clientId()).isEqualTo(b.clientId());
    assertThat(entryB.tokenMsn()).isEqualTo(b.msn());
    assertThat(counter("vipps.token.invalidations", "cause", "unauthorized")).isZero();
  }

  private static LedgerEntry ledgerEntry(String reference) {
    return sandbox.sandbox().ledger().stream()
        .filter(e -> e.reference().equals(reference))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void rotatedKeysFetchANewTokenInsteadOfReusingTheOldOne() {
    StoreCredentials v1 = newStore();
    String reference = ref(v1, "rotation");
    seed(v1.msn(), reference);
    lookup(v1, reference);

    StoreCredentials v2 = sandbox.rotate(v1.msn(), 2);
    lookup(v2, reference);

    assertThat(tokenFetches(v1)).hasSize(1);
    assertThat(tokenFetches(v2)).hasSize(1);
    List<RecordedRequest> reads =
        sandbox.requestsTo("/epayment/v1/payments/" + reference + "/events");
    assertThat(reads).as("no call was refused and retried").hasSize(2);
    assertThat(
            reads
                .get(1)
                .header("Ocp-Apim-Subscription-Key")
                .orElseThrow()
                .equals(v2.subscriptionKey().reveal()))
        .isTrue();
    assertThat(counter("vipps.token.invalidations", "cause", "unauthorized")).isZero();
  }

  @Test
  void forgetTokenDropsTheStoresToken() {
    StoreCredentials store = newStore();
    String reference = ref(store, "forget");
    seed(store.msn(), reference);
    lookup(store, reference);
    lookup(store, reference);
    assertThat(tokenFetches(store)).hasSize(1);

    client.forgetTokens(KeyHolder.salesUnit(store.msn()));
    lookup(store, reference);

    assertThat(tokenFetches(store)).hasSize(2);
    assertThat(counter("vipps.token.invalidations", "cause", "rotation")).isEqualTo(1.0);
  }

  @Test
  void aRefusedTokenIsDroppedRefetchedOnceAndTheCallRetried() {
    StoreCredentials store = newStore();
    String reference = ref(store, "revoked");
    seed(store.msn(), reference);
    lookup(store, reference);

    sandbox.sandbox().revokeTokens();
    RefundOutcome outcome = refund(store, reference, 100, "rv-1");

    assertThat(outcome.kind()).isEqualTo(RefundOutcome.Kind.APPLIED);
    assertThat(tokenFetches(store)).hasSize(2);
    assertThat(sandbox.requestsTo("/epayment/v1/payments/" + reference + "/refund")).hasSize(2);
    assertThat(counter("vipps.token.invalidations", "cause", "unauthorized")).isEqualTo(1.0);
  }

  @Test
  void a401ThatPersistsAfterTheRefetchIsBadCredentials() {
    StoreCredentials store = newStore();
    String reference = ref(store, "persistent-401");
    seed(store.msn(), reference);
    sandbox.sandbox().inject(Fault.status(401).on(Fault.Target.REFUND).always());

    RefundOutcome outcome = refund(store, reference, 100, "p401-1");

    assertThat(outcome.kind()).isEqualTo(RefundOutcome.Kind.REJECTED);
    assertThat(outcome.reason()).isEqualTo(RefundOutcome.RejectReason.BAD_CREDENTIALS);
    assertThat(tokenFetches(store)).as("one refetch, no more").hasSize(2);
    assertThat(sandbox.requestsTo("/epayment/v1/payments/" + reference + "/refund")).hasSize(2);
    assertThat(sandbox.sandbox().ledger()).noneMatch(e -> e.reference().equals(reference));
  }

  @Test
  void keysVippsRefusesAreBadCredentialsAndNothingIsSent() {
    StoreCredentials good = newStore();
    String reference = ref(good, "bad-keys");
    seed(good.msn(), reference);
    StoreCredentials wrong =
        new StoreCredentials(
            good.msn(), 7, good.clientId(), Secret.of("not-the-secret"), good.subscriptionKey());

    RefundOutcome outcome = refund(wrong, reference, 100, "bk-1");
    // The client fails with a typed VippsFailure; the credential caller's mapping makes it the
    // problem.
    Throwable verify =
        VippsKeyProblems.of(
            Await.failure(client.verifyCredentials(wrong.vippsKeys())), wrong.msn());

    assertThat(outcome.kind()).isEqualTo(RefundOutcome.Kind.REJECTED);
    assertThat(outcome.reason()).isEqualTo(RefundOutcome.RejectReason.BAD_CREDENTIALS);
    assertThat(sandbox.requestsTo("/epayment/v1/payments/" + reference + "/refund")).isEmpty();
    assertThat(verify).isInstanceOf(ProblemException.class);
    assertThat(((ProblemException) verify).status()).isEqualTo(422);
    assertThat(((ProblemException) verify).code()).isEqualTo("CREDENTIALS_REJECTED");
    assertThat(((ProblemException) verify).detail()).doesNotContain("not-the-secret");
    Await.result(client.verifyCredentials(good.vippsKeys()));
    assertThat(counter("vipps.token.fetches", "result", "rejected")).isEqualTo(2.0);
  }

  @Test
  void anUnreachableTokenEndpointLeavesTheRefundUnknownAndUnsent() {
    StoreCredentials store = newStore();
    String reference = ref(store, "token-down");
    seed(store.msn(), reference);
    sandbox.sandbox().inject(Fault.status(503).on(Fault.Target.TOKEN).always());

    RefundOutcome outcome = refund(store, reference, 100, "td-1");
    Throwable verify =
        VippsKeyProblems.of(
            Await.failure(client.verifyCredentials(store.vippsKeys())), store.msn());

    assertThat(outcome.kind()).isEqualTo(RefundOutcome.Kind.UNKNOWN);
    assertThat(outcome.detail()).contains("not sent");
    assertThat(tokenFetches(store)).as("bounded retries").hasSize(6);
    assertThat(sandbox.requestsTo("/epayment/v1/payments/" + reference + "/refund")).isEmpty();
    assertThat(((ProblemException) verify).status()).isEqualTo(503);
  }
}
