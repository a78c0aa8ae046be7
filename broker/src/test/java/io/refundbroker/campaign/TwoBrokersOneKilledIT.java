package io.refundbroker.campaign;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.audit.AuditLinkRepository;
import io.refundbroker.auth.Tokens;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.testing.AuditLinks;
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
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16, faults: two broker processes on one database share the reconciler, the audit sequencer
 * and the credential cache invalidation; refunds go round-robin to both, and the one that leads the
 * sequencer is killed (SIGKILL) with refunds in flight. Without restarting it, the survivor settles
 * the dead one's PENDING/UNKNOWN refunds exactly once, takes the sequencer over and links every
 * committed event exactly once, and still rotates keys and refunds with them.
 *
 * <p>Size: {@code -Dfaults.twoBrokers.orders} orders (24 by default, two refunds each), seed {@code
 * -Dfaults.seed}.
 */
class TwoBrokersOneKilledIT {
  private static final Duration READY = Duration.ofSeconds(90);
  private static final Duration WITHIN = Duration.ofSeconds(60);
  private static final long SEED = Long.getLong("faults.seed", 20261130L);
  private static final int ORDERS = Integer.getInteger("faults.twoBrokers.orders", 24);
  private static final long CAPTURED = 20_000;
  private static final String ORIGIN_MSN = "820001";

  @TempDir Path dataDir;

