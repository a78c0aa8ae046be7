package io.refundbroker.http;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Bad input gets a 4xx problem a POS developer can act on, and writes nothing. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputIT {
  private TestBroker broker;
  private long storesBefore;
  private long eventsBefore;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("oslo-1", "acme", "123456");
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @BeforeEach
  void countRows() {
    storesBefore = broker.database().queryLong("SELECT count(*) FROM stores");
    eventsBefore = broker.database().queryLong("SELECT count(*) FROM audit_events");
  }

  @AfterEach
  void nothingWasWritten() {
    assertThat(broker.database().queryLong("SELECT count(*) FROM stores")).isEqualTo(storesBefore);
    assertThat(broker.database().queryLong("SELECT count(*) FROM audit_events"))
        .isEqualTo(eventsBefore);
  }

  private HttpResult createStore(Object body) {
    return broker.post("/v1/admin/stores", broker.adminToken(), body);
  }

  private static JsonObject validStore() {
    return new JsonObject()
        .put("storeId", "trondheim-1")
        .put("name", "Trondheim")
        .put("msn", "765432")
        .put("chainId", "acme");
  }

  @Test
  void malformedJson() {
    HttpResult result = createStore("{\"storeId\": \"x\",");
    assertProblem(result, 400, "MALFORMED_JSON");
  }

  @Test
  void missingFieldIsNamed() {
    JsonObject body = validStore();
    body.remove("name");
    HttpResult result = createStore(body);
    assertProblem(result, 400, "VALIDATION_FAILED");
    assertThat(result.json().getString("detail")).contains("'name' is missing");
  }

  @Test
  void badMsnIsNamedWithoutClaimingItIsUnknown() {
    HttpResult result = createStore(validStore().put("msn", "12"));
    assertProblem(result, 400, "VALIDATION_FAILED");
    assertThat(result.json().getString("detail"))
        .contains("/msn has the wrong format")
        .doesNotContain("not allowed");
  }

  @Test
  void msnMustBeAString() {
    HttpResult result = createStore(validStore().put("msn", 765432));
    assertProblem(result, 400, "VALIDATION_FAILED");
    assertThat(result.json().getString("detail")).contains("/msn has the wrong type");
  }

  @Test
  void unknownFieldIsRefused() {
    HttpResult result = createStore(validStore().put("clientSecret", "should-not-be-here"));
    assertProblem(result, 400, "VALIDATION_FAILED");
    assertThat(result.json().getString("detail")).contains("'clientSecret' is not allowed");
    assertThat(result.text()).doesNotContain("should-not-be-here");
  }

  @Test
  void unknownStore() {
    assertProblem(broker.get("/v1/admin/stores/nope", broker.adminToken()), 404, "STORE_NOT_FOUND");
    HttpResult patch =
        broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/nope",
            broker.adminToken(),
            new JsonObject().put("frozen", true));
    assertProblem(patch, 404, "STORE_NOT_FOUND");
  }

  @Test
  void clientForUnknownStore() {
    long clients = broker.database().queryLong("SELECT count(*) FROM api_clients");
    HttpResult result =
        broker.post(
            "/v1/admin/clients",
            broker.adminToken(),
            new JsonObject().put("name", "pos").put("role", "STORE").put("storeId", "nope"));
    assertProblem(result, 422, "STORE_NOT_FOUND");
    assertThat(broker.database().queryLong("SELECT count(*) FROM api_clients")).isEqualTo(clients);
  }

  @Test
  void storeClientNeedsAStore() {
    HttpResult result =
        broker.post(
            "/v1/admin/clients",
            broker.adminToken(),
            new JsonObject().put("name", "pos").put("role", "STORE"));
    assertProblem(result, 400, "STORE_ID_REQUIRED");
  }

  @Test
  void duplicateStoreAndMsnAreConflicts() {
    assertProblem(
        createStore(validStore().put("storeId", "oslo-1").put("msn", "111111")),
        409,
        "STORE_EXISTS");
    assertProblem(createStore(validStore().put("msn", "123456")), 409, "MSN_IN_USE");
  }

  @Test
  void oversizeBodyIsRefused() {
    String padding = "x".repeat(70 * 1024);
    HttpResult result = createStore(validStore().put("name", padding));
    assertProblem(result, 413, "PAYLOAD_TOO_LARGE");
  }

  @Test
  void wrongContentType() {
    HttpResult result =
        broker.send(
            HttpMethod.POST,
            "/v1/admin/stores",
            broker.adminToken(),
            Buffer.buffer("storeId=x"),
            Map.of("Content-Type", "application/x-www-form-urlencoded"));
    assertThat(result.status()).isIn(400, 415);
    assertThat(result.header("Content-Type")).isEqualTo("application/problem+json");
  }

  @Test
  void emptyPatchIsRefused() {
    HttpResult result =
        broker.send(
            HttpMethod.PATCH, "/v1/admin/stores/oslo-1", broker.adminToken(), new JsonObject());
    assertProblem(result, 400, "VALIDATION_FAILED");
  }

  @Test
  void immutableFieldsCannotBePatched() {
    HttpResult result =
        broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/oslo-1",
            broker.adminToken(),
            new JsonObject().put("msn", "999999"));
    assertProblem(result, 400, "VALIDATION_FAILED");
    assertThat(result.json().getString("detail")).contains("'msn' is not allowed");
  }

  @Test
  void unknownEndpointAndMethod() {
    assertProblem(broker.get("/v1/nothing", broker.adminToken()), 404, "NO_SUCH_ENDPOINT");
    assertProblem(
        broker.send(HttpMethod.PUT, "/health/live", null, null), 405, "METHOD_NOT_ALLOWED");
  }

  @Test
  void callerRequestIdIsEchoed() {
    HttpResult result =
        broker.send(
            HttpMethod.GET,
            "/v1/admin/stores/nope",
            broker.adminToken(),
            null,
            Map.of("X-Request-Id", "pos-42.trace"));
    assertThat(result.header("X-Request-Id")).isEqualTo("pos-42.trace");
    assertThat(result.json().getString("requestId")).isEqualTo("pos-42.trace");
  }
}
