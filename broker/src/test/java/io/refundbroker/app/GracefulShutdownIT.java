package io.refundbroker.app;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.auth.Tokens;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.testing.ChildBroker;
import io.refundbroker.testing.ChildSetup;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestSandbox;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM stops the broker cleanly: a refund in flight still gets its answer, then the process
 * exits 0 with its embedded PostgreSQL shut down.
 */
class GracefulShutdownIT {
  @TempDir Path dataDir;

  @Test
  void sigtermLetsTheInFlightRefundFinishAndStopsTheEmbeddedDatabase() throws Exception {
    String adminToken = Tokens.newToken();
    try (TestSandbox vipps = TestSandbox.start()) {
      StoreCredentials originKeys = vipps.newStore("710001");
      StoreCredentials tillKeys = vipps.newStore("710002");
      vipps
          .sandbox()
          .seedPayment(
              SandboxPayment.captured(
                  "710001",
                  "graceful-order",
                  VippsApi.EPAYMENT,
                  new Money(9000, "NOK"),
                  Instant.now()));
      Map<String, String> env =
          Map.of(
              "BROKER_DATA_DIR",
              dataDir.toString(),
              "BROKER_ADMIN_TOKEN",
              adminToken,
              "VIPPS_BASE_URL",
              vipps.baseUrl(),
              "VIPPS_READ_TIMEOUT",
              "10s",
              "BROKER_SHUTDOWN_GRACE",
              "20s");
      try (ChildBroker child = ChildBroker.start(env, Duration.ofSeconds(120))) {
        ChildSetup setup = new ChildSetup(child.baseUrl(), adminToken);
        String originToken = setup.store("graceful-origin", "acme", originKeys);
        String tillToken = setup.store("graceful-till", "acme", tillKeys);
        setup.registerOrder(originToken, "graceful-order", 9000);
        assertThat(Files.exists(dataDir.resolve("postgres").resolve("postmaster.pid"))).isTrue();
        vipps
            .sandbox()
            .inject(
                Fault.latency(Duration.ofMillis(1500))
                    .on(Fault.Target.REFUND)
                    .forReference("graceful-order"));

        CompletableFuture<HttpResponse<String>> inFlight =
            setup.refundAsync(tillToken, "graceful-1", refundBody("graceful-order", 4000));
        Poll.until(
            "Vipps received the refund",
            Duration.ofSeconds(30),
            () -> !vipps.requestsTo("/epayment/v1/payments/graceful-order/refund").isEmpty());
        int exit = child.terminate(Duration.ofSeconds(60));

        HttpResponse<String> answer = inFlight.get(5, TimeUnit.SECONDS);
        assertThat(answer.statusCode()).as("%s%n%s", answer.body(), child.output()).isEqualTo(201);
        assertThat(new JsonObject(answer.body()).getString("status")).isEqualTo("SUCCEEDED");
        assertThat(exit).as(child.output()).isZero();
        assertThat(child.output()).contains("refund-broker stopped");
        assertThat(Files.exists(dataDir.resolve("postgres").resolve("postmaster.pid")))
            .as("embedded PostgreSQL shut down")
            .isFalse();
      }
      assertThat(vipps.sandbox().ledger()).hasSize(1);
      vipps.assertNoViolations();
    }
  }
}
