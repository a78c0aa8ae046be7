package io.refundbroker.http;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.ContractOperations;
import io.refundbroker.testing.ContractOperations.Op;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RawHttp;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Input the broker cannot store or act on faithfully is a 400 problem naming where it is, from one
 * mechanism per part of the request (header values, path, query, JSON body) rather than from a
 * database constraint (a 500) or a silent substitution — and it writes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InputRulesIT {
  private TestBroker broker;
  private String storeToken;
  private String auditorToken;
  private long storesBefore;
  private long ordersBefore;
  private long clientsBefore;
  private long eventsBefore;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("oslo-1", "acme", "123456");
    storeToken = broker.issueToken("STORE", "oslo-1");
    auditorToken = broker.issueToken("AUDITOR", null);
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @BeforeEach
  void countRows() {
    storesBefore = count("stores");
    ordersBefore = count("orders");
    clientsBefore = count("api_clients");
    eventsBefore = count("audit_events");
  }

  @AfterEach
  void nothingWasWritten() {
    assertThat(count("stores")).isEqualTo(storesBefore);
    assertThat(count("orders")).isEqualTo(ordersBefore);
    assertThat(count("api_clients")).isEqualTo(clientsBefore);
    assertThat(count("audit_events")).isEqualTo(eventsBefore);
  }

  private long count(String table) {
    return broker.database().queryLong("SELECT count(*) FROM " + table);
  }

  private static JsonObject store(String storeId, String name) {
    return new JsonObject()
        .put("storeId", storeId)
        .put("name", name)
        .put("msn", "765432")
        .put("chainId", "acme");
  }

  private HttpResult createStore(Object body) {
    return broker.post("/v1/admin/stores", broker.adminToken(), body);
  }

  // ---------------------------------------------------------------------- JSON bodies

  @ParameterizedTest(name = "U+{0}")
  @ValueSource(ints = {0x00, 0x09, 0x0A, 0x0D, 0x1B, 0x7F, 0x9B})
  void aControlCharacterInFreeTextIsRefusedAndNamed(int control) {
    HttpResult result = createStore(store("trondheim-1", "Trond" + (char) control + "heim"));
    JsonObject problem = assertProblem(result, 400, "INVALID_CHARACTER");
    assertThat(problem.getString("detail"))
        .contains("/name")
        .contains(String.format("U+%04X", control));
  }

  @Test
  void aNulInARefundReasonIsRefusedBeforeAnythingHappens() {
    HttpResult result =
        broker.send(
            HttpMethod.POST,
            "/v1/refunds",
            storeToken,
            new JsonObject()
                .put("orderId", "order-1")
                .put("amount", new JsonObject().put("value", 100).put("currency", "NOK"))
                .put("reason", "Returned\u0000goods"),
            Map.of("Idempotency-Key", "nul-reason-1"));
    JsonObject problem = assertProblem(result, 400, "INVALID_CHARACTER");
    assertThat(problem.getString("detail")).contains("/reason").contains("U+0000");
  }

  @Test
  void aNulInAClientNameIsRefused() {
    HttpResult result =
        broker.post(
            "/v1/admin/clients",
            broker.adminToken(),
            new JsonObject().put("name", "till\u00001").put("role", "AUDITOR"));
    assertProblem(result, 400, "INVALID_CHARACTER");
  }

  @Test
  void aNulInAPatchedStoreNameIsRefused() {
    HttpResult result =
        broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/oslo-1",
            broker.adminToken(),
            new JsonObject().put("name", "Oslo\u0000"));
    assertProblem(result, 400, "INVALID_CHARACTER");
  }

  @Test
  void aLoneSurrogateIsRefusedNotStoredAsAQuestionMark() {
    // The escape is JSON's own: the body is valid UTF-8, the decoded string is not Unicode text.
    HttpResult result =
        createStore(
            "{\"storeId\":\"trondheim-1\",\"name\":\"Trond\\ud800heim\",\"msn\":\"765432\","
                + "\"chainId\":\"acme\"}");
    JsonObject problem = assertProblem(result, 400, "INVALID_CHARACTER");
    assertThat(problem.getString("detail")).contains("/name").contains("U+D800");
  }

  @Test
  void aSurrogatePairIsText() {
    HttpResult result =
        broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/oslo-1",
            broker.adminToken(),
            "{\"name\":\"Oslo \\ud83d\\uded2\"}");
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    assertThat(result.json().getString("name")).isEqualTo("Oslo \uD83D\uDED2");
    eventsBefore++;
  }

  @Test
  void aTrailingNewlineNeverSatisfiesAnIdPattern() {
    assertProblem(createStore(store("trondheim-1\n", "Trondheim")), 400, "INVALID_CHARACTER");
    HttpResult order =
        broker.post(
            "/v1/orders",
            storeToken,
            new JsonObject()
                .put("orderId", "order-7\n")
                .put("amount", new JsonObject().put("value", 100).put("currency", "NOK")));
    assertProblem(order, 400, "INVALID_CHARACTER");
    assertProblem(broker.get("/v1/orders/order-7%0A", storeToken), 400, "MALFORMED_PATH");
    assertProblem(
        broker.get("/v1/admin/stores/oslo-1%0A", broker.adminToken()), 400, "MALFORMED_PATH");
  }

  @Test
  void jsonWithCommentsIsRefusedAndWritesNothing() {
    HttpResult result =
        createStore(
            "{/* a comment */ \"storeId\":\"trondheim-1\",\"name\":\"Trondheim\","
                + "\"msn\":\"765432\",\"chainId\":\"acme\"}");
    JsonObject problem = assertProblem(result, 400, "MALFORMED_JSON");
    assertThat(problem.getString("detail")).contains("line 1");
  }

  @Test
  void aMemberSentTwiceIsRefused() {
    HttpResult result =
        createStore(
            "{\"storeId\":\"trondheim-1\",\"name\":\"Trondheim\",\"msn\":\"765432\","
                + "\"chainId\":\"acme\",\"chainId\":\"other\"}");
    JsonObject problem = assertProblem(result, 400, "DUPLICATE_MEMBER");
    assertThat(problem.getString("detail")).contains("/chainId");
  }

  @Test
  void contentAfterTheJsonValueIsRefused() {
    HttpResult result = createStore(store("trondheim-1", "Trondheim").encode() + " {}");
    assertProblem(result, 400, "MALFORMED_JSON");
  }

  // ---------------------------------------------------------------------- path and query

  List<Op> getOperations() {
    List<Op> ops =
        ContractOperations.all().stream().filter(op -> op.method() == HttpMethod.GET).toList();
    assertThat(ops)
        .extracting(Op::operationId)
        .contains("listAuditRefunds", "getOrder", "healthLive");
    return ops;
  }

  private String tokenFor(Op op) {
    if (op.roles().isEmpty()) {
      return null;
    }
    return switch (op.roles().get(0)) {
      case "ADMIN" -> broker.adminToken();
      case "AUDITOR" -> auditorToken;
      default -> storeToken;
    };
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("getOperations")
  void aBrokenQueryEscapeIsABadRequestEverywhere(Op op) {
    for (String query : List.of("cursor=%%%", "cursor=%zz", "a=%", "q=%C3%28", "q=a%00b")) {
      HttpResult result = broker.get(op.path() + "?" + query, tokenFor(op));
      assertProblem(result, 400, "MALFORMED_QUERY");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"/v1/admin/stores/%zz", "/v1/admin/stores/a%", "/v1/admin/stores/%C3%28"})
  void aBrokenPathEscapeIsAProblem(String path) {
    HttpResult result =
        RawHttp.exchange(
            broker.port(),
            RawHttp.head(
                "GET " + path + " HTTP/1.1",
                "Authorization: Bearer " + broker.adminToken(),
                "Connection: close"),
            null);
    assertProblem(result, 400, "MALFORMED_PATH");
  }

  @Test
  void rawControlBytesInThePathAreAProblem() {
    HttpResult result =
        RawHttp.exchange(
            broker.port(),
            RawHttp.head("GET /v1/admin/stores/a\u001b[2Jb HTTP/1.1", "Connection: close"),
            null);
    assertProblem(result, 400, "MALFORMED_PATH");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"/v1/admin/stores/", "/v1/me/", "/health/live/", "/v1/admin/clients/"})
  void aTrailingSlashIsNoPathOfTheApi(String path) {
    // the router served "/v1/admin/stores/" as "/v1/admin/stores", a path the contract lacks
    assertProblem(broker.get(path, broker.adminToken()), 404, "NO_SUCH_ENDPOINT");
  }

  @Test
  void aBadQueryParameterIsNamedNotCalledTheBody() {
    // the problem said "body has the wrong format" for a query parameter
    HttpResult pattern = broker.get("/v1/admin/stores?chainId=%C3%A9x", broker.adminToken());
    assertThat(assertProblem(pattern, 400, "VALIDATION_FAILED").getString("detail"))
        .contains("query parameter 'chainId' has the wrong format")
        .doesNotContain("body");
    HttpResult range = broker.get("/v1/audit/events?limit=0", auditorToken);
    assertThat(assertProblem(range, 400, "VALIDATION_FAILED").getString("detail"))
        .contains("query parameter 'limit' is too small");
    HttpResult type = broker.get("/v1/audit/events?afterSeq=abc", auditorToken);
    assertThat(assertProblem(type, 400, "VALIDATION_FAILED").getString("detail"))
        .contains("query parameter 'afterSeq'")
        .doesNotContain("JSON");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"-12", "1.5", "[1]", "\"quoted\"", "a\\b", "{}", "k%zz", "a%20b", "x+y%"})
  void aStringParameterTheContractAllowsIsTakenAsSent(String key) {
    // vertx-openapi read non-word values as JSON: "-12" was "the wrong type", "a\b" undecodable
    HttpResult result =
        broker.send(
            HttpMethod.POST,
            "/v1/refunds",
            storeToken,
            new JsonObject()
                .put("orderId", "123456-0001")
                .put("amount", new JsonObject().put("value", 100).put("currency", "NOK"))
                .put("reason", "Returned"),
            Map.of("Idempotency-Key", key));
    assertThat(result.status()).as(result.toString()).isNotEqualTo(400);
    HttpResult store = broker.get("/v1/admin/stores/1.5", broker.adminToken());
    assertProblem(store, 404, "STORE_NOT_FOUND");
  }

  // ---------------------------------------------------------------------- the HTTP layer

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "X-Request-Id: a\u0001b",
        "X-Request-Id: a\u001b[31mb",
        "Idempotency-Key: k\u0000"
      })
  void aControlCharacterInAHeaderValueIsAProblem(String header) {
    HttpResult result =
        RawHttp.exchange(
            broker.port(),
            RawHttp.head(
                "POST /v1/refunds HTTP/1.1",
                "Authorization: Bearer " + storeToken,
                header,
                "Content-Type: application/json",
                "Content-Length: 2",
                "Connection: close"),
            "{}".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    assertProblem(result, 400, result.code());
    assertThat(result.code()).isIn("MALFORMED_REQUEST", "MALFORMED_HEADER");
  }

  @Test
  void aTooLongUrlIsAProblem() {
    HttpResult result =
        RawHttp.exchange(
            broker.port(),
            RawHttp.head("GET /v1/orders/" + "a".repeat(5000) + " HTTP/1.1", "Connection: close"),
            null);
    assertProblem(result, 414, "URI_TOO_LONG");
  }

  @Test
  void oversizedHeadersAreAProblem() {
    HttpResult result =
        RawHttp.exchange(
            broker.port(),
            RawHttp.head(
                "GET /health/live HTTP/1.1",
                "X-Padding: " + "p".repeat(20_000),
                "Connection: close"),
            null);
    assertProblem(result, 431, "HEADERS_TOO_LARGE");
  }
}
