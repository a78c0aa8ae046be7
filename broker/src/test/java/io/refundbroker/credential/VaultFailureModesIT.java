package io.refundbroker.credential;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.Secret;
import io.refundbroker.error.ProblemException;
import io.refundbroker.sandbox.SandboxStore;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.MutableClock;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the broker does when Vault misbehaves: the cache bridges a short outage and then fails
 * closed, a sealed or throttling Vault gives 503, an expired token leads to a new AppRole login, a
 * policy without a needed capability is reported to operators (naming the path) but not to the
 * caller. Time moves on a {@link MutableClock}; nothing sleeps.
 */
class VaultFailureModesIT {
  private static final AtomicInteger MSN = new AtomicInteger(500_000);
  private final MutableClock clock = MutableClock.now();
  private VaultDouble vault;
  private TestSandbox vipps;
  private TestBroker broker;
  private int testDeletes;

  @BeforeEach
  void start() {
    vault = VaultDouble.start();
    vipps = TestSandbox.start();
  }

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
    assertThat(vault.specViolations()).isEmpty();
    assertThat(vault.count(r -> r.method().equals("DELETE")))
        .as("the broker never deletes")
        .isEqualTo(testDeletes);
    vault.close();
    vipps.assertNoViolations();
    vipps.close();
  }

  private TestBroker startBroker() {
    broker =
        CredentialBackendKind.VAULT
            .configure(TestBroker.builder().clock(clock), vault)
            .env("CREDENTIALS_CACHE_TTL", "60s")
            .env("VIPPS_BASE_URL", vipps.baseUrl())
            .start();
    return broker;
  }

  private String[] storeWithKeys() {
    String msn = Integer.toString(MSN.incrementAndGet());
    String storeId = "vault-" + msn;
    broker.createStore(storeId, "acme", msn);
    vipps
        .sandbox()
        .registerStore(
            new SandboxStore(
                msn, "client-" + msn, Secret.of("secret-" + msn), Secret.of("sub-" + msn)));
    HttpResult rotated =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/" + storeId + "/credentials",
            broker.adminToken(),
            new JsonObject()
                .put("clientId", "client-" + msn)
                .put("clientSecret", "secret-" + msn)
                .put("subscriptionKey", "sub-" + msn));
    assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
    return new String[] {storeId, msn};
  }

  private ProblemException failure(String msn) {
    Throwable failure = Await.failure(broker.app().credentials().current(msn));
    assertThat(failure).isInstanceOf(ProblemException.class);
    return (ProblemException) failure;
  }

  @Test
  void cacheServesDuringAShortOutageAndFailsClosedAfterTheTtl() {
    startBroker();
    String[] store = storeWithKeys();
    assertThat(Await.result(broker.app().credentials().current(store[1])).version()).isEqualTo(1);
    long reads = vault.count(r -> r.path().contains("/data/salesunits/" + store[1]));

    vault.unreachable(true);
    clock.advance(Duration.ofSeconds(59));
    StoreCredentials cached = Await.result(broker.app().credentials().current(store[1]));
    assertThat(cached.clientId()).isEqualTo("client-" + store[1]);
    assertThat(vault.count(r -> r.path().contains("/data/salesunits/" + store[1])))
        .as("served from memory")
        .isEqualTo(reads);

    clock.advance(Duration.ofSeconds(2));
    ProblemException closed = failure(store[1]);
    assertThat(closed.status()).isEqualTo(503);
    assertThat(closed.code()).isEqualTo("CREDENTIALS_UNAVAILABLE");

    vault.unreachable(false);
    assertThat(Await.result(broker.app().credentials().current(store[1])).version()).isEqualTo(1);
  }

  @Test
  void sealedVaultAnswers503AndReadinessSaysDown() {
    startBroker();
    String[] store = storeWithKeys();
    vault.seal();
    clock.advance(Duration.ofMinutes(2));
    ProblemException sealed = failure(store[1]);
    assertThat(sealed.status()).isEqualTo(503);
    assertThat(sealed.code()).isEqualTo("CREDENTIALS_UNAVAILABLE");
    assertThat(sealed.detail()).contains("sealed");

    HttpResult rotate =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/" + store[0] + "/credentials",
            broker.adminToken(),
            new JsonObject()
                .put("clientId", "c2")
                .put("clientSecret", "s2")
                .put("subscriptionKey", "k2"));
    assertProblem(rotate, 503, "CREDENTIALS_UNAVAILABLE");
    HttpResult ready = broker.get("/health/ready", null);
    assertThat(ready.status()).isEqualTo(503);
    assertThat(ready.text()).contains("credentials").contains("sealed");

    vault.unseal();
    assertThat(broker.get("/health/ready", null).status()).isEqualTo(200);
    assertThat(Await.result(broker.app().credentials().current(store[1])).version()).isEqualTo(1);
  }

  @Test
  void throttledVaultAnswers503() {
    startBroker();
    String[] store = storeWithKeys();
    clock.advance(Duration.ofMinutes(2));
    vault.throttleNext(1);
    assertThat(failure(store[1]).detail()).contains("throttling");
    assertThat(Await.result(broker.app().credentials().current(store[1])).version()).isEqualTo(1);
  }

  @Test
  void expiredTokenLeadsToANewAppRoleLoginAndTheCallSucceeds() {
    startBroker();
    String[] store = storeWithKeys();
    long logins = vault.logins();
    vault.expireAllTokens();
    clock.advance(Duration.ofMinutes(2));
    StoreCredentials read = Await.result(broker.app().credentials().current(store[1]));
    assertThat(read.version()).isEqualTo(1);
    assertThat(vault.logins()).isEqualTo(logins + 1);
    assertThat(vault.count(r -> r.status() == 403))
        .as("one rejected call before the login")
        .isEqualTo(1);
  }

  @Test
  void staticTokenCannotLogInAgain() {
    String token = vault.issueToken(Duration.ofHours(1), "default", "broker");
    broker =
        TestBroker.builder()
            .clock(clock)
            .env("CREDENTIALS_BACKEND", "vault")
            .env("VAULT_ADDR", vault.address())
            .env("VAULT_TOKEN", token)
            .env("VAULT_TIMEOUT", "2s")
            .env("VIPPS_BASE_URL", vipps.baseUrl())
            .start();
    String[] store = storeWithKeys();
    assertThat(vault.logins()).isZero();
    vault.expireAllTokens();
    clock.advance(Duration.ofMinutes(10));
    ProblemException failure = failure(store[1]);
    assertThat(failure.status()).isEqualTo(503);
    assertThat(failure.detail()).contains("authenticate");
  }

  @Test
  void aMissingCapabilityIsLoggedWithItsPathButNotShownToTheCaller() {
    vault.addPolicy(
        "broker-without-data-read",
        """
        path "refund-broker/data/salesunits/*" { capabilities = ["create", "update"] }
        path "refund-broker/metadata/salesunits/*" { capabilities = ["read", "update"] }
        path "refund-broker/data/broker/*" { capabilities = ["create", "read"] }
        """);
    vault.appRolePolicies("default", "broker-without-data-read");
    startBroker();
    String[] store = storeWithKeys();
    clock.advance(Duration.ofMinutes(2));
    try (LogCapture logs = LogCapture.atTrace()) {
      ProblemException denied = failure(store[1]);
      assertThat(denied.status()).isEqualTo(503);
      assertThat(denied.detail())
          .doesNotContain("refund-broker/")
          .doesNotContain("permission denied")
          .doesNotContain("policy");
      assertThat(logs.text())
          .contains("refund-broker/data/salesunits/" + store[1])
          .contains("lacks the capability");
    }
    HttpResult rollback =
        broker.post(
            "/v1/admin/stores/" + store[0] + "/credentials/rollback",
            broker.adminToken(),
            new JsonObject().put("version", 1));
    JsonObject problem = assertProblem(rollback, 503, "CREDENTIALS_UNAVAILABLE");
    assertThat(problem.getString("detail")).doesNotContain("refund-broker/");
  }

  @Test
  void theBrokerPolicyAloneCannotDeleteOrList() {
    startBroker();
    String[] store = storeWithKeys();
    String token = vault.issueToken(Duration.ofHours(1), "default", "broker");
    var client = io.vertx.ext.web.client.WebClient.create(broker.vertx());
    try {
      testDeletes++;
      int delete =
          Await.result(
                  client
                      .deleteAbs(
                          vault.address() + "/v1/refund-broker/metadata/salesunits/" + store[1])
                      .putHeader("X-Vault-Token", token)
                      .send())
              .statusCode();
      int list =
          Await.result(
                  client
                      .getAbs(vault.address() + "/v1/refund-broker/metadata/salesunits/?list=true")
                      .putHeader("X-Vault-Token", token)
                      .send())
              .statusCode();
      assertThat(delete).isEqualTo(403);
      assertThat(list).isEqualTo(403);
    } finally {
      client.close();
    }
    assertThat(vault.currentVersion(store[1])).isEqualTo(1);
  }
}
