package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.refundbroker.config.Secret;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.sandbox.SandboxPartner;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two broker instances on one database and one Vipps sandbox: a rotation on one reaches the other's
 * caches (keys and Vipps access token) through PostgreSQL LISTEN/NOTIFY long before the (one hour)
 * TTL, also after the listening connection was killed and re-established.
 */
class CrossInstanceInvalidationIT {
  private static final Duration WAIT = Duration.ofSeconds(15);

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void rotationOnOneInstanceIsServedByTheOtherBeforeItsTtl(CredentialBackendKind backend)
      throws IOException {
    VaultDouble vault = backend == CredentialBackendKind.VAULT ? VaultDouble.start() : null;
    TestDatabase db = TestPostgres.newDatabase();
    Path kek = Files.createTempDirectory("rb-kek").resolve("shared.kek");
    try (TestSandbox sandbox = TestSandbox.start();
        TestBroker a = instance(backend, vault, db, kek, sandbox);
        TestBroker b = instance(backend, vault, db, kek, sandbox)) {
      String msn = backend == CredentialBackendKind.VAULT ? "610001" : "610002";
      String storeId = "shop-" + msn;
      a.createStore(storeId, "acme", msn);
      StoreCredentials first = sandbox.newStore(msn);
      rotate(a, storeId, first);
      assertThat(clientIdOn(b, msn)).isEqualTo(first.clientId());

      // B serves an order look-up, so B holds the store's Vipps access token.
      String till = a.issueToken("STORE", storeId);
      String orderId = msn + "-order-1";
      sale(a, sandbox, msn, till, orderId);
      assertThat(b.get("/v1/orders/" + orderId, till).status()).isEqualTo(200);
      String oldBearer =
          lastRequest(sandbox, "/epayment/v1/payments/" + orderId)
              .header(VippsHeaders.AUTHORIZATION)
              .orElseThrow();

      StoreCredentials second = sandbox.rotate(msn, 2);
      rotate(a, storeId, second);
      Poll.until("B dropped its Vipps token", WAIT, () -> tokensDroppedOnRotation(b) == 1);
      Poll.until("B serves version 2", WAIT, () -> second.clientId().equals(clientIdOn(b, msn)));
      int mark = requests(sandbox).size();
      HttpResult view = b.get("/v1/orders/" + orderId, till);
      assertThat(view.status()).as(view.toString()).isEqualTo(200);
      List<RecordedRequest> all = requests(sandbox);
      List<RecordedRequest> since = all.subList(mark, all.size());
      assertThat(since)
          .filteredOn(r -> r.path().equals("/accesstoken/get"))
          .as("B fetched a new token with the new keys")
          .extracting(r -> r.header(VippsHeaders.CLIENT_ID).orElse(""))
          .containsExactly(second.clientId());
      assertThat(since)
          .as("B's old token was not used again")
          .noneMatch(r -> r.header(VippsHeaders.AUTHORIZATION).equals(Optional.of(oldBearer)));

      // kill B's listening connection: it reconnects, and rotations keep arriving
      long killed =
          db.queryLong(
              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                  + " WHERE datname = ? AND query LIKE 'LISTEN%'",
              db.name());
      assertThat(killed).isEqualTo(2);
      Poll.until(
          "both listeners reconnected",
          WAIT,
          () ->
              db.queryLong(
                      "SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND query LIKE"
                          + " 'LISTEN%'",
                      db.name())
                  == 2);
      // a rotation's notification may have been missed while B's listener was away: B drops the
      // token it holds (made with version 2's keys) as it reconnects, not only its cached keys
      Poll.until(
          "B dropped its token when its listener reconnected",
          WAIT,
          () -> tokensDroppedOnRotation(b) == 2);
      StoreCredentials third = sandbox.rotate(msn, 3);
      rotate(a, storeId, third);
      Poll.until("B serves version 3", WAIT, () -> third.clientId().equals(clientIdOn(b, msn)));
      sandbox.assertNoViolations();
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void aPartnerRotationOnOneInstanceIsServedByTheOtherBeforeItsTtl(CredentialBackendKind backend)
      throws IOException {
    VaultDouble vault = backend == CredentialBackendKind.VAULT ? VaultDouble.start() : null;
    TestDatabase db = TestPostgres.newDatabase();
    Path kek = Files.createTempDirectory("rb-kek").resolve("shared.kek");
    try (TestSandbox sandbox = TestSandbox.start();
        TestBroker a = instance(backend, vault, db, kek, sandbox);
        TestBroker b = instance(backend, vault, db, kek, sandbox)) {
      KeyHolder partner = KeyHolder.partner("xi-vendor");
      SandboxPartner first = partnerKeys("xi-1");
      sandbox.sandbox().registerPartner(first);
      rotatePartner(a, first);
      assertThat(partnerClientIdOn(b, partner)).isEqualTo(first.clientId());

      SandboxPartner second = partnerKeys("xi-2");
      sandbox.sandbox().registerPartner(second);
      rotatePartner(a, second);
      Poll.until(
          "B serves the partner's version 2",
          WAIT,
          () -> second.clientId().equals(partnerClientIdOn(b, partner)));
      sandbox.assertNoViolations();
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  private static SandboxPartner partnerKeys(String clientId) {
    return new SandboxPartner(
        "xi-vendor",
        clientId + "-" + TestSandbox.randomHex(4),
        Secret.of("xs-" + TestSandbox.randomHex(12)),
        Secret.of("xk-" + TestSandbox.randomHex(12)),
        Set.of("610009"));
  }

  private static void rotatePartner(TestBroker broker, SandboxPartner keys) {
    HttpResult result =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/partners/" + keys.partnerId() + "/credentials",
            broker.adminToken(),
            new JsonObject()
                .put("clientId", keys.clientId())
                .put("clientSecret", keys.clientSecret().reveal())
                .put("subscriptionKey", keys.subscriptionKey().reveal()));
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
  }

  private static String partnerClientIdOn(TestBroker broker, KeyHolder partner) {
    return Await.result(broker.app().credentials().current(partner)).clientId();
  }

  private static TestBroker instance(
      CredentialBackendKind backend,
      VaultDouble vault,
      TestDatabase db,
      Path kek,
      TestSandbox sandbox) {
    return backend
        .configure(TestBroker.builder().database(db), vault)
        .env("VIPPS_BASE_URL", sandbox.baseUrl())
        .env("VIPPS_PAYMENT_CACHE_TTL", "0s")
        .env("CREDENTIALS_CACHE_TTL", "1h")
        .env("LOCAL_KEK_FILE", kek.toString())
        .env("BROKER_ADMIN_TOKEN", "rb_cross_instance_admin_token_0123456789abcdef")
        .start();
  }

  private static void rotate(TestBroker broker, String storeId, StoreCredentials keys) {
    HttpResult result =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/" + storeId + "/credentials",
            broker.adminToken(),
            new JsonObject()
                .put("clientId", keys.clientId())
                .put("clientSecret", keys.clientSecret().reveal())
                .put("subscriptionKey", keys.subscriptionKey().reveal()));
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
  }

  /** A payment captured at Vipps, registered by the store's till. */
  private static void sale(
      TestBroker broker, TestSandbox sandbox, String msn, String till, String orderId) {
    Money amount = new Money(12_000, "NOK");
    sandbox
        .sandbox()
        .seedPayment(
            SandboxPayment.captured(msn, orderId, VippsApi.EPAYMENT, amount, Instant.now()));
    HttpResult registered =
        broker.post(
            "/v1/orders",
            till,
            new JsonObject().put("orderId", orderId).put("amount", amount.toJson()));
    assertThat(registered.status()).as(registered.toString()).isEqualTo(201);
  }

  private static List<RecordedRequest> requests(TestSandbox sandbox) {
    Await.result(sandbox.sandbox().whenIdle());
    return sandbox.sandbox().requests();
  }

  private static RecordedRequest lastRequest(TestSandbox sandbox, String path) {
    return requests(sandbox).stream()
        .filter(r -> r.path().equals(path))
        .reduce((first, second) -> second)
        .orElseThrow();
  }

  /**
   * Tokens dropped because keys changed: on a rotation's notification, or all of them when the
   * listener reconnects (a rotation's notification may have been missed meanwhile).
   */
  private static double tokensDroppedOnRotation(TestBroker broker) {
    double dropped = 0;
    for (String cause : List.of("rotation", "resync")) {
      Counter counter =
          broker.registry().find("vipps.token.invalidations").tag("cause", cause).counter();
      dropped += counter == null ? 0 : counter.count();
    }
    return dropped;
  }

  private static String clientIdOn(TestBroker broker, String msn) {
    return Await.result(broker.app().credentials().current(msn)).clientId();
  }
}
