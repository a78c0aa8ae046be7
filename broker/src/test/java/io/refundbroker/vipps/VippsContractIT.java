package io.refundbroker.vipps;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.Specs;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.VippsContract;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every request the broker's Vipps client sends is valid against the official Vipps specs, and the
 * check that says so does catch malformed requests.
 */
class VippsContractIT {
  private static TestSandbox sandbox;
  private static VippsClient client;

  @BeforeAll
  static void start() {
    Specs.assumePresent(TestSandbox.contractChecked(), VippsContract.missingMessage());
    sandbox = TestSandbox.start();
    client =
        new VippsClient(
            sandbox.vertx(), sandbox.clientConfig(), new SimpleMeterRegistry(), Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    if (sandbox != null) {
      client.close();
      sandbox.assertNoViolations();
      sandbox.close();
    }
  }

  @Test
  void everyOperationOfBothApisFollowsTheSpecs() {
    StoreCredentials store = sandbox.newStore("654321");
    Instant now = Instant.now();
    sandbox
        .sandbox()
        .seedPayment(
            SandboxPayment.captured(
                "654321",
                "654321-ep-contract-1",
                VippsApi.EPAYMENT,
                new Money(50_000, "NOK"),
                now));
    sandbox
        .sandbox()
        .seedPayment(
            SandboxPayment.captured(
                "654321", "654321-ec-contract-1", VippsApi.ECOM, new Money(30_000, "NOK"), now));

    Await.result(client.verifyCredentials(store.vippsKeys()));
    RefundOutcome ep =
        Await.result(
            client.refund(
                new RefundCall(
                    store.inUse(VippsApi.EPAYMENT),
                    "654321-ep-contract-1",
                    new Money(1_000, "NOK"),
                    "rf-contract-ep-1",
                    null)));
    RefundOutcome ec =
        Await.result(
            client.refund(
                new RefundCall(
                    store.inUse(VippsApi.ECOM),
                    "654321-ec-contract-1",
                    new Money(2_000, "NOK"),
                    "rf-contract-ec-1",
                    "Refund for order 654321-ec-contract-1")));
    PaymentSnapshot epPayment =
        Await.result(client.payment(store.inUse(VippsApi.EPAYMENT), "654321-ep-contract-1"));
    PaymentSnapshot ecPayment =
        Await.result(client.payment(store.inUse(VippsApi.ECOM), "654321-ec-contract-1"));
    RefundLookup epLookup =
        Await.result(
            client.lookupRefund(
                store.inUse(VippsApi.EPAYMENT), "654321-ep-contract-1", "rf-contract-ep-1"));
    RefundLookup ecLookup =
        Await.result(
            client.lookupRefund(
                store.inUse(VippsApi.ECOM), "654321-ec-contract-1", "rf-contract-ec-1"));

    assertThat(ep.kind()).isEqualTo(RefundOutcome.Kind.APPLIED);
    assertThat(ec.kind()).isEqualTo(RefundOutcome.Kind.APPLIED);
    assertThat(epPayment.refunded()).isEqualTo(new Money(1_000, "NOK"));
    assertThat(ecPayment.refunded()).isEqualTo(new Money(2_000, "NOK"));
    assertThat(ecPayment.capturedAt()).isNotNull();
    assertThat(epLookup).isEqualTo(RefundLookup.APPLIED);
    assertThat(ecLookup).isEqualTo(RefundLookup.APPLIED);

    Set<String> operations =
        sandbox.sandbox().requests().stream()
            .map(r -> r.method() + " " + r.path())
            .collect(Collectors.toSet());
    assertThat(operations)
        .contains(
            "POST /accesstoken/get",
            "POST /epayment/v1/payments/654321-ep-contract-1/refund",
            "GET /epayment/v1/payments/654321-ep-contract-1",
            "GET /epayment/v1/payments/654321-ep-contract-1/events",
            "POST /ecomm/v2/payments/654321-ec-contract-1/refund",
            "GET /ecomm/v2/payments/654321-ec-contract-1/details");
    for (RecordedRequest request : sandbox.sandbox().requests()) {
      assertThat(request.header("Vipps-System-Name")).as(request.describe()).isPresent();
      assertThat(request.header("Vipps-System-Plugin-Version")).as(request.describe()).isPresent();
    }
    sandbox.assertNoViolations();
  }

  @Test
  void theSameCheckCatchesMalformedRequests() {
    try (TestSandbox own = TestSandbox.start()) {
      StoreCredentials store = own.newStore("765432");
      WebClient web = WebClient.create(own.vertx());
      String token = token(web, own, store);
      String ep = "/epayment/v1/payments/765432-order-0001";
      String ec = "/ecomm/v2/payments/765432-order-0002";
      String epBody = "{\"modificationAmount\":{\"currency\":\"NOK\",\"value\":1000}}";
      String ecBody =
          "{\"merchantInfo\":{\"merchantSerialNumber\":\"765432\"},"
              + "\"transaction\":{\"amount\":1000,\"transactionText\":\"Refund\"}}";

      MultiMap good = apiHeaders(store, token);
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.POST,
                  ep + "/refund",
                  with(good, "Idempotency-Key", "k-1", "Content-Type", "application/json"),
                  epBody))
          .as("a well-formed ePayment refund")
          .isEmpty();
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.POST,
                  ep + "/refund",
                  with(good, "Content-Type", "application/json"),
                  epBody))
          .anyMatch(v -> v.contains("header.missing") && v.contains("'Idempotency-Key'"));
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.POST,
                  ec + "/refund",
                  with(good, "X-Request-Id", "k-2", "Content-Type", "application/json"),
                  ecBody.replace("\"765432\"", "765432")))
          .anyMatch(
              v -> v.contains("schema.type") && v.contains("/merchantInfo/merchantSerialNumber"));
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.POST,
                  ec + "/refund",
                  with(good, "Content-Type", "application/json"),
                  ecBody))
          .anyMatch(v -> v.contains("header.missing") && v.contains("'X-Request-Id'"));
      assertThat(
              violationsOf(
                  own, web, HttpMethod.GET, ep, without(good, "Merchant-Serial-Number"), null))
          .anyMatch(v -> v.contains("header.missing") && v.contains("'Merchant-Serial-Number'"));
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.GET,
                  ec + "/details",
                  without(good, "Ocp-Apim-Subscription-Key"),
                  null))
          .anyMatch(v -> v.contains("header.missing") && v.contains("'Ocp-Apim-Subscription-Key'"));
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.POST,
                  ep + "/refund",
                  with(
                      without(good, "Authorization"),
                      "Idempotency-Key",
                      "k-3",
                      "Content-Type",
                      "application/json"),
                  epBody))
          .anyMatch(v -> v.contains("security.missing"));
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.POST,
                  ep + "/refund",
                  with(good, "Idempotency-Key", "k-4", "Content-Type", "application/json"),
                  "{\"modificationAmount\":{\"currency\":\"NOK\",\"value\":\"1000\"}}"))
          .anyMatch(v -> v.contains("schema.type") && v.contains("/modificationAmount/value"));
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.POST,
                  ep + "/refund",
                  with(good, "Idempotency-Key", "k-5", "Content-Type", "application/json"),
                  "{\"amount\":1000}"))
          .anyMatch(v -> v.contains("schema.required") && v.contains("modificationAmount"));
      assertThat(
              violationsOf(
                  own,
                  web,
                  HttpMethod.POST,
                  "/accesstoken/get",
                  without(tokenHeaders(store), "client_secret"),
                  null))
          .anyMatch(v -> v.contains("header.missing") && v.contains("'client_secret'"));
      web.close();
    }
  }

  private static List<String> violationsOf(
      TestSandbox own,
      WebClient web,
      HttpMethod method,
      String path,
      MultiMap headers,
      String body) {
    own.clearViolations();
    var request = web.request(method, own.sandbox().port(), "127.0.0.1", path).putHeaders(headers);
    Await.result(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
    return own.violations();
  }

  private static String token(WebClient web, TestSandbox own, StoreCredentials store) {
    HttpResponse<Buffer> response =
        Await.result(
            web.post(own.sandbox().port(), "127.0.0.1", "/accesstoken/get")
                .putHeaders(tokenHeaders(store))
                .send());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.bodyAsJsonObject().getString("access_token");
  }

  private static MultiMap tokenHeaders(StoreCredentials store) {
    return MultiMap.caseInsensitiveMultiMap()
        .add("client_id", store.clientId())
        .add("client_secret", store.clientSecret().reveal())
        .add("Ocp-Apim-Subscription-Key", store.subscriptionKey().reveal())
        .add("Merchant-Serial-Number", store.msn());
  }

  private static MultiMap apiHeaders(StoreCredentials store, String token) {
    return MultiMap.caseInsensitiveMultiMap()
        .add("Authorization", "Bearer " + token)
        .add("Ocp-Apim-Subscription-Key", store.subscriptionKey().reveal())
        .add("Merchant-Serial-Number", store.msn());
  }

  private static MultiMap with(MultiMap base, String... pairs) {
    MultiMap copy = MultiMap.caseInsensitiveMultiMap().addAll(base);
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      copy.set(pairs[i], pairs[i + 1]);
    }
    return copy;
  }

  private static MultiMap without(MultiMap base, String name) {
    MultiMap copy = MultiMap.caseInsensitiveMultiMap().addAll(base);
    copy.remove(name);
    return copy;
  }
}
