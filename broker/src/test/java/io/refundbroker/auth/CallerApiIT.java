package io.refundbroker.auth;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code GET /v1/me}: who a token belongs to, for every role; never the token itself. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallerApiIT {
  private TestBroker broker;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("me-oslo", "me-chain", "560001");
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @Test
  void aStoreTokenNamesItsClientStoreAndChain() {
    String token = broker.issueToken("STORE", "me-oslo");
    HttpResult me = broker.get("/v1/me", token);
    assertThat(me.status()).as(me.toString()).isEqualTo(200);
    JsonObject json = me.json();
    assertThat(json.getString("role")).isEqualTo("STORE");
    assertThat(json.getString("storeId")).isEqualTo("me-oslo");
    assertThat(json.getString("chainId")).isEqualTo("me-chain");
    assertThat(json.getString("clientId")).startsWith("cl_");
    assertThat(json.getString("name")).isEqualTo("store-client");
    assertThat(me.text()).doesNotContain(token);
  }

  @Test
  void adminAndAuditorTokensHaveNoStore() {
    for (String role : new String[] {"ADMIN", "AUDITOR"}) {
      String token = broker.issueToken(role, null);
      JsonObject json = broker.get("/v1/me", token).json();
      assertThat(json.getString("role")).isEqualTo(role);
      assertThat(json.containsKey("storeId")).isFalse();
      assertThat(json.fieldNames()).containsExactlyInAnyOrder("clientId", "name", "role");
    }
  }

  @Test
  void anUnknownOrMissingTokenIs401() {
    assertProblem(broker.get("/v1/me", "rb_" + "x".repeat(43)), 401, "UNAUTHORIZED");
    assertProblem(broker.get("/v1/me", null), 401, "UNAUTHORIZED");
  }
}
