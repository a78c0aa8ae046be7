package io.refundbroker.refund;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.auth.Tokens;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.ChildBroker;
import io.refundbroker.testing.ChildEnv;
import io.refundbroker.testing.ChildSetup;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.TestSandbox;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker process dies (SIGKILL) after committing a PENDING refund and before Vipps answers; the
 * restarted broker finishes the refund exactly once.
 */
class RefundCrashIT {
  private static final Duration READY = Duration.ofSeconds(90);

  @TempDir Path dataDir;

  @Test
  void aRefundInterruptedByACrashCompletesExactlyOnceAfterRestart() throws Exception {
    TestDatabase db = TestPostgres.newDatabase();
    String adminToken = Tokens.newToken();
    try (TestSandbox vipps = TestSandbox.start()) {
      Map<String, String> env = ChildEnv.of(db, dataDir, adminToken, vipps, Duration.ofSeconds(5));
      StoreCredentials originKeys = vipps.newStore("700001");
      StoreCredentials tillKeys = vipps.newStore("700002");
      vipps
          .sandbox()
          .seedPayment(
              io.refundbroker.sandbox.SandboxPayment.captured(
                  "700001",
                  "crash-order-1",
                  io.refundbroker.salesunit.VippsApi.EPAYMENT,
                  new io.refundbroker.money.Money(25000, "NOK"),
                  java.time.Instant.now()));

      String refundId;
      try (ChildBroker first = ChildBroker.start(env, READY)) {
        ChildSetup setup = new ChildSetup(first.baseUrl(), adminToken);
        String originToken = setup.store("crash-origin", "acme", originKeys);
        String tillToken = setup.store("crash-till", "acme", tillKeys);
        setup.registerOrder(originToken, "crash-order-1", 25000);
        vipps
            .sandbox()
            .inject(
                Fault.latency(Duration.ofSeconds(2))
                    .on(Fault.Target.REFUND)
                    .forReference("crash-order-1"));

        setup.refundAsync(tillToken, "crash-key-1", refundBody("crash-order-1", 12000));
        refundId =
            Poll.value(
                "the refund written ahead as PENDING",
                Duration.ofSeconds(30),
                () -> {
                  List<Map<String, Object>> rows =
                      db.query(
                          "SELECT refund_id::text AS id, status FROM refunds WHERE order_id = 'crash-order-1'");
                  return rows.isEmpty() ? null : (String) rows.get(0).get("id");
                });
        assertThat(
                db.query("SELECT status FROM refunds WHERE refund_id = ?::uuid", refundId).get(0))
            .containsEntry("status", "PENDING");
        first.kill();
      }
      Await.result(vipps.sandbox().whenIdle());
      assertThat(db.query("SELECT status FROM refunds WHERE refund_id = ?::uuid", refundId).get(0))
          .as("the crash left the refund unresolved")
          .containsEntry("status", "PENDING");

      try (ChildBroker second = ChildBroker.start(env, READY)) {
        Poll.until(
            "the restarted broker settles the refund",
            Duration.ofSeconds(60),
            () ->
                "SUCCEEDED"
                    .equals(
                        db.query("SELECT status FROM refunds WHERE refund_id = ?::uuid", refundId)
                            .get(0)
                            .get("status")));

        List<LedgerEntry> applied =
            vipps.sandbox().ledger().stream()
                .filter(e -> e.reference().equals("crash-order-1"))
                .toList();
        assertThat(applied)
            .singleElement()
            .satisfies(
                e -> {
                  assertThat(e.idempotencyKey()).isEqualTo(refundId);
                  assertThat(e.amount().value()).isEqualTo(12000);
                  assertThat(e.clientId()).isEqualTo(originKeys.clientId());
                });
        AuditLinks.await(db);
        assertThat(
                db.query(
                    "SELECT action FROM audit_events WHERE subject_id = ? ORDER BY seq", refundId))
            .extracting(r -> r.get("action"))
            .containsExactly("refund.requested", "refund.succeeded");

        ChildSetup setup = new ChildSetup(second.baseUrl(), adminToken);
        String tillToken = setup.store("crash-till-2", "acme", vipps.newStore("700003"));
        HttpResponse<String> other =
            setup.refundAsync(tillToken, "crash-key-2", refundBody("crash-order-1", 13000)).get();
        assertThat(other.statusCode()).as(other.body()).isEqualTo(201);
        HttpResponse<String> tooMuch =
            setup.refundAsync(tillToken, "crash-key-3", refundBody("crash-order-1", 1)).get();
        assertThat(new JsonObject(tooMuch.body()).getString("code"))
            .isEqualTo("REFUND_EXCEEDS_REFUNDABLE");
      }
      assertThat(
              vipps.sandbox().ledger().stream()
                  .filter(e -> e.reference().equals("crash-order-1"))
                  .mapToLong(e -> e.amount().value())
                  .sum())
          .isEqualTo(25000);
      vipps.assertNoViolations();
    }
  }
}
