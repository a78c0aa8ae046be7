package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A first start while Vault is down: the audit MAC key (kept in Vault) cannot be read, so nothing
 * can be recorded. The broker still comes up, says so in readiness, refuses changes closed, and —
 * once Vault answers — loads the key, creates the first admin client and works, without a restart.
 */
class VaultDownAtStartIT {
  private VaultDouble vault;
  private TestBroker broker;

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
    if (vault != null) {
      assertThat(vault.specViolations()).isEmpty();
      vault.close();
    }
  }

  @Test
  void theBrokerStartsUnreadyAndRecoversWhenVaultComesBack() {
    vault = VaultDouble.start();
    vault.unreachable(true);
    broker = CredentialBackendKind.VAULT.configure(TestBroker.builder(), vault).start();

    HttpResult ready = broker.get("/health/ready", null);
    assertThat(ready.status()).isEqualTo(503);
    assertThat(check(ready, "audit").getString("status")).isEqualTo("DOWN");
    HttpResult refused =
        broker.post(
            "/v1/admin/stores",
            broker.adminToken(),
            new JsonObject()
                .put("storeId", "down-1")
                .put("name", "Down")
                .put("msn", "771001")
                .put("chainId", "acme"));
    assertThat(refused.status())
        .as("no admin can exist before anything can be recorded: %s", refused)
        .isEqualTo(401);
    assertThat(broker.database().queryLong("SELECT count(*) FROM stores")).isZero();
    assertThat(broker.database().queryLong("SELECT count(*) FROM audit_entries")).isZero();

    vault.unreachable(false);
    Poll.until(
        "readiness after Vault came back",
        Duration.ofSeconds(30),
        () -> broker.get("/health/ready", null).status() == 200);
    Poll.until(
        "the first admin client, created once the audit key could be read",
        Duration.ofSeconds(30),
        () -> broker.get("/v1/admin/stores", broker.adminToken()).status() == 200);
    JsonObject store = broker.createStore("up-1", "acme", "771002");
    assertThat(store.getString("storeId")).isEqualTo("up-1");
  }

  private static JsonObject check(HttpResult ready, String id) {
    for (Object check : ready.json().getJsonArray("checks")) {
      JsonObject c = (JsonObject) check;
      if (c.getString("id").equals(id)) {
        return c;
      }
    }
    throw new AssertionError("no " + id + " check in " + ready);
  }
}