  @Test
  void theSurvivorSettlesTheKilledInstancesRefundsAndTakesTheChainOver() throws Exception {
    TestDatabase db = TestPostgres.newDatabase();
    String adminToken = Tokens.newToken();
    try (TestSandbox vipps = TestSandbox.start()) {
      Map<String, String> env = ChildEnv.of(db, dataDir, adminToken, vipps, Duration.ofSeconds(3));
      StoreCredentials originKeys = vipps.newStore(ORIGIN_MSN);
      StoreCredentials tillKeys = vipps.newStore("820002");
      for (int i = 0; i < ORDERS; i++) {
        vipps
            .sandbox()
            .seedPayment(
                SandboxPayment.captured(
                    ORIGIN_MSN,
                    order(i),
                    VippsApi.EPAYMENT,
                    new Money(CAPTURED, "NOK"),
                    Instant.now()));
      }
      // A leads the sequencer: it starts first
      ChildBroker a = ChildBroker.start(env, READY);
      try (ChildBroker b = ChildBroker.start(env, READY)) {
        ChildSetup onA = new ChildSetup(a.baseUrl(), adminToken);
        ChildSetup onB = new ChildSetup(b.baseUrl(), adminToken);
        String originToken = onA.store("two-origin", "two", originKeys);
        String tillToken = onB.store("two-till", "two", tillKeys);
        for (int i = 0; i < ORDERS; i++) {
          (i % 2 == 0 ? onA : onB).registerOrder(originToken, order(i), CAPTURED);
        }
        AuditLinks.await(db);
        List<Integer> leaderBefore = sequencerHolders(db);
        assertThat(leaderBefore).as("one instance leads the sequencer").hasSize(1);

        // a third of the refund calls take 1.5 s at Vipps: refunds are in flight when A dies
        vipps
            .sandbox()
            .inject(
                Fault.latency(Duration.ofMillis(1_500))
                    .on(Fault.Target.REFUND)
                    .always()
                    .withProbability(0.33, SEED));
        Map<String, CompletableFuture<HttpResponse<String>>> sent = new HashMap<>();
        for (int i = 0; i < ORDERS; i++) {
          String key = "two-" + i + "-0";
          ChildSetup to = i % 2 == 0 ? onA : onB;
          String token = i % 4 < 2 ? tillToken : originToken;
          sent.put(key, to.refundAsync(token, key, refundBody(order(i), 6_000)));
        }
        Poll.until(
            "refunds written ahead on both instances, some still waiting for Vipps",
            WITHIN,
            () ->
                db.queryLong("SELECT count(*) FROM refunds WHERE order_id LIKE 'two-order-%'")
                        >= ORDERS / 2
                    && db.queryLong(
                            "SELECT count(*) FROM refunds WHERE order_id LIKE 'two-order-%'"
                                + " AND status = 'PENDING'")
                        > 0);
        a.kill();
        Instant killed = Instant.now();
        long pendingAtKill =
            db.queryLong(
                "SELECT count(*) FROM refunds WHERE order_id LIKE 'two-order-%'"
                    + " AND status IN ('PENDING', 'UNKNOWN')");

        // the load goes on against the survivor (the load balancer's doing)
        for (int i = 0; i < ORDERS; i++) {
          String key = "two-" + i + "-1";
          sent.put(key, onB.refundAsync(tillToken, key, refundBody(order(i), 7_000)));
        }
        Set<String> acknowledged = new HashSet<>();
        int unanswered = 0;
        Map<Integer, Integer> statuses = new HashMap<>();
        for (var entry : sent.entrySet()) {
          HttpResponse<String> reply = answer(entry.getValue());
          if (reply == null) {
            unanswered++;
            continue;
          }
          statuses.merge(reply.statusCode(), 1, Integer::sum);
          assertThat(reply.statusCode()).as(entry.getKey() + ": " + reply.body()).isIn(201, 202);
          acknowledged.add(new JsonObject(reply.body()).getString("refundId"));
        }
        assertThat(unanswered)
            .as("only requests to the killed instance went unanswered")
            .isLessThanOrEqualTo(ORDERS / 2);

        Poll.until(
            "the survivor settled every refund",
            WITHIN,
            () ->
                db.queryLong("SELECT count(*) FROM refunds WHERE status IN ('PENDING', 'UNKNOWN')")
                    == 0);
        double settledSeconds = Duration.between(killed, Instant.now()).toMillis() / 1000.0;
        AuditLinks.await(db);
        double linkedSeconds = Duration.between(killed, Instant.now()).toMillis() / 1000.0;
        List<Integer> leaderAfter = sequencerHolders(db);
        assertThat(leaderAfter).as("one instance leads the sequencer").hasSize(1);
        assertThat(leaderAfter)
            .as("the lead moved to the survivor")
            .doesNotContainAnyElementsOf(leaderBefore);

        int applied = checkMoney(db, vipps, acknowledged);
        checkChain(db, onB);

        // the survivor still rotates the origin's keys, and refunds with the new ones
        StoreCredentials rotated = vipps.rotate(ORIGIN_MSN, 2);
        ChildSetup.expect(
            onB.send(
                "PUT",
                "/v1/admin/stores/two-origin/credentials",
                adminToken,
                new JsonObject()
                    .put("clientId", rotated.clientId())
                    .put("clientSecret", rotated.clientSecret().reveal())
                    .put("subscriptionKey", rotated.subscriptionKey().reveal())),
            200);
        vipps.sandbox().clearFaults();
        HttpResponse<String> after =
            onB.refundAsync(tillToken, "two-after-rotation", refundBody(order(0), 1_000))
                .get(30, TimeUnit.SECONDS);
        assertThat(after.statusCode()).as(after.body()).isEqualTo(201);
        assertThat(vipps.sandbox().ledger())
            .filteredOn(e -> e.reference().equals(order(0)) && e.amount().value() == 1_000)
            .singleElement()
            .satisfies(e -> assertThat(e.clientId()).isEqualTo(rotated.clientId()));

        System.out.printf(
            "faults: two brokers, seed %d, %d refunds sent (%d acknowledged, %d unanswered by the"
                + " killed instance, statuses %s), %d unresolved at the kill; 0 double, 0 lost,"
                + " %d applied at Vipps; all settled %.1f s and all events linked %.1f s after the"
                + " kill, without restarting it%n",
            SEED,
            sent.size(),
            acknowledged.size(),
            unanswered,
            statuses,
            pendingAtKill,
            applied,
            settledSeconds,
            linkedSeconds);
      } finally {
        a.close();
      }
      vipps.assertNoViolations();
    }
  }

