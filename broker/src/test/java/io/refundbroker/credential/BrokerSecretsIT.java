package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.BrokerConfig;
import io.refundbroker.credential.local.LocalCredentialBackend;
import io.refundbroker.credential.vault.VaultCredentialBackend;
import io.refundbroker.credential.vault.VaultSession;
import io.refundbroker.db.Database;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The broker's own secrets on both backends: created once from the generator, then read back as
 * stored; concurrent first uses agree on one value; the value never sits in plaintext in the
 * database; with Vault it lives at {@code broker/<name>} under the broker's real policy, which
 * cannot replace it.
 */
class BrokerSecretsIT {
  @TempDir Path dir;

  private Vertx vertx;
  private VaultDouble vault;
  private TestDatabase db;
  private Database database;
  private CredentialBackend backend;

  @AfterEach
  void stop() {
    if (backend != null) {
      Await.result(backend.close());
    }
    if (database != null) {
      Await.result(database.close());
    }
    if (vertx != null) {
      Await.result(vertx.close());
    }
    if (vault != null) {
      assertThat(vault.specViolations()).isEmpty();
      vault.close();
    }
  }

  private CredentialBackend open(CredentialBackendKind kind) throws Exception {
    vertx = Vertx.vertx();
    db = TestPostgres.newDatabase();
    database = Database.connect(vertx, db.appUrl(), 2, db.schemaVersion());
    if (kind == CredentialBackendKind.LOCAL) {
      backend =
          Await.result(
              LocalCredentialBackend.open(vertx, database.pool(), dir.resolve("kek")).map(b -> b));
    } else {
      vault = VaultDouble.start();
      BrokerConfig config =
          BrokerConfig.fromEnvironment(
              Map.of(
                  "CREDENTIALS_BACKEND", "vault",
                  "VAULT_ADDR", vault.address(),
                  "VAULT_ROLE_ID", vault.roleId(),
                  "VAULT_SECRET_ID", vault.secretId(),
                  "VAULT_TIMEOUT", "2s"));
      VaultSession session = Await.result(VaultSession.start(vertx, config.vault()));
      backend = new VaultCredentialBackend(session, config.vault());
    }
    return backend;
  }

  private static Supplier<Future<Map<String, String>>> generator(
      AtomicInteger calls, String value) {
    return () -> {
      calls.incrementAndGet();
      return Future.succeededFuture(Map.of("key", value));
    };
  }

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void createdOnceThenReadAsStored(CredentialBackendKind kind) throws Exception {
    open(kind);
    String canary = "canary-" + UUID.randomUUID();
    AtomicInteger calls = new AtomicInteger();

    Map<String, String> first =
        Await.result(backend.brokerSecret("audit-mac", generator(calls, canary)));
    Map<String, String> second =
        Await.result(backend.brokerSecret("audit-mac", generator(calls, "another value")));

    assertThat(first).containsEntry("key", canary);
    assertThat(second).as("a stored secret is never replaced").isEqualTo(first);
    assertThat(calls).as("the generator runs only while nothing is stored").hasValue(1);

    Map<String, String> other =
        Await.result(backend.brokerSecret("client-ca", generator(calls, "ca value")));
    assertThat(other).as("names are separate secrets").containsEntry("key", "ca value");

    if (kind == CredentialBackendKind.LOCAL) {
      String dump = db.query("SELECT * FROM broker_secrets").toString();
      assertThat(dump).contains("audit-mac").doesNotContain(canary);
      byte[] raw =
          ((byte[])
              db.query("SELECT ciphertext FROM broker_secrets WHERE name = 'audit-mac'")
                  .get(0)
                  .get("ciphertext"));
      assertThat(new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1))
          .doesNotContain(canary);
    } else {
      assertThat(
              vault.count(
                  r ->
                      r.path().equals("refund-broker/data/broker/audit-mac")
                          && r.method().equals("POST")
                          && r.status() == 200))
          .as("one create-only write")
          .isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void concurrentFirstUsesAgreeOnOneValue(CredentialBackendKind kind) throws Exception {
    open(kind);
    AtomicInteger calls = new AtomicInteger();
    List<Future<Map<String, String>>> racing =
        List.of(
            backend.brokerSecret("audit-mac", generator(calls, "value-a")),
            backend.brokerSecret("audit-mac", generator(calls, "value-b")),
            backend.brokerSecret("audit-mac", generator(calls, "value-c")));
    Await.result(Future.all(racing));
    Map<String, String> stored =
        Await.result(backend.brokerSecret("audit-mac", generator(calls, "x")));
    for (Future<Map<String, String>> f : racing) {
      assertThat(f.result()).as("every racer gets the stored value").isEqualTo(stored);
    }
  }

  @ParameterizedTest
  @EnumSource(value = CredentialBackendKind.class, names = "LOCAL")
  void anotherKeyFileCannotOpenTheSecret(CredentialBackendKind kind) throws Exception {
    open(kind);
    Await.result(backend.brokerSecret("audit-mac", generator(new AtomicInteger(), "v")));
    Path otherKek = dir.resolve("other-kek");
    CredentialBackend other =
        Await.result(LocalCredentialBackend.open(vertx, database.pool(), otherKek).map(b -> b));
    Throwable failure =
        Await.failure(other.brokerSecret("audit-mac", generator(new AtomicInteger(), "w")));
    assertThat(failure).hasMessageContaining("credential store is unavailable");
    assertThat(Files.exists(otherKek)).isTrue();
  }
}
