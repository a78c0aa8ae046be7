package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.FakeKeyProof;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two broker instances on one database: a rotation on one reaches the other's cache through
 * PostgreSQL LISTEN/NOTIFY long before the (one hour) TTL, also after the listening connection was
 * killed and re-established.
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
    FakeKeyProof vippsB = new FakeKeyProof();
    try (TestBroker a = instance(backend, vault, db, kek, new FakeKeyProof());
        TestBroker b = instance(backend, vault, db, kek, vippsB)) {
      String msn = backend == CredentialBackendKind.VAULT ? "610001" : "610002";
      a.createStore("shop-" + msn, "acme", msn);
      rotate(a, "shop-" + msn, "first");
      assertThat(Await.result(b.app().credentials().current(msn)).clientId())
          .isEqualTo("client-first");

      rotate(a, "shop-" + msn, "second");
      Poll.until("B serves version 2", WAIT, () -> "client-second".equals(clientIdOn(b, msn)));
      assertThat(vippsB.forgotten()).as("B dropped its Vipps token too").contains(msn);

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
      rotate(a, "shop-" + msn, "third");
      Poll.until("B serves version 3", WAIT, () -> "client-third".equals(clientIdOn(b, msn)));
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  private static TestBroker instance(
      CredentialBackendKind backend,
      VaultDouble vault,
      TestDatabase db,
      Path kek,
      FakeKeyProof vipps) {
    return backend
        .configure(TestBroker.builder().database(db).vipps(vipps), vault)
        .env("CREDENTIALS_CACHE_TTL", "1h")
        .env("LOCAL_KEK_FILE", kek.toString())
        .env("BROKER_ADMIN_TOKEN", "rb_cross_instance_admin_token_0123456789abcdef")
        .start();
  }

  private static void rotate(TestBroker broker, String storeId, String tag) {
    HttpResult result =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/" + storeId + "/credentials",
            broker.adminToken(),
            new JsonObject()
                .put("clientId", "client-" + tag)
                .put("clientSecret", "secret-" + tag)
                .put("subscriptionKey", "sub-" + tag));
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
  }

  private static String clientIdOn(TestBroker broker, String msn) {
    return Await.result(broker.app().credentials().current(msn)).clientId();
  }
}
