package io.refundbroker.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ResponseContract} finds what is wrong with a response, and passes what is right. */
class ResponseContractTest {
  private static final ResponseContract CONTRACT = ResponseContract.broker();
  private static final String HASH = "0".repeat(64);

  @Test
  void aConformingSuccessAndAConformingProblemPass() {
    assertThat(CONTRACT.violations(json("GET", "/health/live", 200, health("UP")))).isEmpty();
    assertThat(CONTRACT.violations(problem("GET", "/v1/me", 401, "UNAUTHORIZED"))).isEmpty();
    assertThat(CONTRACT.violations(json("GET", "/v1/orders/A-1", 200, order(1)))).isEmpty();
  }

  @Test
  void aBodyThatBreaksTheSchemaIsAViolationNamingTheMember() {
    JsonObject wrong = order(1);
    wrong.getJsonObject("captured").put("value", "ten");
    wrong.remove("registered");

    assertThat(CONTRACT.violations(json("GET", "/v1/orders/A-1", 200, wrong)))
        .anySatisfy(v -> assertThat(v).contains("#/captured/value"))
        .anySatisfy(v -> assertThat(v).contains("registered"));
  }

  @Test
  void aPatternEndingInDollarDoesNotLetAFinalLineBreakThrough() {
    JsonObject store =
        new JsonObject()
            .put("storeId", "oslo-1\n")
            .put("name", "Oslo")
            .put("msn", "123456")
            .put("chainId", "acme")
            .put("api", "epayment")
            .put("frozen", false)
            .put("createdAt", "2025-01-31T23:59:59Z")
            .put("updatedAt", "2025-01-31T23:59:59Z");

    assertThat(CONTRACT.violations(json("GET", "/v1/admin/stores/oslo-1", 200, store)))
        .singleElement()
        .satisfies(v -> assertThat(v).contains("#/storeId"));
  }

  @Test
  void anUndeclaredStatusOrContentTypeIsAViolation() {
    ResponseContract withoutDefault =
        ResponseContract.of(
            """
            openapi: 3.1.0
            info: {title: t, version: '1'}
            paths:
              /health/live:
                get:
                  operationId: healthLive
                  responses:
                    '200':
                      description: up
                      content:
                        application/json:
                          schema: {type: object}
            """);
    assertThat(withoutDefault.violations(json("GET", "/health/live", 500, health("DOWN"))))
        .anySatisfy(v -> assertThat(v).contains("status 500 is not declared by healthLive"));

    Exchange html = exchange("GET", "/health/live", 200, "text/html", "<p>UP</p>");
    assertThat(CONTRACT.violations(html))
        .anySatisfy(v -> assertThat(v).contains("Content-Type text/html is not one of"));
    assertThat(CONTRACT.violations(json("GET", "/health/live", 500, health("DOWN"))))
        .anySatisfy(v -> assertThat(v).contains("is not one of [application/problem+json]"));
  }

  @Test
  void everyClientErrorMustBeAProblemWhoseStatusAndRequestIdMatchTheResponse() {
    JsonObject body = problemBody(404, "ORDER_NOT_FOUND");
    assertThat(CONTRACT.violations(json("GET", "/v1/orders/A-1", 404, body)))
        .anySatisfy(v -> assertThat(v).contains("must be application/problem+json"));

    Exchange mismatch =
        withHeader(
            exchange("GET", "/v1/orders/A-1", 409, "application/problem+json", body.encode()),
            "X-Request-Id",
            "another-id");
    assertThat(CONTRACT.violations(mismatch))
        .anySatisfy(v -> assertThat(v).contains("status 404 is not the HTTP status 409"))
        .anySatisfy(v -> assertThat(v).contains("is not X-Request-Id another-id"));

    JsonObject incomplete = problemBody(404, "X");
    incomplete.remove("code");
    Exchange unknownPath =
        exchange("GET", "/v2/nothing", 404, "application/problem+json", incomplete.encode());
    assertThat(CONTRACT.violations(unknownPath)).anySatisfy(v -> assertThat(v).contains("code"));
  }

  @Test
  void aSuccessOnAPathOrMethodTheContractLacksIsAViolationExceptTheStaticPages() {
    assertThat(CONTRACT.violations(json("GET", "/v1/secret", 200, new JsonObject())))
        .anySatisfy(v -> assertThat(v).contains("has no operation GET /v1/secret"));
    assertThat(CONTRACT.violations(json("POST", "/health/live", 200, health("UP"))))
        .anySatisfy(v -> assertThat(v).contains("has no operation POST /health/live"));
    assertThat(CONTRACT.violations(exchange("GET", "/console/app.js", 200, "text/javascript", "x")))
        .isEmpty();
  }

  @Test
  void declaredHeadersAreCheckedAgainstTheirSchemas() {
    JsonObject body = problemBody(429, "TOO_MANY_LOOKUPS").put("retryAfterSeconds", 5);
    Exchange ok =
        withHeader(
            exchange("GET", "/v1/orders/A-1", 429, "application/problem+json", body.encode()),
            "Retry-After",
            "5");
    assertThat(CONTRACT.violations(ok)).isEmpty();
    assertThat(CONTRACT.violations(withHeader(ok, "Retry-After", "soon")))
        .anySatisfy(v -> assertThat(v).contains("header Retry-After"));
    Exchange zero =
        withHeader(
            exchange("GET", "/v1/orders/A-1", 429, "application/problem+json", body.encode()),
            "Retry-After",
            "0");
    assertThat(CONTRACT.violations(zero)).anySatisfy(v -> assertThat(v).contains("Retry-After"));
  }

