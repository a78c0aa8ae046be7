package io.refundbroker.campaign;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.db.ClusterOutage;
import io.refundbroker.db.EmbeddedDatabase;
import io.refundbroker.db.Migrations;
import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.testing.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16, faults: the broker's PostgreSQL is stopped the abrupt way ({@code pg_ctl stop -m
 * immediate}) with refunds in flight, and started again on the same data directory and port. The
 * same broker process, never restarted, answers 503 problem+json meanwhile (no 500, no stack
 * trace), comes back by itself — readiness UP and a refund accepted, both timed from the moment
 * PostgreSQL is up — and afterwards: every acknowledged refund is there, none applied twice at
 * Vipps, the reconciler settles what was left open, a retry with the same Idempotency-Key never
 * makes a second refund, and the sequencer links every event into a valid chain.
 *
 * <p>Size: {@code -Dfaults.outage.orders} orders (30 by default), seed {@code -Dfaults.seed}.
 */
class PostgresOutageIT {
  private static final long SEED = Long.getLong("faults.seed", 20261130L);
  private static final int ORDERS = Integer.getInteger("faults.outage.orders", 30);
  private static final Duration WITHIN = Duration.ofSeconds(60);
  private static final long CAPTURED = 50_000;

  @TempDir Path dir;

  /** One request the test sent, and what it got. */
  private record Sent(Shop by, String key, JsonObject body, HttpResult reply) {}

  @Test
  void theSameBrokerRecoversFromAnImmediateShutdownOfItsDatabase() {
    EmbeddedDatabase pg = EmbeddedDatabase.start(dir.resolve("cluster"));
    try {
      String version =
          Migrations.migrate(pg.ownerUrl(EmbeddedDatabase.DATABASE), EmbeddedDatabase.APP_USER);
      TestDatabase db =
          new TestDatabase(
              pg.appUrl(EmbeddedDatabase.DATABASE),
              pg.ownerUrl(EmbeddedDatabase.DATABASE),
              version,
              EmbeddedDatabase.DATABASE);
      try (RefundWorld world =
          RefundWorld.start(b -> b.database(db).env("VIPPS_READ_TIMEOUT", "3s"))) {
        run(world, pg, db);
      }
    } finally {
      pg.close();
    }
  }