  /** The answer, or null when the connection died with the killed instance. */
  private static HttpResponse<String> answer(CompletableFuture<HttpResponse<String>> reply)
      throws InterruptedException, TimeoutException {
    try {
      return reply.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return null;
    }
  }

  /** Ledger against the refunds table; returns how many refunds Vipps applied. */
  private static int checkMoney(TestDatabase db, TestSandbox vipps, Set<String> acknowledged) {
    List<LedgerEntry> ledger =
        vipps.sandbox().ledger().stream()
            .filter(e -> e.reference().startsWith("two-order-"))
            .toList();
    Map<String, Integer> appliedPerKey = new HashMap<>();
    Map<String, Long> appliedPerOrder = new HashMap<>();
    for (LedgerEntry e : ledger) {
      appliedPerKey.merge(e.idempotencyKey(), 1, Integer::sum);
      appliedPerOrder.merge(e.reference(), e.amount().value(), Long::sum);
    }
    assertThat(appliedPerKey.values()).as("[seed %d] applied twice", SEED).allMatch(n -> n == 1);
    List<Map<String, Object>> rows =
        db.query(
            "SELECT refund_id::text AS id, upstream_key, status FROM refunds"
                + " WHERE order_id LIKE 'two-order-%'");
    Set<String> ids = new HashSet<>();
    Set<String> keys = new HashSet<>();
    for (Map<String, Object> row : rows) {
      ids.add((String) row.get("id"));
      String key = (String) row.get("upstream_key");
      keys.add(key);
      String status = (String) row.get("status");
      if (status.equals("SUCCEEDED")) {
        assertThat(appliedPerKey).as("SUCCEEDED, never applied: %s", row).containsKey(key);
      } else {
        assertThat(status).as("%s", row).isEqualTo("FAILED");
        assertThat(appliedPerKey).as("FAILED but applied: %s", row).doesNotContainKey(key);
      }
    }
    assertThat(ids)
        .as("[seed %d] acknowledged refunds all present", SEED)
        .containsAll(acknowledged);
    assertThat(keys)
        .as("applied at Vipps with a key no refund has")
        .containsAll(appliedPerKey.keySet());
    appliedPerOrder.forEach(
        (order, total) ->
            assertThat(total).as("applied on %s", order).isLessThanOrEqualTo(CAPTURED));
    return ledger.size();
  }

  /** Every committed event linked exactly once, gap-free, and the trail verifies. */
  private static void checkChain(TestDatabase db, ChildSetup survivor) {
    long entries = db.queryLong("SELECT count(*) FROM audit_entries");
    assertThat(db.queryLong("SELECT count(*) FROM audit_links"))
        .as("every event linked")
        .isEqualTo(entries);
    assertThat(db.queryLong("SELECT count(DISTINCT event_id) FROM audit_links"))
        .as("none twice")
        .isEqualTo(entries);
    assertThat(db.queryLong("SELECT max(seq) FROM audit_links")).as("gap-free").isEqualTo(entries);
    String auditor = survivor.token("AUDITOR", null);
    HttpResponse<String> verify = survivor.send("GET", "/v1/audit/verify", auditor, null);
    ChildSetup.expect(verify, 200);
    JsonObject verdict = new JsonObject(verify.body());
    assertThat(verdict.getBoolean("valid")).as(verdict.encode()).isTrue();
  }

  /** The server processes (one per broker session) holding the sequencer's lock. */
  private static List<Integer> sequencerHolders(TestDatabase db) {
    return db
        .query(
            "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = ?"
                + " AND a.datname = ?",
            AuditLinkRepository.SEQUENCER_LOCK,
            db.name())
        .stream()
        .map(r -> ((Number) r.get("pid")).intValue())
        .toList();
  }

  private static String order(int i) {
    return String.format("two-order-%04d", i);
  }
}
