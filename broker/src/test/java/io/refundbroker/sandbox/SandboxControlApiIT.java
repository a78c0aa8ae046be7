package io.refundbroker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.refundbroker.config.Secret;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.vipps.RefundCall;
import io.refundbroker.vipps.RefundOutcome.Kind;
import io.refundbroker.vipps.VippsClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A POS developer can seed and steer the sandbox over HTTP only. */
class SandboxControlApiIT {
  private static TestSandbox sandbox;
  private static WebClient web;

  @BeforeAll
  static void start() {
    sandbox = TestSandbox.start();
    web = WebClient.create(sandbox.vertx());
  }

  @AfterAll
  static void stop() {
    web.close();
    sandbox.assertNoViolations();
    sandbox.close();
  }

  private static HttpResponse<Buffer> call(HttpMethod method, String path, JsonObject body) {
    var request = web.request(method, sandbox.sandbox().port(), "127.0.0.1", path);
    return Await.result(body == null ? request.send() : request.sendJsonObject(body));
  }

  @Test
  void storesPaymentsFaultsSettingsAndTheLedgerOverHttp() {
    String clientId = UUID.randomUUID().toString();
    String secret = "cs-" + TestSandbox.randomHex(16);
    String key = "sk-" + TestSandbox.randomHex(16);
    HttpResponse<Buffer> store =
        call(
            HttpMethod.POST,
            "/sandbox/v1/stores",
            new JsonObject()
                .put("msn", "667890")
                .put("clientId", clientId)
                .put("clientSecret", secret)
                .put("subscriptionKey", key));
    HttpResponse<Buffer> payment =
        call(
            HttpMethod.POST,
            "/sandbox/v1/payments",
            new JsonObject()
                .put("msn", "667890")
                .put("reference", "667890-control-1")
                .put("api", "epayment")
                .put("captured", new JsonObject().put("value", 20_000).put("currency", "NOK")));
    HttpResponse<Buffer> fault =
        call(
            HttpMethod.POST,
            "/sandbox/v1/faults",
            new JsonObject().put("kind", "status").put("status", 503).put("target", "refund"));
    HttpResponse<Buffer> settings =
        call(
            HttpMethod.PUT,
            "/sandbox/v1/settings",
            new JsonObject().put("tokenLifetimeSeconds", 600).put("refundCallsPerMinute", 10));

    assertThat(store.statusCode()).isEqualTo(201);
    assertThat(store.bodyAsString()).doesNotContain(secret).doesNotContain(key);
    assertThat(payment.statusCode()).isEqualTo(201);
    assertThat(payment.bodyAsJsonObject().getJsonObject("refunded").getLong("value")).isZero();
    assertThat(fault.statusCode()).isEqualTo(201);
    assertThat(call(HttpMethod.GET, "/sandbox/v1/faults", null).bodyAsJsonArray()).hasSize(1);
    assertThat(settings.bodyAsJsonObject().getLong("tokenLifetimeSeconds")).isEqualTo(600);
    assertThat(sandbox.sandbox().refundCallsPerMinute()).isEqualTo(10);

    StoreCredentials credentials =
        new StoreCredentials("667890", 1, clientId, Secret.of(secret), Secret.of(key));
    VippsClient client =
        new VippsClient(
            sandbox.vertx(),
            sandbox.clientConfig("VIPPS_MAX_ATTEMPTS", "1"),
            new SimpleMeterRegistry(),
            Clock.systemUTC());
    RefundCall refund =
        new RefundCall(
            credentials.inUse(VippsApi.EPAYMENT),
            "667890-control-1",
            new Money(5_000, "NOK"),
            "ctl-1",
            null);
    assertThat(Await.result(client.refund(refund)).kind()).isEqualTo(Kind.UNKNOWN);
    assertThat(Await.result(client.refund(refund)).kind()).isEqualTo(Kind.APPLIED);
    client.close();

    JsonArray ledger = call(HttpMethod.GET, "/sandbox/v1/ledger", null).bodyAsJsonArray();
    assertThat(ledger).hasSize(1);
    assertThat(ledger.getJsonObject(0).getString("idempotencyKey")).isEqualTo("ctl-1");
    assertThat(ledger.getJsonObject(0).getString("clientId")).isEqualTo(clientId);
    assertThat(ledger.getJsonObject(0).getString("tokenMsn")).isEqualTo("667890");
    JsonObject after =
        call(HttpMethod.GET, "/sandbox/v1/payments/667890/667890-control-1", null)
            .bodyAsJsonObject();
    assertThat(after.getJsonObject("refunded").getLong("value")).isEqualTo(5_000);
    assertThat(call(HttpMethod.GET, "/sandbox/v1/faults", null).bodyAsJsonArray()).isEmpty();

    assertThat(call(HttpMethod.POST, "/sandbox/v1/reset", null).statusCode()).isEqualTo(204);
    assertThat(call(HttpMethod.GET, "/sandbox/v1/stores", null).bodyAsJsonArray()).isEmpty();
    assertThat(call(HttpMethod.GET, "/sandbox/v1/ledger", null).bodyAsJsonArray()).isEmpty();
  }

  @Test
  void badControlInputIsA400WithTheReason() {
    HttpResponse<Buffer> noMsn =
        call(HttpMethod.POST, "/sandbox/v1/stores", new JsonObject().put("clientId", "x"));
    HttpResponse<Buffer> badKind =
        call(HttpMethod.POST, "/sandbox/v1/faults", new JsonObject().put("kind", "explode"));
    HttpResponse<Buffer> badStatus =
        call(
            HttpMethod.POST,
            "/sandbox/v1/faults",
            new JsonObject().put("kind", "status").put("status", 200));
    HttpResponse<Buffer> unknownPayment =
        call(HttpMethod.GET, "/sandbox/v1/payments/600000/nothing-here", null);

    assertThat(noMsn.statusCode()).isEqualTo(400);
    assertThat(noMsn.bodyAsJsonObject().getString("error")).contains("msn");
    assertThat(badKind.statusCode()).isEqualTo(400);
    assertThat(badStatus.statusCode()).isEqualTo(400);
    assertThat(badStatus.bodyAsJsonObject().getString("error")).contains("status");
    assertThat(unknownPayment.statusCode()).isEqualTo(404);
  }
}
