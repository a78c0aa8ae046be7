package io.refundbroker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.TestSandbox;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sandbox's Vipps API seen raw: tokens, store isolation and the answer formats. */
class SandboxVippsApiIT {
  private static final String MSN_A = "678901";
  private static final String MSN_B = "689012";
  private static TestSandbox sandbox;
  private static WebClient web;
  private static StoreCredentials a;
  private static StoreCredentials b;

  @BeforeAll
  static void start() {
    sandbox = TestSandbox.start();
    web = WebClient.create(sandbox.vertx());
    a = sandbox.newStore(MSN_A);
    b = sandbox.newStore(MSN_B);
    Instant created = Instant.now().minus(2, ChronoUnit.DAYS);
    sandbox
        .sandbox()
        .seedPayment(
            new SandboxPayment(
                MSN_A,
                "678901-raw-ep",
                VippsApi.EPAYMENT,
                new Money(40_000, "NOK"),
                created,
                created.plus(1, ChronoUnit.HOURS)));
    sandbox
        .sandbox()
        .seedPayment(
            new SandboxPayment(
                MSN_A,
                "678901-raw-ec",
                VippsApi.ECOM,
                new Money(40_000, "NOK"),
                created,
                created.plus(1, ChronoUnit.HOURS)));
  }

  @AfterAll
  static void stop() {
    web.close();
    sandbox.assertNoViolations();
    sandbox.close();
  }

