package io.refundbroker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

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

/**
 * Partner keys at the sandbox, raw (option A): registered through the control API, a partner's
 * token names no MSN and acts only for the MSNs linked to the partner; a missing or unlinked {@code
 * Merchant-Serial-Number} is Vipps's 403 "Invalid MSN"; the ledger says which partner acted for
 * which MSN.
 */
class SandboxPartnerIT {
  private static final String LINKED = "712345";
  private static final String UNLINKED = "723456";
  private static final String SECRET = "partner-secret-" + TestSandbox.randomHex(8);
  private static final String SUBSCRIPTION = "partner-sub-" + TestSandbox.randomHex(8);
  private static TestSandbox sandbox;
  private static WebClient web;

  @BeforeAll
  static void start() {
    sandbox = TestSandbox.start();
    web = WebClient.create(sandbox.vertx());
    sandbox.newStore(LINKED);
    sandbox.newStore(UNLINKED);
    Instant created = Instant.now().minus(1, ChronoUnit.DAYS);
    for (String msn : new String[] {LINKED, UNLINKED}) {
      sandbox
          .sandbox()
          .seedPayment(
              new SandboxPayment(
                  msn,
                  msn + "-partner-1",
                  VippsApi.EPAYMENT,
                  new Money(10_000, "NOK"),
                  created,
                  created.plusSeconds(60)));
    }
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

  private static MultiMap api(String token, String msn) {
    MultiMap headers =
        MultiMap.caseInsensitiveMultiMap()
            .add("Authorization", "Bearer " + token)
            .add("Ocp-Apim-Subscription-Key", SUBSCRIPTION)
            .add("Idempotency-Key", "partner-" + TestSandbox.randomHex(6))
            .add("Content-Type", "application/json");
    if (msn != null) {
      headers.add("Merchant-Serial-Number", msn);
    }
    return headers;
  }

  @Test
  void aPartnersTokenActsOnlyForItsLinkedMsns() {
    HttpResponse<Buffer> registered =
        send(
            HttpMethod.POST,
            "/sandbox/v1/partners",
            MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json"),
            new JsonObject()
                .put("partnerId", "pos-vendor")
                .put("clientId", "partner-client")
                .put("clientSecret", SECRET)
                .put("subscriptionKey", SUBSCRIPTION)
                .put("msns", new JsonArray().add(LINKED))
                .encode());
    assertThat(registered.statusCode()).isEqualTo(201);
    assertThat(registered.bodyAsString()).doesNotContain(SECRET).doesNotContain(SUBSCRIPTION);
    assertThat(registered.bodyAsJsonObject().getJsonArray("msns"))
        .isEqualTo(new JsonArray().add(LINKED));

    HttpResponse<Buffer> token =
        send(
            HttpMethod.POST,
            "/accesstoken/get",
            MultiMap.caseInsensitiveMultiMap()
                .add("client_id", "partner-client")
                .add("client_secret", SECRET)
                .add("Ocp-Apim-Subscription-Key", SUBSCRIPTION),
            null);
    assertThat(token.statusCode()).isEqualTo(200);
    String bearer = token.bodyAsJsonObject().getString("access_token");
    String body =
        new JsonObject()
            .put("modificationAmount", new JsonObject().put("value", 1000).put("currency", "NOK"))
            .encode();

    HttpResponse<Buffer> unlinked =
        send(
            HttpMethod.POST,
            "/epayment/v1/payments/" + UNLINKED + "-partner-1/refund",
            api(bearer, UNLINKED),
            body);
    assertThat(unlinked.statusCode()).isEqualTo(403);
    assertThat(unlinked.bodyAsJsonObject().getString("message")).startsWith("Invalid MSN");

    HttpResponse<Buffer> missing =
        send(
            HttpMethod.POST,
            "/epayment/v1/payments/" + LINKED + "-partner-1/refund",
            api(bearer, null),
            body);
    assertThat(missing.statusCode()).isEqualTo(403);
    assertThat(missing.bodyAsJsonObject().getString("message")).startsWith("Invalid MSN");
    assertThat(sandbox.violations())
        .as("the spec checker saw the deliberately missing Merchant-Serial-Number")
        .isNotEmpty();
    sandbox.clearViolations();

    HttpResponse<Buffer> linked =
        send(
            HttpMethod.POST,
            "/epayment/v1/payments/" + LINKED + "-partner-1/refund",
            api(bearer, LINKED),
            body);
    assertThat(linked.statusCode()).as(linked.bodyAsString()).isEqualTo(200);

    Await.result(sandbox.sandbox().whenIdle());
    assertThat(sandbox.sandbox().ledger())
        .singleElement()
        .satisfies(
            entry -> {
              assertThat(entry.partnerId()).isEqualTo("pos-vendor");
              assertThat(entry.tokenMsn()).isEqualTo(LINKED);
              assertThat(entry.msn()).isEqualTo(LINKED);
              assertThat(entry.clientId()).isEqualTo("partner-client");
            });
    HttpResponse<Buffer> ledger =
        send(HttpMethod.GET, "/sandbox/v1/ledger", MultiMap.caseInsensitiveMultiMap(), null);
    assertThat(ledger.bodyAsJsonArray().getJsonObject(0).getString("partnerId"))
        .isEqualTo("pos-vendor");
  }
}
