package io.refundbroker.campaign;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.auth.Tokens;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.sabotage.Sabotage;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.SandboxPayment;
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
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The broker process dies at each point between "refund committed" and "answer sent" (a {@link
 * Sabotage} crash point: {@code Runtime.halt}, as SIGKILL), deterministically, then a broker
 * started without it on the same database settles the refund: applied at Vipps exactly once,
 * SUCCEEDED, the store's retry with the same Idempotency-Key answers the same refund, the total
 * never above captured, the audit trail valid. Prints one line per point.
 */
class CrashPointsIT {
  private static final Duration READY = Duration.ofSeconds(90);
  private static final String ORIGIN_MSN = "710001";
  private static final long CAPTURED = 25000;
  private static final long AMOUNT = 12000;

  /** Where the first broker dies, and what Vipps has seen by then. */
  enum Point {
    /** Written ahead, the Vipps request not sent: Vipps never gets it; the reconciler resends. */
    BEFORE_VIPPS_CALL(Sabotage.CRASH_BEFORE_VIPPS_CALL, null, "PENDING", false),
    /**
     * Sent and applied at Vipps, no answer received (the sandbox applies it, then drops the
     * connection), the broker dies before recording anything.
     */
    APPLIED_NO_ANSWER(
        Sabotage.CRASH_BEFORE_OUTCOME,
        Fault.applyThenDrop().on(Fault.Target.REFUND),
        "PENDING",
        true),
    /** Vipps answered 2xx; the outcome's transaction not committed. */
    ANSWERED_2XX_BEFORE_OUTCOME(Sabotage.CRASH_BEFORE_OUTCOME, null, "PENDING", true),
    /** The outcome committed, the HTTP answer to the store not sent. */
    OUTCOME_COMMITTED_BEFORE_ANSWER(Sabotage.CRASH_BEFORE_ANSWER, null, "SUCCEEDED", true);

    final Sabotage crashPoint;
    final Fault fault;
    final String statusAtCrash;
    final boolean vippsHadIt;

    Point(Sabotage crashPoint, Fault fault, String statusAtCrash, boolean vippsHadIt) {
      this.crashPoint = crashPoint;
      this.fault = fault;
      this.statusAtCrash = statusAtCrash;
      this.vippsHadIt = vippsHadIt;
    }
  }

  @TempDir Path dataDir;

