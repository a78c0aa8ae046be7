package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.Secret;
import io.refundbroker.sandbox.SandboxStore;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Canary: secrets written through the API (accepted, rejected, malformed, rolled back, read by the
 * refund side; proved by the real Vipps client against the sandbox) and the Vipps access tokens
 * those proofs fetched never appear in any log line at TRACE (with the Vipps HTTP trace on), any
 * HTTP response, the metrics, any audit row, or any column of the database, text or binary (the
 * local backend's ciphertext must not contain them either).
 */
class CredentialSecretCanaryIT {

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void secretsNeverLeak(CredentialBackendKind backend) {
    String msn = "777001";
    String secret = "canary-secret-" + UUID.randomUUID();
    String subscription = "canary-sub-" + UUID.randomUUID();
    String rejected = "canary-rejected-" + UUID.randomUUID();
    String malformed = "canary-malformed-" + UUID.randomUUID();
    String otherSecret = "canary-other-secret-" + UUID.randomUUID();
    String otherSubscription = "canary-other-sub-" + UUID.randomUUID();
    SandboxStore first =
        new SandboxStore(
            msn, "c1-" + UUID.randomUUID(), Secret.of(secret), Secret.of(subscription));
    SandboxStore other =
        new SandboxStore(
            msn, "c5-" + UUID.randomUUID(), Secret.of(otherSecret), Secret.of(otherSubscription));
    List<String> canaries = new ArrayList<>();
    canaries.addAll(
        List.of(secret, subscription, rejected, malformed, otherSecret, otherSubscription));
    List<HttpResult> responses = new ArrayList<>();

    VaultDouble vault = backend == CredentialBackendKind.VAULT ? VaultDouble.start() : null;
    try (TestSandbox sandbox = TestSandbox.start();
        LogCapture logs = LogCapture.atTrace();
        TestBroker broker =
            backend
                .configure(TestBroker.builder(), vault)
                .env("VIPPS_BASE_URL", sandbox.baseUrl())
                .env("VIPPS_TRACE_HTTP", "true")
                .env("BROKER_LOG_LEVEL", "trace")
                .env("CREDENTIALS_CACHE_TTL", "0s")
                .start()) {
      broker.createStore("canary-1", "acme", msn);
      String path = "/v1/admin/stores/canary-1/credentials";
      String admin = broker.adminToken();
      sandbox.sandbox().registerStore(first);
      responses.add(
          broker.send(HttpMethod.PUT, path, admin, keys(first.clientId(), secret, subscription)));
      responses.add(
          broker.send(
              HttpMethod.PUT,
              path,
              admin,
              keys("c2-" + UUID.randomUUID(), rejected, subscription)));
      responses.add(
          broker.send(
              HttpMethod.PUT, path, admin, keys("c3", secret, subscription).put("x", malformed)));
      responses.add(
          broker.send(HttpMethod.PUT, path, admin, keys("c4", malformed + " space", "k")));
      sandbox.sandbox().registerStore(other);
      responses.add(
          broker.send(
              HttpMethod.PUT, path, admin, keys(other.clientId(), otherSecret, otherSubscription)));
      // Vipps takes the first keys again, so the rollback to them can be proved.
      sandbox.sandbox().registerStore(first);
      responses.add(broker.post(path + "/rollback", admin, new JsonObject().put("version", 1)));
      responses.add(broker.get(path, admin));
      responses.add(broker.get("/health/ready", null));
      responses.add(broker.get("/metrics", null));
      assertThat(Await.result(broker.app().credentials().current(msn)).clientSecret().reveal())
          .isEqualTo(secret);
      assertThat(responses.get(0).status()).isEqualTo(200);
      assertThat(responses.get(1).status()).isEqualTo(422);
      assertThat(responses.get(4).status()).isEqualTo(200);
      assertThat(responses.get(5).status()).as(responses.get(5).toString()).isEqualTo(200);

      Await.result(sandbox.sandbox().whenIdle());
      List<String> sentSecrets =
          sandbox.requestsTo("/accesstoken/get").stream()
              .map(r -> r.header(VippsHeaders.CLIENT_SECRET).orElse(""))
              .toList();
      assertThat(sentSecrets)
          .as("the keys really went to Vipps (so the searches below look for used values)")
          .contains(secret, rejected, otherSecret);
      List<String> tokens = sandbox.sandbox().issuedTokens();
      assertThat(tokens).as("Vipps issued tokens for the proofs").hasSize(3);
      canaries.addAll(tokens);
      canaries.add(admin);

      assertThat(logs.events()).as("TRACE logging was active").isPositive();
      assertThat(logs.text()).as("the Vipps HTTP trace was on").contains("vipps http > POST");
      for (String canary : canaries) {
        assertThat(logs.text()).as("logs").doesNotContain(canary);
        for (HttpResult response : responses) {
          assertThat(response.text()).as("response").doesNotContain(canary);
        }
        assertThat(broker.registry().scrape()).as("metrics").doesNotContain(canary);
      }
      assertNoColumnHolds(broker, canaries);
      sandbox.assertNoViolations();
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  /** Every column of every table in public, text-like or bytea, searched for every canary. */
  static void assertNoColumnHolds(TestBroker broker, List<String> canaries) {
    List<Map<String, Object>> columns =
        broker
            .database()
            .query(
                "SELECT table_name, column_name, data_type FROM information_schema.columns"
                    + " WHERE table_schema = 'public' AND data_type IN ('text', 'character"
                    + " varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')");
    assertThat(columns).extracting(c -> c.get("table_name")).contains("credential_versions");
    int searched = 0;
    for (Map<String, Object> column : columns) {
      String table = (String) column.get("table_name");
      String name = (String) column.get("column_name");
      boolean binary = "bytea".equals(column.get("data_type"));
      for (String canary : canaries) {
        String sql =
            binary
                ? "SELECT count(*) FROM \""
                    + table
                    + "\" WHERE position(convert_to(?, 'UTF8') in \""
                    + name
                    + "\") > 0"
                : "SELECT count(*) FROM \"" + table + "\" WHERE \"" + name + "\"::text LIKE ?";
        long hits = broker.database().queryLong(sql, binary ? canary : "%" + canary + "%");
        assertThat(hits).as(table + "." + name + " holds a secret").isZero();
        searched++;
      }
    }
    assertThat(searched).isGreaterThan(40);
  }

  private static JsonObject keys(String clientId, String secret, String subscription) {
    return new JsonObject()
        .put("clientId", clientId)
        .put("clientSecret", secret)
        .put("subscriptionKey", subscription);
  }
}
