package io.refundbroker.credential;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.nok;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsKeys;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Key rotation as Vipps sees it, end to end: the real Vipps client proves keys against the sandbox,
 * and the refunds that follow show which keys authorized them (the sandbox's ledger records the
 * {@code client_id} behind every applied refund). Rotating keys at Vipps ({@link
 * TestSandbox#rotate}) makes the old ones stop working there, as regenerating keys in the Vipps
 * portal does.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyRotationIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String TOKEN_PATH = "/accesstoken/get";

  private RefundWorld world;
  private Shop requester;

  @BeforeAll
  void start() {
    world = RefundWorld.start();
    requester = world.shop("kr-bergen", "kr", "520001");
  }

  @AfterEach
  void specsHold() {
    world.vipps.assertNoViolations();
  }

  @AfterAll
  void stop() {
    world.close();
  }

  @Test
  void keysVippsDoesNotKnowAreRefusedAndChangeNothing() {
    Shop origin = world.shop("kr-oslo", "kr", "520010");
    settleInvalidations();
    world.sale(origin, "520010-order-1", 50_000);
    HttpResult first = world.refund(requester, "kr-unknown-1", refundBody("520010-order-1", 5_000));
    assertThat(first.status()).as(first.toString()).isEqualTo(201);
    String bearer = lastBearer("/epayment/v1/payments/520010-order-1/refund");
    VippsKeys cached = current(origin.msn());
    long events = countEvents();
    double drops = tokensDroppedOnRotation();

    String clientId = UUID.randomUUID().toString();
    String secret = "never-issued-" + TestSandbox.randomHex(16);
    HttpResult refused =
        rotate(
            origin.storeId(),
            new JsonObject()
                .put("clientId", clientId)
                .put("clientSecret", secret)
                .put("subscriptionKey", "never-issued-" + TestSandbox.randomHex(8)),
            true);
    JsonObject problem = assertProblem(refused, 422, "CREDENTIALS_REJECTED");
    assertThat(problem.getString("detail")).contains("Vipps refused these keys");
    assertThat(refused.text()).doesNotContain(secret);
    assertThat(tokenClientIds(requests()))
        .as("the keys were put to Vipps, which refused them")
        .last()
        .isEqualTo(clientId);

    JsonObject history = history(origin.storeId());
    assertThat(history.getInteger("currentVersion")).as("no new version").isEqualTo(1);
    assertThat(history.getJsonArray("versions")).hasSize(1);
    assertThat(countEvents()).as("no audit event").isEqualTo(events);
    assertThat(current(origin.msn())).as("the cached keys were kept").isSameAs(cached);
    assertThat(tokensDroppedOnRotation()).as("the Vipps token was kept").isEqualTo(drops);

    int mark = requests().size();
    HttpResult next = world.refund(requester, "kr-unknown-2", refundBody("520010-order-1", 5_000));
    assertThat(next.status()).as(next.toString()).isEqualTo(201);
    List<RecordedRequest> since = since(mark);
    assertThat(tokenClientIds(since)).as("the cached token was reused").isEmpty();
    assertThat(since)
        .filteredOn(r -> r.path().endsWith("/refund"))
        .singleElement()
        .satisfies(r -> assertThat(r.header(VippsHeaders.AUTHORIZATION)).contains(bearer));
    assertThat(ledgerEntry(next).clientId()).isEqualTo(origin.keys().clientId());
  }

  @Test
  void rotatedKeysAuthorizeTheNextRefundAndTheOldOnesAreNeverUsedAgain() {
    Shop origin = world.shop("kr-trondheim", "kr", "520020");
    settleInvalidations();
    StoreCredentials v1 = origin.keys();
    world.sale(origin, "520020-order-1", 50_000);
    HttpResult before =
        world.refund(requester, "kr-rotate-1", refundBody("520020-order-1", 10_000));
    assertThat(before.status()).as(before.toString()).isEqualTo(201);
    assertThat(ledgerEntry(before).clientId()).isEqualTo(v1.clientId());
    String oldBearer = lastBearer("/epayment/v1/payments/520020-order-1/refund");
    double drops = tokensDroppedOnRotation();
    int mark = requests().size();

    StoreCredentials v2 = world.vipps.rotate(origin.msn(), 2);
    HttpResult rotated = rotate(origin.storeId(), keys(v2), true);
    assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
    assertThat(rotated.json().getInteger("version")).isEqualTo(2);
    assertThat(rotated.json().getInteger("previousVersion")).isEqualTo(1);
    assertThat(rotated.json().getBoolean("validated")).isTrue();
    assertThat(tokensDroppedOnRotation())
        .as("the token fetched with the old keys was dropped")
        .isEqualTo(drops + 1);

    HttpResult after = world.refund(requester, "kr-rotate-2", refundBody("520020-order-1", 20_000));
    assertThat(after.status()).as(after.toString()).isEqualTo(201);
    assertThat(after.json().getString("status")).isEqualTo("SUCCEEDED");
    LedgerEntry applied = ledgerEntry(after);
    assertThat(applied.clientId()).as("authorized with the new keys").isEqualTo(v2.clientId());
    assertThat(applied.tokenMsn()).isEqualTo(origin.msn());
    assertThat(applied.amount().value()).isEqualTo(20_000);

    assertThat(refundEvents(before.json().getString("refundId")))
        .extracting(e -> e.getInteger("credentialsVersion"))
        .containsExactly(1, 1);
    List<JsonObject> events = refundEvents(after.json().getString("refundId"));
    assertThat(events)
        .extracting(e -> e.getString("action"))
        .containsExactly("refund.requested", "refund.succeeded");
    assertThat(events).extracting(e -> e.getInteger("credentialsVersion")).containsExactly(2, 2);

    List<RecordedRequest> since = since(mark);
    assertThat(tokenClientIds(since))
        .as("the proof and the refund's token, both with the new keys")
        .containsExactly(v2.clientId(), v2.clientId());
    assertThat(since)
        .as("the old keys and the old token were never used after the rotation")
        .isNotEmpty()
        .noneMatch(r -> r.header(VippsHeaders.CLIENT_ID).equals(Optional.of(v1.clientId())))
        .noneMatch(
            r ->
                r.header(VippsHeaders.SUBSCRIPTION_KEY)
                    .equals(Optional.of(v1.subscriptionKey().reveal())))
        .noneMatch(r -> r.header(VippsHeaders.AUTHORIZATION).equals(Optional.of(oldBearer)));

    JsonObject view = world.broker.get("/v1/orders/520020-order-1", requester.token()).json();
    assertThat(view.getJsonObject("refunded")).isEqualTo(nok(30_000));
  }

  @Test
  void rollbackToKeysVippsNoLongerTakes() {
    Shop origin = world.shop("kr-tromso", "kr", "520030");
    StoreCredentials v1 = origin.keys();
    StoreCredentials v2 = world.vipps.rotate(origin.msn(), 2);
    assertThat(rotate(origin.storeId(), keys(v2), true).status()).isEqualTo(200);
    long events = countEvents();

    // Proved (the default): Vipps refuses the version-1 keys, so nothing is written.
    HttpResult refused = rollback(origin.storeId(), 1, true);
    JsonObject problem = assertProblem(refused, 422, "CREDENTIALS_REJECTED");
    assertThat(problem.getString("detail")).contains("Vipps refused these keys");
    assertThat(tokenClientIds(requests())).last().isEqualTo(v1.clientId());
    assertThat(history(origin.storeId()).getInteger("currentVersion")).isEqualTo(2);
    assertThat(current(origin.msn()).clientId()).isEqualTo(v2.clientId());
    assertThat(countEvents()).as("no audit event").isEqualTo(events);

    // Unproved, on the admin's word: written as version 3, marked not validated.
    HttpResult forced = rollback(origin.storeId(), 1, false);
    assertThat(forced.status()).as(forced.toString()).isEqualTo(200);
    assertThat(forced.json().getInteger("version")).isEqualTo(3);
    assertThat(forced.json().getInteger("restoredVersion")).isEqualTo(1);
    assertThat(forced.json().getBoolean("validated")).isFalse();
    assertThat(current(origin.msn()).clientId()).isEqualTo(v1.clientId());
    assertThat(countEvents()).as("one credential.rolled_back event").isEqualTo(events + 1);

    // A refund with keys Vipps refuses fails closed: never sent, nothing applied, amount released.
    world.sale(origin, "520030-order-1", 30_000);
    int mark = requests().size();
    HttpResult refund =
        world.refund(requester, "kr-rollback-1", refundBody("520030-order-1", 10_000));
    JsonObject failed = assertProblem(refund, 502, "ORIGIN_CREDENTIALS_REJECTED");
    assertThat(failed.getString("refundStatus")).isEqualTo("FAILED");
    String refundId = failed.getString("refundId");
    JsonObject stored = world.broker.get("/v1/refunds/" + refundId, requester.token()).json();
    assertThat(stored.getString("status")).isEqualTo("FAILED");
    assertThat(stored.getJsonObject("failure").getString("code")).isEqualTo("BAD_CREDENTIALS");
    assertThat(tokenClientIds(since(mark))).containsExactly(v1.clientId());
    assertThat(world.refundCalls("520030-order-1")).as("no refund call reached Vipps").isZero();
    assertThat(world.ledger()).noneMatch(e -> e.reference().equals("520030-order-1"));
    assertThat(world.vipps.sandbox().payment(origin.msn(), "520030-order-1").orElseThrow())
        .satisfies(p -> assertThat(p.refunded().value()).isZero());
    List<JsonObject> audit = refundEvents(refundId);
    assertThat(audit)
        .extracting(e -> e.getString("action"))
        .containsExactly("refund.requested", "refund.failed");
    assertThat(audit).extracting(e -> e.getInteger("credentialsVersion")).containsExactly(3, 3);
    assertThat(audit.get(1).getString("failureCode")).isEqualTo("BAD_CREDENTIALS");
    // reading the order needs Vipps too, with the same refused keys
    assertProblem(
        world.broker.get("/v1/orders/520030-order-1", requester.token()),
        502,
        "VIPPS_CREDENTIALS_REJECTED");

    // The admin puts back keys Vipps takes; the whole amount is refundable again.
    assertThat(rotate(origin.storeId(), keys(v2), true).json().getInteger("version")).isEqualTo(4);
    HttpResult retried =
        world.refund(requester, "kr-rollback-2", refundBody("520030-order-1", 30_000));
    assertThat(retried.status()).as(retried.toString()).isEqualTo(201);
    assertThat(ledgerEntry(retried).clientId()).isEqualTo(v2.clientId());
  }

  @Test
  void refundsLeftUnknownAcrossARotationAreSettledTruthfully() {
    Shop origin = world.shop("kr-bodo", "kr", "520040");
    StoreCredentials v1 = origin.keys();
    world.sale(origin, "520040-order-1", 40_000);
    world.sale(origin, "520040-order-2", 40_000);
    // One refund reaches Vipps and is applied but the answer is lost; the other never arrives.
    world
        .vipps
        .sandbox()
        .inject(
            Fault.applyThenDrop().on(Fault.Target.REFUND).forReference("520040-order-1").times(1));
    world
        .vipps
        .sandbox()
        .inject(Fault.reset().on(Fault.Target.REFUND).forReference("520040-order-2").times(1));
    HttpResult applied =
        world.refund(requester, "kr-unknown-a", refundBody("520040-order-1", 7_000));
    HttpResult lost = world.refund(requester, "kr-unknown-b", refundBody("520040-order-2", 8_000));
    assertThat(applied.json().getString("status")).as(applied.toString()).isEqualTo("UNKNOWN");
    assertThat(lost.json().getString("status")).as(lost.toString()).isEqualTo("UNKNOWN");
    assertThat(world.vipps.sandbox().faults()).isEmpty();

    StoreCredentials v2 = world.vipps.rotate(origin.msn(), 2);
    assertThat(rotate(origin.storeId(), keys(v2), true).status()).isEqualTo(200);
    world.reconcileUntilResolved(5);
    assertThat(world.unresolved()).isZero();

    List<LedgerEntry> ledger = world.ledger();
    assertThat(ledger)
        .filteredOn(e -> e.reference().equals("520040-order-1"))
        .singleElement()
        .satisfies(e -> assertThat(e.clientId()).isEqualTo(v1.clientId()));
    assertThat(ledger)
        .filteredOn(e -> e.reference().equals("520040-order-2"))
        .as("resent once, with the keys valid at the time")
        .singleElement()
        .satisfies(e -> assertThat(e.clientId()).isEqualTo(v2.clientId()));

    List<JsonObject> first = refundEvents(applied.json().getString("refundId"));
    assertThat(first)
        .extracting(e -> e.getString("action"))
        .containsExactly("refund.requested", "refund.unknown", "refund.succeeded");
    assertThat(first)
        .as("applied with version 1, only looked up afterwards")
        .extracting(e -> e.getInteger("credentialsVersion"))
        .containsExactly(1, 1, 1);
    List<JsonObject> second = refundEvents(lost.json().getString("refundId"));
    assertThat(second)
        .extracting(e -> e.getString("action"))
        .containsExactly("refund.requested", "refund.unknown", "refund.succeeded");
    assertThat(second)
        .as("sent with version 1, resent (and applied) with version 2")
        .extracting(e -> e.getInteger("credentialsVersion"))
        .containsExactly(1, 1, 2);
  }

  // ------------------------------------------------------------------------------ helpers

  private static JsonObject keys(StoreCredentials keys) {
    return new JsonObject()
        .put("clientId", keys.clientId())
        .put("clientSecret", keys.clientSecret().reveal())
        .put("subscriptionKey", keys.subscriptionKey().reveal());
  }

  private HttpResult rotate(String storeId, JsonObject keys, boolean validate) {
    return world.broker.send(
        HttpMethod.PUT,
        "/v1/admin/stores/" + storeId + "/credentials" + (validate ? "" : "?validate=false"),
        world.broker.adminToken(),
        keys);
  }

  private HttpResult rollback(String storeId, int version, boolean validate) {
    return world.broker.post(
        "/v1/admin/stores/"
            + storeId
            + "/credentials/rollback"
            + (validate ? "" : "?validate=false"),
        world.broker.adminToken(),
        new JsonObject().put("version", version));
  }

  private JsonObject history(String storeId) {
    return world
        .broker
        .get("/v1/admin/stores/" + storeId + "/credentials", world.broker.adminToken())
        .json();
  }

  private VippsKeys current(String msn) {
    return Await.result(world.broker.app().credentials().current(KeyHolder.salesUnit(msn)));
  }

  private long countEvents() {
    return world.broker.database().queryLong("SELECT count(*) FROM audit_events");
  }

  /** The refund's audit events in order: each event's details plus its {@code action}. */
  private List<JsonObject> refundEvents(String refundId) {
    AuditLinks.await(world.broker.database());
    List<Map<String, Object>> rows =
        world
            .broker
            .database()
            .query(
                "SELECT action, details::text AS details FROM audit_events"
                    + " WHERE subject_type = 'refund' AND subject_id = ? ORDER BY seq",
                refundId);
    return rows.stream()
        .map(
            row ->
                new JsonObject((String) row.get("details"))
                    .put("action", (String) row.get("action")))
        .toList();
  }

  /** The sandbox's ledger entry of a refund (its Vipps idempotency key is the refund id). */
  private LedgerEntry ledgerEntry(HttpResult refund) {
    String refundId = refund.json().getString("refundId");
    return world.ledger().stream()
        .filter(e -> e.idempotencyKey().equals(refundId))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no refund applied at Vipps for " + refundId));
  }

  private List<RecordedRequest> requests() {
    Await.result(world.vipps.sandbox().whenIdle());
    return world.vipps.sandbox().requests();
  }

  private List<RecordedRequest> since(int mark) {
    List<RecordedRequest> all = requests();
    return all.subList(mark, all.size());
  }

  private static List<String> tokenClientIds(List<RecordedRequest> requests) {
    return requests.stream()
        .filter(r -> r.path().equals(TOKEN_PATH))
        .map(r -> r.header(VippsHeaders.CLIENT_ID).orElse(""))
        .toList();
  }

  /** The {@code Authorization} header of the last request to {@code path}. */
  private String lastBearer(String path) {
    return requests().stream()
        .filter(r -> r.path().equals(path))
        .reduce((a, b) -> b)
        .flatMap(r -> r.header(VippsHeaders.AUTHORIZATION))
        .orElseThrow();
  }

  private double tokensDroppedOnRotation() {
    Counter counter =
        world
            .broker
            .registry()
            .find("vipps.token.invalidations")
            .tag("cause", "rotation")
            .counter();
    return counter == null ? 0 : counter.count();
  }

  /**
   * Waits until the broker has handled every key-change notification committed so far. PostgreSQL
   * delivers notifications in commit order, so once a marker notification for the requester's MSN
   * (an MSN alone: another instance's, as the broker sees it) has dropped the requester's cached
   * keys, every earlier one has been handled.
   */
  private void settleInvalidations() {
    VippsKeys before = current(requester.msn());
    world
        .broker
        .database()
        .query(
            "SELECT pg_notify(?, ?)::text AS sent",
            CredentialInvalidations.CHANNEL,
            requester.msn());
    Poll.until(
        "the broker handled the marker notification",
        WAIT,
        () -> current(requester.msn()) != before);
  }
}