  private static HttpResponse<Buffer> send(
      HttpMethod method, String path, MultiMap headers, String body) {
    var request =
        web.request(method, sandbox.sandbox().port(), "127.0.0.1", path).putHeaders(headers);
    return Await.result(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
  }

  private static JsonObject tokenResponse(StoreCredentials store) {
    HttpResponse<Buffer> response =
        send(
            HttpMethod.POST,
            "/accesstoken/get",
            MultiMap.caseInsensitiveMultiMap()
                .add("client_id", store.clientId())
                .add("client_secret", store.clientSecret().reveal())
                .add("Ocp-Apim-Subscription-Key", store.subscriptionKey().reveal())
                .add("Merchant-Serial-Number", store.msn()),
            null);
    assertThat(response.statusCode()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  private static MultiMap api(String token, StoreCredentials keyOf, String msn) {
    return MultiMap.caseInsensitiveMultiMap()
        .add("Authorization", "Bearer " + token)
        .add("Ocp-Apim-Subscription-Key", keyOf.subscriptionKey().reveal())
        .add("Merchant-Serial-Number", msn);
  }

  @Test
  void tokensAreOneHourWithEveryFieldAString() {
    JsonObject token = tokenResponse(a);

    assertThat(token.fieldNames())
        .containsExactlyInAnyOrder(
            "token_type",
            "expires_in",
            "ext_expires_in",
            "expires_on",
            "not_before",
            "resource",
            "access_token");
    assertThat(token.getMap().values()).allSatisfy(v -> assertThat(v).isInstanceOf(String.class));
    assertThat(token.getString("expires_in")).isEqualTo("3600");
    assertThat(
            Long.parseLong(token.getString("expires_on"))
                - Long.parseLong(token.getString("not_before")))
        .isEqualTo(3600);
  }

  @Test
  void anotherStoresTokenIsRefusedAndAnotherStoresPaymentIsNotFound() {
    String tokenB = tokenResponse(b).getString("access_token");
    String tokenA = tokenResponse(a).getString("access_token");
    String path = "/epayment/v1/payments/678901-raw-ep";

    assertThat(send(HttpMethod.GET, path, api(tokenA, a, MSN_A), null).statusCode()).isEqualTo(200);
    assertThat(send(HttpMethod.GET, path, api(tokenB, b, MSN_A), null).statusCode())
        .as("B's token for A's MSN")
        .isEqualTo(401);
    assertThat(send(HttpMethod.GET, path, api(tokenB, a, MSN_A), null).statusCode())
        .as("B's token with A's subscription key")
        .isEqualTo(401);
    HttpResponse<Buffer> notFound = send(HttpMethod.GET, path, api(tokenB, b, MSN_B), null);
    assertThat(notFound.statusCode()).as("A's payment under B's MSN").isEqualTo(404);
    assertThat(notFound.getHeader("Content-Type")).isEqualTo("application/problem+json");
    assertThat(notFound.bodyAsJsonObject().getString("type")).endsWith("#reference-not-found");
    assertThat(notFound.bodyAsJsonObject().fieldNames())
        .contains("type", "title", "status", "traceId");
    HttpResponse<Buffer> ecomNotFound =
        send(
            HttpMethod.GET,
            "/ecomm/v2/payments/678901-raw-ec/details",
            api(tokenB, b, MSN_B),
            null);
    assertThat(ecomNotFound.statusCode()).isEqualTo(404);
    assertThat(ecomNotFound.bodyAsJsonArray().getJsonObject(0).getString("errorCode"))
        .isEqualTo("35");
  }

  @Test
  void theEventLogCarriesIdempotencyKeysAndEcomDetailsAreNewestFirst() {
    String token = tokenResponse(a).getString("access_token");
    MultiMap headers = api(token, a, MSN_A);
    HttpResponse<Buffer> epRefund =
        send(
            HttpMethod.POST,
            "/epayment/v1/payments/678901-raw-ep/refund",
            MultiMap.caseInsensitiveMultiMap()
                .addAll(headers)
                .add("Idempotency-Key", "raw-ep-1")
                .add("Content-Type", "application/json"),
            "{\"modificationAmount\":{\"currency\":\"NOK\",\"value\":1500}}");
    HttpResponse<Buffer> ecRefund =
        send(
            HttpMethod.POST,
            "/ecomm/v2/payments/678901-raw-ec/refund",
            MultiMap.caseInsensitiveMultiMap()
                .addAll(headers)
                .add("X-Request-Id", "raw-ec-1")
                .add("Content-Type", "application/json;charset=UTF-8"),
            "{\"merchantInfo\":{\"merchantSerialNumber\":\"678901\"},"
                + "\"transaction\":{\"amount\":2500,\"transactionText\":\"Refund\"}}");

    assertThat(epRefund.statusCode()).isEqualTo(200);
    assertThat(
            epRefund
                .bodyAsJsonObject()
                .getJsonObject("aggregate")
                .getJsonObject("refundedAmount")
                .getLong("value"))
        .isEqualTo(1500);
    assertThat(ecRefund.statusCode()).isEqualTo(200);
    assertThat(ecRefund.bodyAsJsonObject().getJsonObject("transaction").getString("status"))
        .isEqualTo("Refund");

    JsonArray events =
        send(HttpMethod.GET, "/epayment/v1/payments/678901-raw-ep/events", headers, null)
            .bodyAsJsonArray();
    JsonObject refunded = events.getJsonObject(events.size() - 1);
    assertThat(refunded.getString("name")).isEqualTo("REFUNDED");
    assertThat(refunded.getString("idempotencyKey")).isEqualTo("raw-ep-1");
    assertThat(refunded.getBoolean("success")).isTrue();

    JsonArray log =
        send(HttpMethod.GET, "/ecomm/v2/payments/678901-raw-ec/details", headers, null)
            .bodyAsJsonObject()
            .getJsonArray("transactionLogHistory");
    assertThat(log.getJsonObject(0).getString("operation")).isEqualTo("REFUND");
    assertThat(log.getJsonObject(0).getString("requestId")).isEqualTo("raw-ec-1");
    assertThat(log.getJsonObject(log.size() - 1).getString("operation")).isEqualTo("INITIATE");
    for (int i = 1; i < log.size(); i++) {
      Instant newer = Instant.parse(log.getJsonObject(i - 1).getString("timeStamp"));
      Instant older = Instant.parse(log.getJsonObject(i).getString("timeStamp"));
      assertThat(newer).isAfterOrEqualTo(older);
    }
  }

  @Test
  void anEcomMsnSentAsANumberIsAnInternalErrorAsVippsDocuments() {
    // Its own sandbox: this request breaks the spec on purpose.
    try (TestSandbox own = TestSandbox.start()) {
      StoreCredentials store = own.newStore(MSN_A);
      own.sandbox()
          .seedPayment(
              SandboxPayment.captured(
                  MSN_A, "678901-num", VippsApi.ECOM, new Money(9_000, "NOK"), Instant.now()));
      WebClient ownWeb = WebClient.create(own.vertx());
      String token =
          Await.result(
                  ownWeb
                      .post(own.sandbox().port(), "127.0.0.1", "/accesstoken/get")
                      .putHeader("client_id", store.clientId())
                      .putHeader("client_secret", store.clientSecret().reveal())
                      .putHeader("Ocp-Apim-Subscription-Key", store.subscriptionKey().reveal())
                      .send())
              .bodyAsJsonObject()
              .getString("access_token");
      HttpResponse<Buffer> response =
          Await.result(
              ownWeb
                  .post(own.sandbox().port(), "127.0.0.1", "/ecomm/v2/payments/678901-num/refund")
                  .putHeaders(api(token, store, MSN_A))
                  .putHeader("X-Request-Id", "raw-ec-num")
                  .putHeader("Content-Type", "application/json")
                  .sendBuffer(
                      Buffer.buffer(
                          "{\"merchantInfo\":{\"merchantSerialNumber\":678901},"
                              + "\"transaction\":{\"amount\":2500,\"transactionText\":\"Refund\"}}")));
      ownWeb.close();

      assertThat(response.statusCode()).isEqualTo(500);
      assertThat(response.bodyAsJsonArray().getJsonObject(0).getString("errorCode"))
          .isEqualTo("99");
      assertThat(own.sandbox().ledger()).isEmpty();
      if (TestSandbox.contractChecked()) {
        assertThat(own.violations())
            .singleElement()
            .asString()
            .contains("/merchantInfo/merchantSerialNumber");
      }
    }
  }
}
