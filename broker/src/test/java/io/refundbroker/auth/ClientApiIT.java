package io.refundbroker.auth;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientApiIT {
  private TestBroker broker;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("tromso-1", "acme", "998877");
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @Test
  void tokenIsShownOnceAndStoredOnlyAsItsHash() {
    HttpResult issued =
        broker.post(
            "/v1/admin/clients",
            broker.adminToken(),
            new JsonObject().put("name", "till 3").put("role", "STORE").put("storeId", "tromso-1"));
    assertThat(issued.status()).isEqualTo(201);
    assertThat(issued.header("Cache-Control")).isEqualTo("no-store");
    String token = issued.json().getString("token");
    String clientId = issued.json().getString("clientId");
    assertThat(token).startsWith("rb_").hasSize(46);

    HttpResult list = broker.get("/v1/admin/clients", broker.adminToken());
    assertThat(list.text()).doesNotContain(token).contains(clientId);
    JsonArray clients = list.json().getJsonArray("clients");
    JsonObject listed =
        clients.stream()
            .map(JsonObject.class::cast)
            .filter(c -> c.getString("clientId").equals(clientId))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getString("storeId")).isEqualTo("tromso-1");
    assertThat(listed.containsKey("token")).isFalse();

    String stored =
        HexFormat.of()
            .formatHex(
                (byte[])
                    broker
                        .database()
                        .query("SELECT token_hash FROM api_clients WHERE client_id = ?", clientId)
                        .get(0)
                        .get("token_hash"));
    assertThat(stored).isEqualTo(HexFormat.of().formatHex(Tokens.hash(token)));
    assertThat(
            broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM audit_events WHERE details::text LIKE ?",
                    "%" + token + "%"))
        .isZero();
  }

  @Test
  void generatedTokensAreDistinctAndCarry256Bits() {
    String a = Tokens.newToken();
    String b = Tokens.newToken();
    assertThat(a).isNotEqualTo(b);
    assertThat(java.util.Base64.getUrlDecoder().decode(a.substring(3))).hasSize(32);
  }

  @Test
  void theLastAdminCannotBeRevoked() {
    JsonArray clients =
        broker.get("/v1/admin/clients", broker.adminToken()).json().getJsonArray("clients");
    String bootstrapId =
        clients.stream()
            .map(JsonObject.class::cast)
            .filter(c -> c.getString("name").equals("bootstrap-admin"))
            .findFirst()
            .orElseThrow()
            .getString("clientId");
    HttpResult result =
        broker.send(
            HttpMethod.DELETE, "/v1/admin/clients/" + bootstrapId, broker.adminToken(), null);
    assertProblem(result, 409, "LAST_ADMIN");
    assertThat(broker.get("/v1/admin/stores", broker.adminToken()).status()).isEqualTo(200);
  }

  @Test
  void revokingTwiceIsHarmlessAndUnknownClientIs404() {
    String token = broker.issueToken("AUDITOR", null);
    String clientId =
        broker.get("/v1/admin/clients", broker.adminToken()).json().getJsonArray("clients").stream()
            .map(JsonObject.class::cast)
            .filter(c -> c.getString("role").equals("AUDITOR") && !c.containsKey("revokedAt"))
            .reduce((first, second) -> second)
            .orElseThrow()
            .getString("clientId");
    assertThat(token).isNotBlank();
    assertThat(
            broker
                .send(HttpMethod.DELETE, "/v1/admin/clients/" + clientId, broker.adminToken(), null)
                .status())
        .isEqualTo(204);
    assertThat(
            broker
                .send(HttpMethod.DELETE, "/v1/admin/clients/" + clientId, broker.adminToken(), null)
                .status())
        .isEqualTo(204);
    assertThat(
            broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM audit_events WHERE action = 'client.revoked' AND subject_id = ?",
                    clientId))
        .isEqualTo(1);
    assertProblem(
        broker.send(
            HttpMethod.DELETE, "/v1/admin/clients/cl_doesnotexist", broker.adminToken(), null),
        404,
        "CLIENT_NOT_FOUND");
  }
}