  @ParameterizedTest
  @EnumSource(Point.class)
  void aBrokerKilledAtThePointAndRestartedAppliesTheRefundExactlyOnce(Point point)
      throws Exception {
    TestDatabase db = TestPostgres.newDatabase();
    String adminToken = Tokens.newToken();
    String order = "crashpoint-" + point.name().toLowerCase(Locale.ROOT).replace('_', '-');
    String key = "crashpoint-key-" + point.ordinal();
    JsonObject body = refundBody(order, AMOUNT);
    try (TestSandbox vipps = TestSandbox.start()) {
      Map<String, String> env = ChildEnv.of(db, dataDir, adminToken, vipps, Duration.ofSeconds(2));
      StoreCredentials originKeys = vipps.newStore(ORIGIN_MSN);
      StoreCredentials tillKeys = vipps.newStore("710002");
      vipps
          .sandbox()
          .seedPayment(
              SandboxPayment.captured(
                  ORIGIN_MSN, order, VippsApi.EPAYMENT, new Money(CAPTURED, "NOK"), Instant.now()));

      Path firstLog = Files.createTempFile("crashpoint-first", ".log");
      String tillToken;
      try (ChildBroker first =
          ChildBroker.start(
              null,
              List.of("-Xmx256m", "-D" + Sabotage.PROPERTY + "=" + point.crashPoint.name()),
              withOneVerticle(env),
              firstLog,
              READY)) {
        ChildSetup setup = new ChildSetup(first.baseUrl(), adminToken);
        String originToken = setup.store("cp-origin", "acme", originKeys);
        tillToken = setup.store("cp-till", "acme", tillKeys);
        setup.registerOrder(originToken, order, CAPTURED);
        if (point.fault != null) {
          vipps.sandbox().inject(point.fault.forReference(order).times(1));
        }

        CompletableFuture<HttpResponse<String>> unanswered =
            setup.refundAsync(tillToken, key, body);
        assertThat(first.awaitExit(Duration.ofSeconds(60)))
            .as("the first broker halted at %s:\n%s", point.crashPoint, first.tail(40))
            .isEqualTo(Sabotage.CRASH_EXIT_CODE);
        assertThat(first.countLines("crash point " + point.crashPoint.name() + ": halting"))
            .as("it died at %s", point.crashPoint)
            .isEqualTo(1);
        assertThat(answerOf(unanswered)).as("the store got no answer").isNull();
      }
      Await.result(vipps.sandbox().whenIdle());

      List<Map<String, Object>> rows =
          db.query("SELECT refund_id::text AS id, status FROM refunds WHERE order_id = ?", order);
      assertThat(rows).as("one refund written ahead").hasSize(1);
      String refundId = (String) rows.get(0).get("id");
      String statusAtCrash = (String) rows.get(0).get("status");
      assertThat(statusAtCrash).as("the refund at the crash").isEqualTo(point.statusAtCrash);
      int appliedAtCrash = applied(vipps, order).size();
      assertThat(appliedAtCrash)
          .as("refunds Vipps applied before the restart")
          .isEqualTo(point.vippsHadIt ? 1 : 0);

      try (ChildBroker second = ChildBroker.start(env, READY)) {
        Instant restarted = Instant.now();
        Poll.until(
            "the restarted broker settles the refund",
            Duration.ofSeconds(60),
            () -> "SUCCEEDED".equals(status(db, refundId)));
        double settledSeconds = Duration.between(restarted, Instant.now()).toMillis() / 1000.0;

        assertThat(applied(vipps, order))
            .as("applied at Vipps exactly once, with the refund's own key and the origin's keys")
            .singleElement()
            .satisfies(
                e -> {
                  assertThat(e.idempotencyKey()).isEqualTo(refundId);
                  assertThat(e.amount().value()).isEqualTo(AMOUNT);
                  assertThat(e.clientId()).isEqualTo(originKeys.clientId());
                });

        ChildSetup setup = new ChildSetup(second.baseUrl(), adminToken);
        HttpResponse<String> retried = setup.refundAsync(tillToken, key, body).get(60, SECONDS);
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(201);
        assertThat(retried.headers().firstValue("Idempotent-Replayed")).contains("true");
        JsonObject replayed = new JsonObject(retried.body());
        assertThat(replayed.getString("refundId")).isEqualTo(refundId);
        assertThat(replayed.getString("status")).isEqualTo("SUCCEEDED");

        AuditLinks.await(db);
        assertThat(
                db.query(
                    "SELECT action FROM audit_events WHERE subject_id = ? ORDER BY seq", refundId))
            .extracting(r -> r.get("action"))
            .containsExactly("refund.requested", "refund.succeeded");
        HttpResponse<String> verify =
            setup.send("GET", "/v1/audit/verify", setup.token("AUDITOR", null), null);
        ChildSetup.expect(verify, 200);
        JsonObject verdict = new JsonObject(verify.body());
        assertThat(verdict.getBoolean("valid")).as(verdict.encode()).isTrue();

        List<LedgerEntry> after = applied(vipps, order);
        long total = after.stream().mapToLong(e -> e.amount().value()).sum();
        assertThat(after).as("no second refund after the retry").hasSize(1);
        assertThat(total).as("refunded ≤ captured").isLessThanOrEqualTo(CAPTURED);
        long lost =
            db.queryLong("SELECT count(*) FROM refunds WHERE status <> 'SUCCEEDED'")
                + (after.isEmpty() ? 1 : 0);
        System.out.printf(
            Locale.ROOT,
            "crash point %s (%s): refund %s at the crash, Vipps had it: %s; settled in %.1f s"
                + " after restart; %d double, %d lost%n",
            point,
            point.crashPoint,
            statusAtCrash,
            appliedAtCrash == 1 ? "yes" : "no",
            settledSeconds,
            after.size() - 1,
            lost);
      }
      vipps.assertNoViolations();
    }
  }

  private static final TimeUnit SECONDS = TimeUnit.SECONDS;

  /** The answer the store got, or null when the connection ended without one. */
  private static HttpResponse<String> answerOf(CompletableFuture<HttpResponse<String>> call)
      throws InterruptedException {
    try {
      return call.get(60, SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(IOException.class);
      return null;
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the refund call neither answered nor failed", e);
    }
  }

  private static List<LedgerEntry> applied(TestSandbox vipps, String order) {
    return vipps.sandbox().ledger().stream().filter(e -> e.reference().equals(order)).toList();
  }

  private static String status(TestDatabase db, String refundId) {
    return (String)
        db.query("SELECT status FROM refunds WHERE refund_id = ?::uuid", refundId)
            .get(0)
            .get("status");
  }

  private static Map<String, String> withOneVerticle(Map<String, String> env) {
    Map<String, String> copy = new HashMap<>(env);
    copy.put("BROKER_HTTP_INSTANCES", "1");
    return copy;
  }
}
