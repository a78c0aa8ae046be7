package io.refundbroker.credential;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.refundbroker.error.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.sandbox.SandboxStore;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HoldingRelay;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The admin credential workflow, run against each backend by a subclass ({@link
 * LocalCredentialApiIT}, {@link VaultCredentialApiIT}): rotation, version metadata, rollback,
 * check-and-set conflicts, proof failures, and what the refund flow reads afterwards. Keys are
 * proved by the real Vipps client against the Vipps sandbox: keys are good when the sandbox has
 * them registered ({@link TestSandbox#newStore}, {@link TestSandbox#rotate}), refused otherwise.
 * The broker reaches the sandbox through a {@link HoldingRelay}, which lets the conflict test make
 * two proofs overlap.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CredentialApiContract {
  private static final AtomicInteger MSN = new AtomicInteger(400_000);
  private static final String TOKEN_PATH = "/accesstoken/get";

  protected TestSandbox sandbox;
  protected HoldingRelay relay;
  protected VaultDouble vault;
  protected TestBroker broker;

  abstract CredentialBackendKind backend();

  @BeforeAll
  void start() {
    sandbox = TestSandbox.start();
    relay = HoldingRelay.start(sandbox.vertx(), sandbox.sandbox().port());
    if (backend() == CredentialBackendKind.VAULT) {
      vault = VaultDouble.start();
    }
    broker =
        backend()
            .configure(
                TestBroker.builder()
                    .env("VIPPS_BASE_URL", relay.baseUrl())
                    .env("VIPPS_RETRY_BACKOFF", "5ms")
                    .env("VIPPS_PAYMENT_CACHE_TTL", "0s"),
                vault)
            .start();
  }

  @AfterAll
  void stop() {
    try {
      broker.close();
    } finally {
      relay.close();
      sandbox.close();
    }
    sandbox.assertNoViolations();
    if (vault != null) {
      assertThat(vault.specViolations()).as("requests outside the Vault spec").isEmpty();
      assertThat(vault.count(r -> r.method().equals("DELETE"))).as("DELETE calls").isZero();
      vault.close();
    }
  }

  /** A new store with a unique MSN; returns {storeId, msn}. */
  protected String[] newStore() {
    String msn = Integer.toString(MSN.incrementAndGet());
    String storeId = "store-" + msn;
    broker.createStore(storeId, "acme", msn);
    return new String[] {storeId, msn};
  }

  /** The API body for a key set. */
  protected static JsonObject keys(StoreCredentials keys) {
    return keys(keys.clientId(), keys.clientSecret().reveal(), keys.subscriptionKey().reveal());
  }

  protected static JsonObject keys(String clientId, String secret, String subscription) {
    return new JsonObject()
        .put("clientId", clientId)
        .put("clientSecret", secret)
        .put("subscriptionKey", subscription);
  }

  /** A key set Vipps (the sandbox) has never issued. */
  protected static JsonObject unknownKeys(String tag) {
    return keys(
        UUID.randomUUID().toString(),
        tag + "-secret-" + TestSandbox.randomHex(12),
        tag + "-sub-" + TestSandbox.randomHex(8));
  }

  protected HttpResult rotate(String storeId, JsonObject keys) {
    return broker.send(
        HttpMethod.PUT, "/v1/admin/stores/" + storeId + "/credentials", broker.adminToken(), keys);
  }

  protected StoreCredentials current(String msn) {
    return Await.result(broker.app().credentials().current(msn));
  }

  /** Every Vipps API request the sandbox has received and handled so far. */
  protected List<RecordedRequest> vippsRequests() {
    Await.result(sandbox.sandbox().whenIdle());
    return sandbox.sandbox().requests();
  }

  /** The {@code client_id}s of the access-token requests among {@code requests}. */
  protected static List<String> tokenClientIds(List<RecordedRequest> requests) {
    return requests.stream()
        .filter(r -> r.path().equals(TOKEN_PATH))
        .map(r -> r.header(VippsHeaders.CLIENT_ID).orElse(""))
        .toList();
  }

  /** Cached Vipps access tokens the broker dropped because a store's keys changed. */
  private double tokensDroppedOnRotation() {
    Counter counter =
        broker.registry().find("vipps.token.invalidations").tag("cause", "rotation").counter();
    return counter == null ? 0 : counter.count();
  }

  /** A payment captured at Vipps in the store, registered by the store's till. */
  private void sale(String storeId, String msn, String storeToken, String orderId) {
    sandbox
        .sandbox()
        .seedPayment(
            SandboxPayment.captured(
                msn, orderId, VippsApi.EPAYMENT, new Money(25_000, "NOK"), Instant.now()));
    HttpResult registered =
        broker.post(
            "/v1/orders",
            storeToken,
            new JsonObject()
                .put("orderId", orderId)
                .put("amount", new Money(25_000, "NOK").toJson()));
    assertThat(registered.status()).as(registered.toString()).isEqualTo(201);
  }

  @Test
  void rotationThenReadReturnsTheNewVersion() {
    String[] store = newStore();
    StoreCredentials keysA = sandbox.newStore(store[1]);
    HttpResult first = rotate(store[0], keys(keysA));
    assertThat(first.status()).as(first.toString()).isEqualTo(200);
    assertThat(first.json().getInteger("version")).isEqualTo(1);
    assertThat(first.json().getInteger("previousVersion")).isZero();
    assertThat(first.json().getBoolean("validated")).isTrue();
    assertThat(first.json().getString("validatedAt")).isNotBlank();
    assertThat(first.text())
        .doesNotContain(keysA.clientSecret().reveal())
        .doesNotContain(keysA.subscriptionKey().reveal());
    assertThat(tokenClientIds(vippsRequests()))
        .as("proved with Vipps")
        .last()
        .isEqualTo(keysA.clientId());

    StoreCredentials v1 = current(store[1]);
    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1.clientId()).isEqualTo(keysA.clientId());
    assertThat(v1.clientSecret().reveal()).isEqualTo(keysA.clientSecret().reveal());

    // The store's access token is in use: an order look-up reads the payment with version 1.
    String till = broker.issueToken("STORE", store[0]);
    String orderId = store[1] + "-order-1";
    sale(store[0], store[1], till, orderId);
    assertThat(broker.get("/v1/orders/" + orderId, till).status()).isEqualTo(200);
    String oldBearer =
        vippsRequests().stream()
            .filter(r -> r.path().equals("/epayment/v1/payments/" + orderId))
            .reduce((a, b) -> b)
            .flatMap(r -> r.header(VippsHeaders.AUTHORIZATION))
            .orElseThrow();
    double dropped = tokensDroppedOnRotation();
    int mark = vippsRequests().size();

    StoreCredentials keysB = sandbox.rotate(store[1], 2);
    HttpResult second = rotate(store[0], keys(keysB));
    assertThat(second.json().getInteger("version")).isEqualTo(2);
    StoreCredentials v2 = current(store[1]);
    assertThat(v2.version()).as("cache dropped on rotation").isEqualTo(2);
    assertThat(v2.subscriptionKey().reveal()).isEqualTo(keysB.subscriptionKey().reveal());
    assertThat(tokensDroppedOnRotation())
        .as("the store's Vipps access token was dropped")
        .isEqualTo(dropped + 1);

    HttpResult afterRotation = broker.get("/v1/orders/" + orderId, till);
    assertThat(afterRotation.status()).as(afterRotation.toString()).isEqualTo(200);
    List<RecordedRequest> all = vippsRequests();
    List<RecordedRequest> since = all.subList(mark, all.size());
    assertThat(tokenClientIds(since))
        .as("the proof and the look-up's new token, both with the new keys")
        .containsExactly(keysB.clientId(), keysB.clientId());
    assertThat(since)
        .as("nothing after the rotation used the old token or subscription key")
        .noneMatch(r -> r.header(VippsHeaders.AUTHORIZATION).equals(Optional.of(oldBearer)))
        .noneMatch(
            r ->
                r.header(VippsHeaders.SUBSCRIPTION_KEY)
                    .equals(Optional.of(keysA.subscriptionKey().reveal())));

    HttpResult history =
        broker.get("/v1/admin/stores/" + store[0] + "/credentials", broker.adminToken());
    assertThat(history.status()).isEqualTo(200);
    JsonObject json = history.json();
    assertThat(json.getInteger("currentVersion")).isEqualTo(2);
    assertThat(json.getString("backend")).isEqualTo(backend().name().toLowerCase());
    JsonArray versions = json.getJsonArray("versions");
    assertThat(versions).hasSize(2);
    JsonObject latest = versions.getJsonObject(1);
    assertThat(latest.getInteger("version")).isEqualTo(2);
    assertThat(latest.getString("rotatedBy")).startsWith("cl_");
    assertThat(latest.getBoolean("validated")).isTrue();
    assertThat(latest.getString("createdAt")).isNotBlank();
    assertThat(history.text())
        .doesNotContain(keysB.clientId())
        .doesNotContain(keysB.clientSecret().reveal());

    AuditLinks.await(broker.database());
    List<Map<String, Object>> audit =
        broker
            .database()
            .query(
                "SELECT action, details::text AS details FROM audit_events WHERE subject_id = ?"
                    + " AND action LIKE 'credential.%' ORDER BY seq",
                store[0]);
    assertThat(audit).hasSize(2);
    assertThat(audit.get(1).get("action")).isEqualTo("credential.rotated");
    JsonObject details = new JsonObject((String) audit.get(1).get("details"));
    assertThat(details.getString("msn")).isEqualTo(store[1]);
    assertThat(details.getInteger("version")).isEqualTo(2);
    assertThat(details.getBoolean("validated")).isTrue();
  }

  @Test
  void rollbackWritesTheOldDataAsANewVersion() {
    String[] store = newStore();
    StoreCredentials old = sandbox.newStore(store[1]);
    assertThat(rotate(store[0], keys(old)).status()).isEqualTo(200);
    StoreCredentials fresh = sandbox.rotate(store[1], 2);
    assertThat(rotate(store[0], keys(fresh)).status()).isEqualTo(200);
    assertThat(current(store[1]).clientId()).isEqualTo(fresh.clientId());

    // Vipps takes the old keys again (e.g. the new ones were issued by mistake and withdrawn).
    sandbox
        .sandbox()
        .registerStore(
            new SandboxStore(store[1], old.clientId(), old.clientSecret(), old.subscriptionKey()));
    HttpResult rolled =
        broker.post(
            "/v1/admin/stores/" + store[0] + "/credentials/rollback",
            broker.adminToken(),
            new JsonObject().put("version", 1));
    assertThat(rolled.status()).as(rolled.toString()).isEqualTo(200);
    assertThat(rolled.json().getInteger("version")).isEqualTo(3);
    assertThat(rolled.json().getInteger("restoredVersion")).isEqualTo(1);
    assertThat(rolled.json().getInteger("previousVersion")).isEqualTo(2);
    assertThat(rolled.json().getBoolean("validated")).isTrue();
    assertThat(tokenClientIds(vippsRequests()))
        .as("the restored keys were proved with Vipps")
        .last()
        .isEqualTo(old.clientId());

    StoreCredentials now = current(store[1]);
    assertThat(now.version()).isEqualTo(3);
    assertThat(now.clientId()).isEqualTo(old.clientId());
    assertThat(now.clientSecret().reveal()).isEqualTo(old.clientSecret().reveal());

    JsonObject history =
        broker.get("/v1/admin/stores/" + store[0] + "/credentials", broker.adminToken()).json();
    assertThat(history.getJsonArray("versions").getJsonObject(2).getInteger("restoredVersion"))
        .isEqualTo(1);
    assertThat(
            broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM audit_events WHERE subject_id = ? AND action ="
                        + " 'credential.rolled_back'",
                    store[0]))
        .isEqualTo(1);

    assertProblem(
        broker.post(
            "/v1/admin/stores/" + store[0] + "/credentials/rollback",
            broker.adminToken(),
            new JsonObject().put("version", 99)),
        404,
        "CREDENTIALS_VERSION_NOT_FOUND");
    assertThat(current(store[1]).version()).isEqualTo(3);
  }

  @Test
  void concurrentRotationsOneWinsTheOtherConflicts() {
    String[] store = newStore();
    assertThat(rotate(store[0], keys(sandbox.newStore(store[1]))).status()).isEqualTo(200);
    // Vipps holds one key set per sales unit: both admins send the new one. Both proofs are held
    // until both have arrived, so both rotations have read version 1 before either writes.
    StoreCredentials next = sandbox.rotate(store[1], 2);
    relay.holdUntil(TOKEN_PATH, 2);
    String path = "/v1/admin/stores/" + store[0] + "/credentials";
    Future<HttpResult> a =
        broker.sendAsync(
            HttpMethod.PUT,
            path,
            broker.adminToken(),
            keys(next),
            MultiMap.caseInsensitiveMultiMap());
    Future<HttpResult> b =
        broker.sendAsync(
            HttpMethod.PUT,
            path,
            broker.adminToken(),
            keys(next),
            MultiMap.caseInsensitiveMultiMap());
    HttpResult ra = Await.result(a);
    HttpResult rb = Await.result(b);
    assertThat(relay.held()).isZero();
    assertThat(List.of(ra.status(), rb.status())).containsExactlyInAnyOrder(200, 409);
    HttpResult loser = ra.status() == 409 ? ra : rb;
    HttpResult winner = ra.status() == 200 ? ra : rb;
    assertProblem(loser, 409, "CREDENTIALS_CONFLICT");
    assertThat(winner.json().getInteger("version")).isEqualTo(2);
    assertThat(current(store[1]).clientId()).isEqualTo(next.clientId());
    JsonObject history =
        broker.get("/v1/admin/stores/" + store[0] + "/credentials", broker.adminToken()).json();
    assertThat(history.getInteger("currentVersion")).isEqualTo(2);
    assertThat(history.getJsonArray("versions")).as("the loser wrote nothing").hasSize(2);
    assertThat(
            broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM audit_events WHERE subject_id = ? AND action ="
                        + " 'credential.rotated'",
                    store[0]))
        .as("only the winner is audited")
        .isEqualTo(2);
  }

  @Test
  void aFailedProofWritesNothingAndSaysWhy() {
    String[] store = newStore();
    StoreCredentials good = sandbox.newStore(store[1]);
    assertThat(rotate(store[0], keys(good)).status()).isEqualTo(200);
    JsonObject bad = unknownKeys("bad");
    HttpResult rejected = rotate(store[0], bad);
    JsonObject problem = assertProblem(rejected, 422, "CREDENTIALS_REJECTED");
    assertThat(problem.getString("detail")).contains("Vipps");
    assertThat(rejected.text())
        .doesNotContain(bad.getString("clientSecret"))
        .doesNotContain(bad.getString("subscriptionKey"));
    assertThat(tokenClientIds(vippsRequests()))
        .as("Vipps was asked, and refused")
        .last()
        .isEqualTo(bad.getString("clientId"));

    assertThat(current(store[1]).clientId()).isEqualTo(good.clientId());
    JsonObject history =
        broker.get("/v1/admin/stores/" + store[0] + "/credentials", broker.adminToken()).json();
    assertThat(history.getInteger("currentVersion")).isEqualTo(1);
  }

  @Test
  void validateFalseStoresUnprovedKeys() {
    String[] store = newStore();
    // keys Vipps does not know: asking it would have refused them
    JsonObject unproved = unknownKeys("unproved");
    long proofs = tokenClientIds(vippsRequests()).size();
    HttpResult result =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/" + store[0] + "/credentials?validate=false",
            broker.adminToken(),
            unproved);
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    assertThat(result.json().getBoolean("validated")).isFalse();
    assertThat(result.json().containsKey("validatedAt")).isFalse();
    assertThat(tokenClientIds(vippsRequests())).as("Vipps was not asked").hasSize((int) proofs);
    assertThat(current(store[1]).clientId()).isEqualTo(unproved.getString("clientId"));
    JsonObject version =
        broker
            .get("/v1/admin/stores/" + store[0] + "/credentials", broker.adminToken())
            .json()
            .getJsonArray("versions")
            .getJsonObject(0);
    assertThat(version.getBoolean("validated")).isFalse();
  }

  @Test
  void unknownStoreMissingKeysAndBadInput() {
    assertProblem(rotate("no-such-store", keys("c", "s", "k")), 404, "STORE_NOT_FOUND");
    assertProblem(
        broker.get("/v1/admin/stores/no-such-store/credentials", broker.adminToken()),
        404,
        "STORE_NOT_FOUND");
    assertProblem(
        broker.post(
            "/v1/admin/stores/no-such-store/credentials/rollback",
            broker.adminToken(),
            new JsonObject().put("version", 1)),
        404,
        "STORE_NOT_FOUND");

    String[] store = newStore();
    Throwable missing = Await.failure(broker.app().credentials().current(store[1]));
    assertThat(missing).isInstanceOf(ProblemException.class);
    assertThat(((ProblemException) missing).code()).isEqualTo("CREDENTIALS_MISSING");
    assertThat(((ProblemException) missing).status()).isEqualTo(409);
    JsonObject empty =
        broker.get("/v1/admin/stores/" + store[0] + "/credentials", broker.adminToken()).json();
    assertThat(empty.getInteger("currentVersion")).isZero();
    assertThat(empty.getJsonArray("versions")).isEmpty();

    HttpResult extra =
        rotate(store[0], keys("c", "s", "k").put("clientSecretCopy", "leaked-value-123"));
    assertProblem(extra, 400, "VALIDATION_FAILED");
    assertThat(extra.text()).doesNotContain("leaked-value-123");
    HttpResult tooLong = rotate(store[0], keys("c", "x".repeat(257), "k"));
    assertProblem(tooLong, 400, "VALIDATION_FAILED");
    assertThat(tooLong.text()).doesNotContain("xxxxxxxx");
    HttpResult spaces = rotate(store[0], keys("c", "has spaces-secret", "k"));
    assertProblem(spaces, 400, "VALIDATION_FAILED");
    assertThat(spaces.text()).doesNotContain("has spaces-secret");
    assertProblem(
        broker.post(
            "/v1/admin/stores/" + store[0] + "/credentials/rollback",
            broker.adminToken(),
            new JsonObject().put("version", 0)),
        400,
        "VALIDATION_FAILED");
    assertThat(
            broker
                .get("/v1/admin/stores/" + store[0] + "/credentials", broker.adminToken())
                .json()
                .getInteger("currentVersion"))
        .as("nothing written by bad input")
        .isZero();
  }

  @Test
  void readinessReportsTheCredentialBackend() {
    HttpResult ready = broker.get("/health/ready", null);
    assertThat(ready.status()).as(ready.toString()).isEqualTo(200);
    assertThat(ready.text()).contains("\"credentials\"");
  }
}