  private void run(RefundWorld world, EmbeddedDatabase pg, TestDatabase db) {
    Shop origin = world.shop("pg-origin", "pg", "830001");
    Shop till = world.shop("pg-till", "pg", "830002");
    for (int i = 0; i < ORDERS; i++) {
      world.sale(origin, order(i), CAPTURED);
    }
    world.sale(origin, "pg-probe", 1_000_000);
    String auditor = world.broker.issueToken("AUDITOR", null);
    // half of the refund calls take 0.8 s at Vipps: refunds are in flight when PostgreSQL stops
    world
        .vipps
        .sandbox()
        .inject(
            Fault.latency(Duration.ofMillis(800))
                .on(Fault.Target.REFUND)
                .always()
                .withProbability(0.5, SEED));

    Map<String, Future<HttpResult>> inFlight = new LinkedHashMap<>();
    Map<String, JsonObject> bodies = new HashMap<>();
    for (int i = 0; i < ORDERS; i++) {
      String key = "pg-" + i + "-0";
      bodies.put(key, refundBody(order(i), 10_000));
      inFlight.put(key, world.refundAsync(i % 2 == 0 ? till : origin, key, bodies.get(key)));
    }
    Poll.until(
        "a third of the refunds written ahead",
        WITHIN,
        () -> db.queryLong("SELECT count(*) FROM refunds") >= ORDERS / 3);
    long linksBefore = db.queryLong("SELECT count(*) FROM audit_links");
    ClusterOutage.stopImmediately(pg);

    List<Sent> sent = new ArrayList<>();
    for (int i = 0; i < ORDERS; i++) {
      String key = "pg-" + i + "-0";
      Shop by = i % 2 == 0 ? till : origin;
      sent.add(new Sent(by, key, bodies.get(key), Await.result(inFlight.get(key), WITHIN)));
    }

    // PostgreSQL is down: refunds, reads and readiness answer 503, never 500
    List<HttpResult> duringOutage = new ArrayList<>();
    for (int i = 0; i < ORDERS / 3; i++) {
      String key = "pg-" + i + "-down";
      JsonObject body = refundBody(order(i), 1_000);
      HttpResult reply = world.refund(till, key, body);
      sent.add(new Sent(till, key, body, reply));
      duringOutage.add(reply);
    }
    HttpResult lookup = world.broker.get("/v1/orders/" + order(0), till.token());
    HttpResult ready = world.broker.get("/health/ready", null);
    assertThat(ready.status()).as(ready.toString()).isEqualTo(503);
    assertThat(lookup.status()).as(lookup.toString()).isEqualTo(503);
    duringOutage.add(lookup);
    for (HttpResult reply : duringOutage) {
      assertThat(reply.status()).as(reply.toString()).isEqualTo(503);
      assertProblemWithoutStackTrace(reply);
    }
    Map<String, Integer> firstAnswers = new TreeMap<>();
    for (Sent s : sent) {
      HttpResult reply = s.reply();
      firstAnswers.merge(
          reply.status() + (reply.status() >= 400 ? " " + reply.code() : ""), 1, Integer::sum);
      assertThat(reply.status()).as(s.key() + ": " + reply).isIn(201, 202, 503);
      if (reply.status() == 503) {
        assertProblemWithoutStackTrace(reply);
      }
    }

    long up = System.nanoTime();
    ClusterOutage.startAgain(pg);
    long upAt = System.nanoTime();
    Poll.until(
        "readiness UP again",
        WITHIN,
        () -> world.broker.get("/health/ready", null).status() == 200);
    double readySeconds = (System.nanoTime() - upAt) / 1e9;
    AtomicInteger probes = new AtomicInteger();
    Poll.until(
        "a refund accepted again",
        WITHIN,
        () -> {
          HttpResult probe =
              world.refund(
                  till, "pg-probe-" + probes.incrementAndGet(), refundBody("pg-probe", 100));
          if (probe.status() != 201) {
            assertThat(probe.status()).as(probe.toString()).isEqualTo(503);
            assertProblemWithoutStackTrace(probe);
          }
          return probe.status() == 201;
        });
    double refundSeconds = (System.nanoTime() - upAt) / 1e9;
    double restartSeconds = (upAt - up) / 1e9;

    // the load goes on
    for (int i = 0; i < ORDERS; i++) {
      String key = "pg-" + i + "-after";
      JsonObject body = refundBody(order(i), 5_000);
      HttpResult reply = world.refund(origin, key, body);
      assertThat(reply.status()).as(reply.toString()).isIn(201, 202);
      sent.add(new Sent(origin, key, body, reply));
    }
    world.vipps.sandbox().clearFaults();
    world.reconcileUntilResolved(10);
    assertThat(world.unresolved()).as("left PENDING/UNKNOWN").isZero();

    // a caller that got a 503 tries again with the same key: never a second refund
    int retried = 0;
    for (Sent s : List.copyOf(sent)) {
      if (s.reply().status() == 503) {
        HttpResult again = world.refund(s.by(), s.key(), s.body());
        assertThat(again.status()).as(s.key() + " again: " + again).isIn(201, 202);
        sent.add(new Sent(s.by(), s.key(), s.body(), again));
        retried++;
      }
    }
    world.reconcileUntilResolved(10);
    assertThat(world.unresolved()).as("left PENDING/UNKNOWN").isZero();

    int applied = checkMoney(world, db, sent);
    AuditLinks.await(db);
    assertThat(db.queryLong("SELECT count(*) FROM audit_links"))
        .as("the sequencer linked events after the outage")
        .isGreaterThan(linksBefore);
    long entries = db.queryLong("SELECT count(*) FROM audit_entries");
    assertThat(db.queryLong("SELECT count(DISTINCT event_id) FROM audit_links"))
        .as("every event linked once")
        .isEqualTo(entries);
    HttpResult verified = world.broker.get("/v1/audit/verify", auditor);
    assertThat(verified.status()).as(verified.toString()).isEqualTo(200);
    assertThat(verified.json().getBoolean("valid")).as(verified.toString()).isTrue();

    System.out.printf(
        "faults: PostgreSQL immediate shutdown, seed %d, %d orders; answers before the restart %s;"
            + " pg_ctl start (crash recovery) %.1f s; then readiness UP in %.1f s, first refund"
            + " accepted in %.1f s (%d probes), same broker process; %d retried with the same"
            + " key; 0 double, 0 lost, %d applied at Vipps; chain valid (%d events)%n",
        SEED,
        ORDERS,
        firstAnswers,
        restartSeconds,
        readySeconds,
        refundSeconds,
        probes.get(),
        retried,
        applied,
        entries);
  }

