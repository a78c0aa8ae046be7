package io.refundbroker.vipps;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refundbroker.config.Secret;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.TestSandbox;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Client secrets, subscription keys and access tokens never reach a log line (even at TRACE with
 * {@code VIPPS_TRACE_HTTP=true}), a metric, the sandbox's control API or a recorded request's
 * printout — across successes, refusals, 401 refetches and faults.
 */
class VippsSecretCanaryIT {

  @Test
  void secretsAndTokensStayOutOfLogsMetricsAndTheControlApi() {
    Set<String> secrets = new LinkedHashSet<>();
    String logs;
    String metrics;
    String controlRequests;
    String controlStores;
    List<String> printed = new ArrayList<>();
    List<String> references = new ArrayList<>();
    List<String> clientIds = new ArrayList<>();
    try (TestSandbox sandbox = TestSandbox.start();
        LogCapture capture = LogCapture.atTrace()) {
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      VippsClient client =
          new VippsClient(
              sandbox.vertx(),
              sandbox.clientConfig("VIPPS_TRACE_HTTP", "true", "VIPPS_MAX_ATTEMPTS", "2"),
              registry,
              Clock.systemUTC());
      StoreCredentials a = sandbox.newStore("645678");
      StoreCredentials b = sandbox.newStore("656789");
      for (StoreCredentials store : List.of(a, b)) {
        secrets.add(store.clientSecret().reveal());
        secrets.add(store.subscriptionKey().reveal());
        clientIds.add(store.clientId());
      }
      String epRef = "645678-canary-ep";
      String ecRef = "645678-canary-ec";
      references.addAll(List.of(epRef, ecRef));
      Instant now = Instant.now();
      sandbox
          .sandbox()
          .seedPayment(
              SandboxPayment.captured(
                  "645678", epRef, VippsApi.EPAYMENT, new Money(90_000, "NOK"), now));
      sandbox
          .sandbox()
          .seedPayment(
              SandboxPayment.captured(
                  "645678", ecRef, VippsApi.ECOM, new Money(90_000, "NOK"), now));

      Await.result(client.verifyCredentials(a.vippsKeys()));
      refund(client, a, VippsApi.EPAYMENT, epRef, "canary-1");
      refund(client, a, VippsApi.ECOM, ecRef, "canary-2");
      Await.result(client.payment(a.inUse(VippsApi.EPAYMENT), epRef));
      Await.result(client.payment(a.inUse(VippsApi.ECOM), ecRef));
      Await.result(client.lookupRefund(a.inUse(VippsApi.EPAYMENT), epRef, "canary-1"));
      Await.result(client.lookupRefund(a.inUse(VippsApi.ECOM), ecRef, "canary-2"));
      secrets.addAll(sandbox.sandbox().issuedTokens());
      // A refused token (401 → refetch → retry), a wrong MSN, a fault, refused keys.
      sandbox.sandbox().revokeTokens();
      refund(client, a, VippsApi.EPAYMENT, epRef, "canary-3");
      secrets.addAll(sandbox.sandbox().issuedTokens());
      refund(client, b, VippsApi.EPAYMENT, epRef, "canary-4");
      sandbox.sandbox().inject(Fault.status(503).on(Fault.Target.REFUND).times(2));
      refund(client, a, VippsApi.EPAYMENT, epRef, "canary-5");
      StoreCredentials wrong =
          new StoreCredentials(
              a.msn(),
              9,
              a.clientId(),
              Secret.of("wrong-" + TestSandbox.randomHex(12)),
              a.subscriptionKey());
      secrets.add(wrong.clientSecret().reveal());
      refund(client, wrong, VippsApi.EPAYMENT, epRef, "canary-6");
      Await.failure(client.verifyCredentials(wrong.vippsKeys()));
      secrets.addAll(sandbox.sandbox().issuedTokens());
      for (RecordedRequest request : sandbox.sandbox().requests()) {
        request
            .header("Authorization")
            .map(h -> h.substring("Bearer ".length()))
            .ifPresent(secrets::add);
        printed.add(request.toString());
      }

      WebClient web = WebClient.create(sandbox.vertx());
      controlRequests = get(web, sandbox, "/sandbox/v1/requests");
      controlStores = get(web, sandbox, "/sandbox/v1/stores");
      web.close();
      client.close();
      metrics = registry.scrape();
      logs = capture.text();
      sandbox.assertNoViolations();
    }

    assertThat(secrets).as("canaries collected").hasSizeGreaterThanOrEqualTo(8);
    assertThat(logs)
        .as("the HTTP trace was on and redacted")
        .contains("vipps http > POST /accesstoken/get")
        .contains("vipps http < 200 POST /accesstoken/get")
        .contains("vipps http > POST /epayment/v1/payments/645678-canary-ep/refund")
        .contains("Authorization: [redacted]")
        .contains("client_secret: [redacted]")
        .contains("\"access_token\":\"[redacted]\"");
    assertThat(metrics).contains("vipps_requests_seconds_count").contains("vipps_token_fetches");
    assertThat(controlRequests).contains("[redacted]");
    for (String secret : secrets) {
      assertThat(logs.contains(secret)).as("a secret or token in the logs").isFalse();
      assertThat(metrics.contains(secret)).as("a secret or token in the metrics").isFalse();
      assertThat(controlRequests.contains(secret)).as("a secret in the control API").isFalse();
      assertThat(controlStores.contains(secret)).as("a secret in the control API").isFalse();
      assertThat(printed).noneMatch(p -> p.contains(secret));
    }
    for (String clientId : clientIds) {
      assertThat(logs.contains(clientId)).as("a client_id in the logs").isFalse();
      assertThat(metrics.contains(clientId)).as("a client_id in the metrics").isFalse();
    }
    for (String reference : references) {
      assertThat(metrics.contains(reference)).as("an order id in a metric label").isFalse();
    }
  }

  private static void refund(
      VippsClient client, StoreCredentials store, VippsApi api, String reference, String key) {
    Await.result(
        client.refund(
            new RefundCall(
                store.inUse(api), reference, new Money(1_000, "NOK"), key, "Canary refund")));
  }

  private static String get(WebClient web, TestSandbox sandbox, String path) {
    Buffer body = Await.result(web.get(sandbox.sandbox().port(), "127.0.0.1", path).send()).body();
    return body == null ? "" : body.toString();
  }
}
