package io.refundbroker.credential;

import static io.refundbroker.credential.CredentialSecretCanaryIT.assertNoColumnHolds;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.Secret;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.SandboxPartner;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Canary for partner keys (option A), on both backends (with Vault, the double enforces the HCL
 * policies on {@code partners/<id>}): keys stored, refused, rotated and rolled back through the
 * API, then used for a cross-store refund, and the access tokens Vipps issued for them, never
 * appear in a TRACE log line (Vipps HTTP trace on), an HTTP response, the metrics or any column of
 * the database.
 */
class PartnerSecretCanaryIT {

  @ParameterizedTest
  @EnumSource(CredentialBackendKind.class)
  void partnerSecretsNeverLeak(CredentialBackendKind backend) {
    String originMsn = "781001";
    String secret = "canary-partner-secret-" + UUID.randomUUID();
    String subscription = "canary-partner-sub-" + UUID.randomUUID();
    String rejected = "canary-partner-rejected-" + UUID.randomUUID();
    String otherSecret = "canary-partner-other-" + UUID.randomUUID();
    String otherSubscription = "canary-partner-other-sub-" + UUID.randomUUID();
    SandboxPartner first =
        new SandboxPartner(
            "vendor",
            "pc1-" + UUID.randomUUID(),
            Secret.of(secret),
            Secret.of(subscription),
            Set.of(originMsn));
    SandboxPartner other =
        new SandboxPartner(
            "vendor",
            "pc2-" + UUID.randomUUID(),
            Secret.of(otherSecret),
            Secret.of(otherSubscription),
            Set.of(originMsn));
    List<String> canaries =
        new ArrayList<>(List.of(secret, subscription, rejected, otherSecret, otherSubscription));
    List<HttpResult> responses = new ArrayList<>();

    VaultDouble vault = backend == CredentialBackendKind.VAULT ? VaultDouble.start() : null;
    try (TestSandbox sandbox = TestSandbox.start();
        LogCapture logs = LogCapture.atTrace();
        TestBroker broker =
            backend
                .configure(TestBroker.builder(), vault)
                .env("VIPPS_BASE_URL", sandbox.baseUrl())
                .env("VIPPS_TRACE_HTTP", "true")
                .env("BROKER_LOG_LEVEL", "trace")
                .env("CREDENTIALS_CACHE_TTL", "0s")
                .start()) {
      String admin = broker.adminToken();
      String path = "/v1/admin/partners/vendor/credentials";
      sandbox.sandbox().registerPartner(first);
      responses.add(
          broker.send(HttpMethod.PUT, path, admin, keys(first.clientId(), secret, subscription)));
      responses.add(
          broker.send(
              HttpMethod.PUT, path, admin, keys("pc3-" + UUID.randomUUID(), rejected, "k")));
      sandbox.sandbox().registerPartner(other);
      responses.add(
          broker.send(
              HttpMethod.PUT, path, admin, keys(other.clientId(), otherSecret, otherSubscription)));
      sandbox.sandbox().registerPartner(first);
      responses.add(broker.post(path + "/rollback", admin, new JsonObject().put("version", 1)));
      responses.add(broker.get(path, admin));

      broker.createStore("origin", "acme", originMsn);
      broker.createStore("asker", "acme", "781002");
      responses.add(
          broker.send(
              HttpMethod.PATCH,
              "/v1/admin/stores/origin",
              admin,
              new JsonObject().put("partnerId", "vendor").put("orderIdPrefix", "781001-")));
      sandbox
          .sandbox()
          .seedPayment(
              SandboxPayment.captured(
                  originMsn,
                  "781001-order-1",
                  VippsApi.EPAYMENT,
                  new Money(10_000, "NOK"),
                  Instant.now()));
      String asker = broker.issueToken("STORE", "asker");
      responses.add(
          broker.send(
              HttpMethod.POST,
              "/v1/refunds",
              asker,
              new JsonObject()
                  .put("orderId", "781001-order-1")
                  .put("amount", new Money(2_500, "NOK").toJson())
                  .put("reason", "Returned goods"),
              Map.of("Idempotency-Key", "canary-refund-1")));
      responses.add(broker.get("/metrics", null));

      assertThat(responses.get(0).status()).as(responses.get(0).toString()).isEqualTo(200);
      assertThat(responses.get(1).status()).isEqualTo(422);
      assertThat(responses.get(2).status()).isEqualTo(200);
      assertThat(responses.get(3).status()).as(responses.get(3).toString()).isEqualTo(200);
      assertThat(responses.get(5).status()).as(responses.get(5).toString()).isEqualTo(200);
      assertThat(responses.get(6).status()).as(responses.get(6).toString()).isEqualTo(201);

      Await.result(sandbox.sandbox().whenIdle());
      assertThat(
              sandbox.requestsTo("/accesstoken/get").stream()
                  .map(r -> r.header(VippsHeaders.CLIENT_SECRET).orElse(""))
                  .toList())
          .as("the keys really went to Vipps (so the searches below look for used values)")
          .contains(secret, rejected, otherSecret);
      assertThat(sandbox.sandbox().ledger())
          .singleElement()
          .satisfies(e -> assertThat(e.partnerId()).isEqualTo("vendor"));
      List<String> tokens = sandbox.sandbox().issuedTokens();
      assertThat(tokens).as("Vipps issued tokens for the proofs and the refund").isNotEmpty();
      canaries.addAll(tokens);

      assertThat(logs.text()).as("the Vipps HTTP trace was on").contains("vipps http > POST");
      for (String canary : canaries) {
        assertThat(logs.text()).as("logs").doesNotContain(canary);
        for (HttpResult response : responses) {
          assertThat(response.text()).as("response").doesNotContain(canary);
        }
      }
      assertNoColumnHolds(broker, canaries);
      sandbox.assertNoViolations();
    } finally {
      if (vault != null) {
        assertThat(vault.specViolations()).isEmpty();
        vault.close();
      }
    }
  }

  private static JsonObject keys(String clientId, String secret, String subscription) {
    return new JsonObject()
        .put("clientId", clientId)
        .put("clientSecret", secret)
        .put("subscriptionKey", subscription);
  }
}
