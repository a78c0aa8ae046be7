package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.FakeKeyProof;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.vault.VaultDouble;
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
 * refund side) never appear in any log line at TRACE, any HTTP response, any audit row, or any
 * column of the database, text or binary (the local backend's ciphertext must not contain them
 * either).
 */
class CredentialSecretCanaryIT {

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void secretsNeverLeak(CredentialBackendKind backend) {
    String secret = "canary-secret-" + UUID.randomUUID();
    String subscription = "canary-sub-" + UUID.randomUUID();
    String rejected = "canary-rejected-" + UUID.randomUUID();
    String malformed = "canary-malformed-" + UUID.randomUUID();
    List<String> canaries = List.of(secret, subscription, rejected, malformed);
    List<HttpResult> responses = new ArrayList<>();

    VaultDouble vault = backend == CredentialBackendKind.VAULT ? VaultDouble.start() : null;
    FakeKeyProof vipps =
        new FakeKeyProof().accept(c -> !c.clientSecret().reveal().equals(rejected));
    try (LogCapture logs = LogCapture.atTrace();
        TestBroker broker =
            backend
                .configure(TestBroker.builder().vipps(vipps), vault)
                .env("BROKER_LOG_LEVEL", "trace")
                .env("CREDENTIALS_CACHE_TTL", "0s")
                .start()) {
      broker.createStore("canary-1", "acme", "777001");
      String path = "/v1/admin/stores/canary-1/credentials";
      String admin = broker.adminToken();
      responses.add(broker.send(HttpMethod.PUT, path, admin, keys("c1", secret, subscription)));
      responses.add(broker.send(HttpMethod.PUT, path, admin, keys("c2", rejected, subscription)));
      responses.add(
          broker.send(
              HttpMethod.PUT, path, admin, keys("c3", secret, subscription).put("x", malformed)));
      responses.add(
          broker.send(HttpMethod.PUT, path, admin, keys("c4", malformed + " space", "k")));
      responses.add(broker.send(HttpMethod.PUT, path, admin, keys("c5", "other", "other")));
      responses.add(broker.post(path + "/rollback", admin, new JsonObject().put("version", 1)));
      responses.add(broker.get(path, admin));
      responses.add(broker.get("/health/ready", null));
      responses.add(broker.get("/metrics", null));
      assertThat(Await.result(broker.app().credentials().current("777001")).clientSecret().reveal())
          .isEqualTo(secret);
      assertThat(responses.get(0).status()).isEqualTo(200);
      assertThat(responses.get(1).status()).isEqualTo(422);
      assertThat(responses.get(5).status()).isEqualTo(200);

      assertThat(logs.events()).as("TRACE logging was active").isPositive();
      for (String canary : canaries) {
        assertThat(logs.text()).as("logs").doesNotContain(canary);
        for (HttpResult response : responses) {
          assertThat(response.text()).as("response").doesNotContain(canary);
        }
        assertThat(broker.registry().scrape()).as("metrics").doesNotContain(canary);
      }
      assertNoColumnHolds(broker, canaries);
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  /** Every column of every table in public, text-like or bytea, searched for every canary. */
  private static void assertNoColumnHolds(TestBroker broker, List<String> canaries) {
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