  @Test
  void jsonLinesAreCheckedLineByLineAgainstTheItemSchema() {
    String good = event(1).encode() + "\n" + event(2).encode() + "\n";
    assertThat(
            CONTRACT.violations(
                exchange("GET", "/v1/audit/events", 200, "application/x-ndjson", good)))
        .isEmpty();

    String bad = event(1).encode() + "\n" + event(2).put("hash", "nope").encode() + "\n{";
    assertThat(
            CONTRACT.violations(
                exchange("GET", "/v1/audit/events", 200, "application/x-ndjson", bad)))
        .anySatisfy(v -> assertThat(v).contains("line 2").contains("#/hash"))
        .anySatisfy(v -> assertThat(v).contains("line 3 is not JSON"))
        .anySatisfy(v -> assertThat(v).contains("does not end with a line break"));
  }

  @Test
  void csvMustBeRectangularCrlfRecords() {
    assertThat(ResponseContract.csv("a,b\r\n1,\"x,\"\"y\"\"\r\nz\"\r\n")).isEmpty();
    assertThat(ResponseContract.csv("a,b\r\n1,2,3\r\n"))
        .anySatisfy(v -> assertThat(v).contains("3 cells"));
    assertThat(ResponseContract.csv("a,b\n1,2\n")).anySatisfy(v -> assertThat(v).contains("CRLF"));
  }

  @Test
  void aResponseThatDeclaresNoContentMustHaveNoBody() {
    assertThat(CONTRACT.violations(exchange("DELETE", "/v1/admin/clients/cl_a1", 204, null, "")))
        .isEmpty();
    assertThat(
            CONTRACT.violations(
                exchange("DELETE", "/v1/admin/clients/cl_a1", 204, "text/plain", "gone")))
        .anySatisfy(v -> assertThat(v).contains("declares no content, yet has a body"));
  }

  @Test
  void theCheckFailsTheTestDuringWhichABadResponseWasRecorded() {
    ContractWitness witness = new ContractWitness();
    witness.record(json("GET", "/v1/orders/A-1", 200, new JsonObject()));

    assertThatThrownBy(() -> new ContractCheck(witness).afterEach(null))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("GET /v1/orders/A-1 → 200")
        .hasMessageContaining("[getOrder]")
        .hasMessageContaining("required");
    assertThat(witness.check()).as("reported once").isEmpty();
    assertThat(witness.summary()).contains("1 responses checked").contains("violations");
  }

  // ---- builders

  static Exchange exchange(
      String method, String path, int status, String contentType, String body) {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    if (contentType != null) {
      headers.add(Map.entry("Content-Type", contentType));
    }
    return new Exchange(
        method, path, null, status, headers, body.getBytes(StandardCharsets.UTF_8), "test");
  }

  private static Exchange withHeader(Exchange exchange, String name, String value) {
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    exchange.headers().stream().filter(h -> !h.getKey().equals(name)).forEach(headers::add);
    headers.add(Map.entry(name, value));
    return new Exchange(
        exchange.method(),
        exchange.path(),
        exchange.query(),
        exchange.status(),
        headers,
        exchange.body(),
        exchange.origin());
  }

  private static Exchange json(String method, String path, int status, JsonObject body) {
    return exchange(method, path, status, "application/json", body.encode());
  }

  private static Exchange problem(String method, String path, int status, String code) {
    return withHeader(
        exchange(
            method, path, status, "application/problem+json", problemBody(status, code).encode()),
        "X-Request-Id",
        "req-1");
  }

  private static JsonObject problemBody(int status, String code) {
    return new JsonObject()
        .put("type", "https://refund-broker.dev/problems/x")
        .put("title", "Title")
        .put("status", status)
        .put("detail", "Detail")
        .put("code", code)
        .put("requestId", "req-1");
  }

  private static JsonObject health(String status) {
    return new JsonObject().put("status", status).put("checks", new JsonArray());
  }

  private static JsonObject money(long value) {
    return new JsonObject().put("value", value).put("currency", "NOK");
  }

  private static JsonObject order(long refundable) {
    return new JsonObject()
        .put("orderId", "A-1")
        .put("originStoreId", "oslo-1")
        .put("originStoreName", "Oslo")
        .put("currency", "NOK")
        .put("captured", money(1000))
        .put("refunded", money(1000 - refundable))
        .put("inFlight", money(0))
        .put("refundable", money(refundable))
        .put("registered", true);
  }

  private static JsonObject event(long seq) {
    return new JsonObject()
        .put("seq", seq)
        .put("occurredAt", "2025-01-31T23:59:59.123456Z")
        .put("actor", new JsonObject().put("clientId", null).put("role", "ADMIN"))
        .put("action", "store.created")
        .put("subject", new JsonObject().put("type", "store").put("id", "oslo-1"))
        .put("outcome", "SUCCESS")
        .put("details", new JsonObject())
        .put("prevHash", HASH)
        .put("hash", HASH);
  }
}
