package io.refundbroker.auth;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.ContractOperations;
import io.refundbroker.testing.ContractOperations.Op;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthorizationIT {
  private TestBroker broker;
  private String storeToken;
  private String auditorToken;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("bergen-1", "acme", "223344");
    storeToken = broker.issueToken("STORE", "bergen-1");
    auditorToken = broker.issueToken("AUDITOR", null);
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  List<Op> adminOperations() {
    List<Op> ops = ContractOperations.onlyFor("ADMIN");
    assertThat(ops).extracting(Op::operationId).contains("createStore", "revokeClient");
    return ops;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adminOperations")
  void adminOperationsRefuseMissingBadStoreAndAuditorTokens(Op op) {
    JsonObject body = new JsonObject();
    assertProblem(broker.send(op.method(), op.path(), null, body), 401, "UNAUTHORIZED");
    assertProblem(
        broker.send(op.method(), op.path(), "rb_" + "x".repeat(43), body), 401, "UNAUTHORIZED");
    assertProblem(broker.send(op.method(), op.path(), storeToken, body), 403, "FORBIDDEN");
    assertProblem(broker.send(op.method(), op.path(), auditorToken, body), 403, "FORBIDDEN");
  }

  List<Op> auditorOperations() {
    List<Op> ops = ContractOperations.onlyFor("AUDITOR");
    assertThat(ops)
        .extracting(Op::operationId)
        .contains(
            "listAuditRefunds",
            "listAuditEvents",
            "listAuditCheckpoints",
            "getAuditPublicKey",
            "listAuditPublicKeys",
            "verifyAuditTrail",
            "getClearingStatement");
    return ops;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("auditorOperations")
  void auditorOperationsRefuseMissingBadStoreAndAdminTokensAndAuditNothing(Op op) {
    long events = broker.database().queryLong("SELECT count(*) FROM audit_events");
    assertProblem(broker.send(op.method(), op.path(), null, null), 401, "UNAUTHORIZED");
    assertProblem(
        broker.send(op.method(), op.path(), "rb_" + "x".repeat(43), null), 401, "UNAUTHORIZED");
    assertProblem(broker.send(op.method(), op.path(), storeToken, null), 403, "FORBIDDEN");
    assertProblem(broker.send(op.method(), op.path(), broker.adminToken(), null), 403, "FORBIDDEN");
    assertThat(broker.database().queryLong("SELECT count(*) FROM audit_events")).isEqualTo(events);
  }

  @Test
  void forbiddenSaysWhichRoleIsNeeded() {
    HttpResult result = broker.get("/v1/admin/stores", storeToken);
    assertThat(result.json().getString("detail")).contains("ADMIN").contains("role STORE");
  }

  @Test
  void wrongSchemeIsUnauthorized() {
    HttpResult result =
        broker.send(
            io.vertx.core.http.HttpMethod.GET,
            "/v1/admin/stores",
            null,
            null,
            java.util.Map.of("Authorization", "Basic YWRtaW46YWRtaW4="));
    assertProblem(result, 401, "UNAUTHORIZED");
    assertThat(result.header("WWW-Authenticate")).startsWith("Bearer");
  }

  @Test
  void revokedClientIsRefusedAtOnce() {
    HttpResult issued =
        broker.post(
            "/v1/admin/clients",
            broker.adminToken(),
            new JsonObject().put("name", "temp-admin").put("role", "ADMIN"));
    String token = issued.json().getString("token");
    String clientId = issued.json().getString("clientId");
    assertThat(broker.get("/v1/admin/stores", token).status()).isEqualTo(200);

    HttpResult revoked =
        broker.send(
            io.vertx.core.http.HttpMethod.DELETE,
            "/v1/admin/clients/" + clientId,
            broker.adminToken(),
            null);
    assertThat(revoked.status()).isEqualTo(204);
    assertProblem(broker.get("/v1/admin/stores", token), 401, "UNAUTHORIZED");
  }

  @Test
  void publicOperationsNeedNoToken() {
    for (String path : List.of("/health/live", "/health/ready", "/metrics", "/openapi.yaml")) {
      assertThat(broker.get(path, null).status()).as(path).isEqualTo(200);
    }
  }
}
