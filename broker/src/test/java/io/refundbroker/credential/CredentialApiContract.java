package io.refundbroker.credential;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.http.ProblemException;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.FakeKeyProof;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The admin credential workflow, run against each backend by a subclass ({@link
 * LocalCredentialApiIT}, {@link VaultCredentialApiIT}): rotation, version metadata, rollback,
 * check-and-set conflicts, proof failures, and what the refund flow reads afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CredentialApiContract {
  private static final AtomicInteger MSN = new AtomicInteger(400_000);

  protected final FakeKeyProof vipps = new FakeKeyProof();
  protected VaultDouble vault;
  protected TestBroker broker;

  abstract CredentialBackendKind backend();

  @BeforeAll
  void start() {
    if (backend() == CredentialBackendKind.VAULT) {
      vault = VaultDouble.start();
    }
    broker = backend().configure(TestBroker.builder().vipps(vipps), vault).start();
  }

  @AfterAll
  void stop() {
    broker.close();
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

  protected static JsonObject keys(String clientId, String secret, String subscription) {
    return new JsonObject()
        .put("clientId", clientId)
        .put("clientSecret", secret)
        .put("subscriptionKey", subscription);
  }

  protected HttpResult rotate(String storeId, JsonObject keys) {
    return broker.send(
        HttpMethod.PUT, "/v1/admin/stores/" + storeId + "/credentials", broker.adminToken(), keys);
  }

  protected StoreCredentials current(String msn) {
    return Await.result(broker.app().credentials().current(msn));
  }

  @Test
  void rotationThenReadReturnsTheNewVersion() {
    String[] store = newStore();
    HttpResult first = rotate(store[0], keys("client-a", "secret-a", "sub-a"));
    assertThat(first.status()).as(first.toString()).isEqualTo(200);
    assertThat(first.json().getInteger("version")).isEqualTo(1);
    assertThat(first.json().getInteger("previousVersion")).isZero();
    assertThat(first.json().getBoolean("validated")).isTrue();
    assertThat(first.json().getString("validatedAt")).isNotBlank();
    assertThat(first.text()).doesNotContain("secret-a").doesNotContain("sub-a");

    StoreCredentials v1 = current(store[1]);
    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1.clientId()).isEqualTo("client-a");
    assertThat(v1.clientSecret().reveal()).isEqualTo("secret-a");

    HttpResult second = rotate(store[0], keys("client-b", "secret-b", "sub-b"));
    assertThat(second.json().getInteger("version")).isEqualTo(2);
    StoreCredentials v2 = current(store[1]);
    assertThat(v2.version()).as("cache dropped on rotation").isEqualTo(2);
    assertThat(v2.subscriptionKey().reveal()).isEqualTo("sub-b");
    assertThat(vipps.forgotten()).contains(store[1]);

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
    assertThat(history.text()).doesNotContain("client-b").doesNotContain("secret-b");

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
    rotate(store[0], keys("client-old", "secret-old", "sub-old"));
    rotate(store[0], keys("client-new", "secret-new", "sub-new"));
    assertThat(current(store[1]).clientId()).isEqualTo("client-new");

    HttpResult rolled =
        broker.post(
            "/v1/admin/stores/" + store[0] + "/credentials/rollback",
            broker.adminToken(),
            new JsonObject().put("version", 1));
    assertThat(rolled.status()).as(rolled.toString()).isEqualTo(200);
    assertThat(rolled.json().getInteger("version")).isEqualTo(3);
    assertThat(rolled.json().getInteger("restoredVersion")).isEqualTo(1);
    assertThat(rolled.json().getInteger("previousVersion")).isEqualTo(2);

    StoreCredentials now = current(store[1]);
    assertThat(now.version()).isEqualTo(3);
    assertThat(now.clientId()).isEqualTo("client-old");
    assertThat(now.clientSecret().reveal()).isEqualTo("secret-old");

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
    rotate(store[0], keys("client-0", "secret-0", "sub-0"));
    vipps.holdUntil(2);
    String path = "/v1/admin/stores/" + store[0] + "/credentials";
    Future<HttpResult> a =
        broker.sendAsync(
            HttpMethod.PUT,
            path,
            broker.adminToken(),
            keys("client-x", "secret-x", "sub-x"),
            MultiMap.caseInsensitiveMultiMap());
    Future<HttpResult> b =
        broker.sendAsync(
            HttpMethod.PUT,
            path,
            broker.adminToken(),
            keys("client-y", "secret-y", "sub-y"),
            MultiMap.caseInsensitiveMultiMap());
    HttpResult ra = Await.result(a);
    HttpResult rb = Await.result(b);
    assertThat(List.of(ra.status(), rb.status())).containsExactlyInAnyOrder(200, 409);
    HttpResult loser = ra.status() == 409 ? ra : rb;
    HttpResult winner = ra.status() == 200 ? ra : rb;
    assertProblem(loser, 409, "CREDENTIALS_CONFLICT");
    assertThat(winner.json().getInteger("version")).isEqualTo(2);
    String winnerClient = winner == ra ? "client-x" : "client-y";
    assertThat(current(store[1]).clientId()).isEqualTo(winnerClient);
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
    rotate(store[0], keys("client-good", "secret-good", "sub-good"));
    vipps.accept(c -> !c.clientSecret().reveal().equals("secret-bad"));
    try {
      HttpResult rejected = rotate(store[0], keys("client-bad", "secret-bad", "sub-bad"));
      JsonObject problem = assertProblem(rejected, 422, "CREDENTIALS_REJECTED");
      assertThat(problem.getString("detail")).contains("Vipps");
      assertThat(rejected.text()).doesNotContain("secret-bad");
    } finally {
      vipps.accept(c -> true);
    }
    assertThat(current(store[1]).clientId()).isEqualTo("client-good");
    JsonObject history =
        broker.get("/v1/admin/stores/" + store[0] + "/credentials", broker.adminToken()).json();
    assertThat(history.getInteger("currentVersion")).isEqualTo(1);
  }

  @Test
  void validateFalseStoresUnprovedKeys() {
    String[] store = newStore();
    int proofs = vipps.proved().size();
    HttpResult result =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/" + store[0] + "/credentials?validate=false",
            broker.adminToken(),
            keys("client-u", "secret-u", "sub-u"));
    assertThat(result.status()).isEqualTo(200);
    assertThat(result.json().getBoolean("validated")).isFalse();
    assertThat(result.json().containsKey("validatedAt")).isFalse();
    assertThat(vipps.proved()).hasSize(proofs);
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
