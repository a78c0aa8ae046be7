package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.Secret;
import io.refundbroker.error.ProblemException;
import io.refundbroker.sandbox.SandboxStore;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.MutableClock;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.refundbroker.testing.vault.VaultDouble.Mode;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Readiness follows {@code sys/health} as Vault defines it: a sealed or uninitialised Vault and a
 * disaster-recovery secondary (472) are DOWN, and so is any Vault on which the broker's credential
 * reads fail; a standby (429) or performance standby (473) is UP when reads work there. {@code
 * /health/ready} names the state either way.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VaultReplicationIT {
  private static final AtomicInteger MSN = new AtomicInteger(630_000);
  private final MutableClock clock = MutableClock.now();
  private VaultDouble vault;
  private TestSandbox vipps;
  private TestBroker broker;
  private String[] store;

  @BeforeAll
  void start() {
    vault = VaultDouble.start();
    vipps = TestSandbox.start();
    broker =
        CredentialBackendKind.VAULT
            .configure(TestBroker.builder().clock(clock), vault)
            .env("CREDENTIALS_CACHE_TTL", "60s")
            .env("VIPPS_BASE_URL", vipps.baseUrl())
            .start();
    store = storeWithKeys();
  }

  @AfterEach
  void backToActive() {
    vault.mode(Mode.ACTIVE);
    vault.unseal();
    assertThat(ready().status()).isEqualTo(200);
  }

  @AfterAll
  void stop() {
    broker.close();
    assertThat(vault.specViolations()).isEmpty();
    vault.close();
    vipps.close();
  }

  @Test
  void aDrSecondaryIsNotReadyAndItsReadsFail() {
    vault.mode(Mode.DR_SECONDARY);
    HttpResult ready = ready();
    assertThat(ready.status()).isEqualTo(503);
    assertThat(credentials(ready).getString("reason"))
        .contains("disaster-recovery (DR) secondary")
        .contains("sys/health 472");

    clock.advance(Duration.ofMinutes(2));
    Throwable failure = Await.failure(broker.app().credentials().current(store[1]));
    assertThat(failure).isInstanceOf(ProblemException.class);
    assertThat(((ProblemException) failure).status()).isEqualTo(503);
    assertThat(((ProblemException) failure).detail()).contains("disaster-recovery secondary");
    assertThat(vault.count(r -> r.status() == 400 && r.path().contains("/data/salesunits/")))
        .as("Vault answered the read as a DR secondary does")
        .isPositive();
  }

  @Test
  void aPerformanceStandbyIsReadyWhenReadsWork() {
    vault.mode(Mode.PERFORMANCE_STANDBY);
    long probes = probes();
    HttpResult ready = ready();
    assertThat(ready.status()).as(ready.toString()).isEqualTo(200);
    assertThat(credentials(ready).getString("detail"))
        .contains("performance standby")
        .contains("sys/health 473")
        .contains("credential reads work");
    assertThat(probes()).as("readiness read from it").isEqualTo(probes + 1);

    clock.advance(Duration.ofMinutes(2));
    long reads = vault.count(r -> r.path().endsWith("/data/salesunits/" + store[1]));
    assertThat(Await.result(broker.app().credentials().current(store[1])).version()).isEqualTo(1);
    assertThat(vault.count(r -> r.path().endsWith("/data/salesunits/" + store[1])))
        .as("read from the performance standby, not from a cache")
        .isEqualTo(reads + 1);
  }

  @Test
  void aStandbyIsReadyWhenReadsWork() {
    vault.mode(Mode.STANDBY);
    HttpResult ready = ready();
    assertThat(ready.status()).as(ready.toString()).isEqualTo(200);
    assertThat(credentials(ready).getString("detail")).contains("standby").contains("429");
  }

  @Test
  void anActiveNodeIsNamedToo() {
    HttpResult ready = ready();
    assertThat(ready.status()).isEqualTo(200);
    assertThat(credentials(ready).getString("detail")).contains("an active node (sys/health 200)");
  }

  @Test
  void anUninitialisedOrSealedVaultIsNotReady() {
    vault.mode(Mode.UNINITIALIZED);
    HttpResult uninitialised = ready();
    assertThat(uninitialised.status()).isEqualTo(503);
    assertThat(credentials(uninitialised).getString("reason"))
        .contains("not initialised")
        .contains("501");

    vault.mode(Mode.ACTIVE);
    vault.seal();
    HttpResult sealed = ready();
    assertThat(sealed.status()).isEqualTo(503);
    assertThat(credentials(sealed).getString("reason")).contains("sealed").contains("503");
  }

  @Test
  void aVaultOnWhichTheBrokersReadsAreDeniedIsNotReady() {
    vault.addPolicy(
        "broker-without-data-read",
        """
        path "refund-broker/data/salesunits/*" { capabilities = ["create", "update"] }
        """);
    vault.appRolePolicies("default", "broker-without-data-read");
    vault.expireAllTokens();
    try {
      HttpResult ready = ready();
      assertThat(ready.status()).isEqualTo(503);
      assertThat(credentials(ready).getString("reason")).contains("refused access");
    } finally {
      vault.appRolePolicies("default", "broker");
      vault.expireAllTokens();
    }
  }

  private long probes() {
    return vault.count(r -> r.path().endsWith("/data/salesunits/readiness-probe"));
  }

  private HttpResult ready() {
    return broker.get("/health/ready", null);
  }

  private static JsonObject credentials(HttpResult ready) {
    for (Object check : ready.json().getJsonArray("checks")) {
      JsonObject c = (JsonObject) check;
      if (c.getString("id").equals("credentials")) {
        return c;
      }
    }
    throw new AssertionError("no credentials check in " + ready);
  }

  private String[] storeWithKeys() {
    String msn = Integer.toString(MSN.incrementAndGet());
    String storeId = "repl-" + msn;
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
}