  /**
   * Each refund applied at most once, every SUCCEEDED one applied, nothing applied without a row,
   * every acknowledged refund present, and a key's retries map to one refund.
   */
  private static int checkMoney(RefundWorld world, TestDatabase db, List<Sent> sent) {
    List<LedgerEntry> ledger =
        world.ledger().stream().filter(e -> e.reference().startsWith("pg-")).toList();
    Map<String, Integer> appliedPerKey = new HashMap<>();
    for (LedgerEntry e : ledger) {
      appliedPerKey.merge(e.idempotencyKey(), 1, Integer::sum);
    }
    assertThat(appliedPerKey.values()).as("[seed %d] applied twice", SEED).allMatch(n -> n == 1);
    Set<String> ids = new HashSet<>();
    Set<String> keys = new HashSet<>();
    for (Map<String, Object> row :
        db.query("SELECT refund_id::text AS id, upstream_key, status, order_id FROM refunds")) {
      if (!row.get("order_id").equals("pg-probe")) {
        ids.add((String) row.get("id"));
      }
      String key = (String) row.get("upstream_key");
      keys.add(key);
      if (row.get("status").equals("SUCCEEDED")) {
        assertThat(appliedPerKey).as("SUCCEEDED, never applied: %s", row).containsKey(key);
      } else {
        assertThat(row.get("status")).as("%s", row).isEqualTo("FAILED");
        assertThat(appliedPerKey).as("FAILED but applied: %s", row).doesNotContainKey(key);
      }
    }
    assertThat(keys).as("applied with a key no refund has").containsAll(appliedPerKey.keySet());
    Map<String, Set<String>> refundsPerKey = new HashMap<>();
    for (Sent s : sent) {
      if (s.reply().status() == 201 || s.reply().status() == 202) {
        String refundId = s.reply().json().getString("refundId");
        assertThat(ids).as("acknowledged %s present", s.key()).contains(refundId);
        refundsPerKey.computeIfAbsent(s.key(), k -> new HashSet<>()).add(refundId);
      }
    }
    refundsPerKey.forEach(
        (key, refunds) -> assertThat(refunds).as("refunds for key %s", key).hasSize(1));
    assertThat(ids.size())
        .as("one refund per acknowledged key, and none for a key never acknowledged")
        .isEqualTo(refundsPerKey.size());
    return ledger.size();
  }

  private static void assertProblemWithoutStackTrace(HttpResult reply) {
    assertThat(reply.header("Content-Type"))
        .as(reply.toString())
        .startsWith("application/problem+json");
    assertThat(reply.code()).as(reply.toString()).isNotBlank();
    assertThat(reply.text())
        .as("no stack trace")
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
  }

  private static String order(int i) {
    return String.format("pg-order-%04d", i);
  }
}
