package io.refundbroker.campaign;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.sandbox.Fault;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.RecordedRequest;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue #16, faults: every kind of Vipps fault the sandbox can inject, at once and by seeded dice,
 * under concurrent refunds from four stores over many orders (each order refunded four times, more
 * than it captured), then the reconciler settles. Money is never doubled or lost, no refusal writes
 * anything, the audit trail verifies, and Vipps never sees more refund calls on one payment in a
 * minute than its limit (notes/vipps-api.md §10: 5 per minute per payment) — measured from the
 * sandbox's own record of what it received.
 *
 * <p>The sandbox keeps time by the broker's clock ({@link RefundWorld#startOnOneClock}), which
 * stands still during the load: every call on a payment during the load falls into one minute. The
 * reconciler's passes move it two hours each.
 *
 * <p>Size: {@code -Dfaults.orders} orders (40 by default, 160 refunds), seed {@code -Dfaults.seed}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MixedVippsFaultsIT {
  private static final long SEED = Long.getLong("faults.seed", 20261130L);
  private static final int ORDERS = Integer.getInteger("faults.orders", 40);
  private static final long CAPTURED = 30_000;
  private static final long[] AMOUNTS = {8_000, 9_000, 10_000, 11_000};

  /** Vipps: refund calls per payment (reference + MSN) per minute (notes/vipps-api.md §10). */
  private static final int VIPPS_REFUND_CALLS_PER_MINUTE = 5;

  /** Vipps: get payment / event log / details calls per payment per minute (§10). */
  private static final int VIPPS_READ_CALLS_PER_MINUTE = 120;

  private static final Pattern PAYMENT =
      Pattern.compile("^/(?:epayment/v1|ecomm/v2)/payments/([^/]+)(/refund)?");

  private RefundWorld world;
  private final List<Shop> shops = new ArrayList<>();

  @BeforeAll
  void start() {
    world =
        RefundWorld.startOnOneClock(
            b ->
                b.env("VIPPS_READ_TIMEOUT", "1s")
                    .env("VIPPS_MAX_ATTEMPTS", "3")
                    .env("DATABASE_POOL_SIZE", "24"));
    shops.add(world.shop("mix-origin-1", "mix", "810001"));
    shops.add(world.shop("mix-origin-2", "mix", "810002"));
    shops.add(world.shop("mix-till-1", "mix", "810003"));
    shops.add(world.shop("mix-till-2", "mix", "810004"));
  }

  @AfterAll
  void stop() {
    if (world != null) {
      world.vipps.assertNoViolations();
      world.close();
    }
  }

  @Test
  void mixedVippsFaultsUnderLoadNeverDoubleOrLoseMoneyNorBreakThePerPaymentLimit() {
    for (int i = 0; i < ORDERS; i++) {
      world.sale(shops.get(i % 2), order(i), CAPTURED);
    }
    injectFaults();

    Map<String, HttpResult> replies = new TreeMap<>();
    long loadStarted = System.nanoTime();
    int batchOrders = 10;
    for (int batch = 0; batch < ORDERS; batch += batchOrders) {
      Map<String, Future<HttpResult>> sent = new HashMap<>();
      for (int i = batch; i < Math.min(ORDERS, batch + batchOrders); i++) {
        for (int j = 0; j < AMOUNTS.length; j++) {
          String key = "mix-" + i + "-" + j;
          Shop requester = shops.get((i + j) % shops.size());
          sent.put(key, world.refundAsync(requester, key, refundBody(order(i), AMOUNTS[j])));
        }
      }
      Await.result(Future.join(new ArrayList<>(sent.values())), Duration.ofSeconds(90));
      sent.forEach((key, reply) -> replies.put(key, reply.result()));
    }
    double loadSeconds = (System.nanoTime() - loadStarted) / 1e9;

    Set<String> acknowledged = new HashSet<>();
    Map<String, Integer> refusals = new TreeMap<>();
    for (var entry : replies.entrySet()) {
      HttpResult reply = entry.getValue();
      String what = "[seed " + SEED + "] " + entry.getKey() + ": " + reply;
      if (reply.status() == 201 || reply.status() == 202) {
        String status = reply.json().getString("status");
        assertThat(status)
            .as(what)
            .isIn(reply.status() == 201 ? List.of("SUCCEEDED") : List.of("PENDING", "UNKNOWN"));
        acknowledged.add(reply.json().getString("refundId"));
      } else {
        assertThat(reply.status()).as(what).isIn(422, 429, 503);
        assertThat(reply.header("Content-Type")).as(what).startsWith("application/problem+json");
        assertThat(reply.code()).as(what).isNotBlank();
        refusals.merge(reply.status() + " " + reply.code(), 1, Integer::sum);
      }
    }

    long settleStarted = System.nanoTime();
    // three passes while Vipps still misbehaves, then Vipps recovers and the rest settle
    for (int pass = 0; pass < 3; pass++) {
      world.reconcileUntilResolved(1);
    }
    Map<Fault, Integer> fired = world.vipps.sandbox().faultsFired();
    world.vipps.sandbox().clearFaults();
    world.reconcileUntilResolved(20);
    double settleSeconds = (System.nanoTime() - settleStarted) / 1e9;
    assertThat(world.unresolved()).as("[seed %d] left PENDING/UNKNOWN", SEED).isZero();

    Ledger ledger = checkMoney(acknowledged);
    checkAuditTrail();
    Rates rates = measureRates();

    int faults = fired.values().stream().mapToInt(Integer::intValue).sum();
    Set<String> kinds = new TreeSet<>();
    fired.forEach((fault, n) -> kinds.add(label(fault)));
    System.out.printf(
        "faults: seed %d, %d faults of %d kinds (%s) over %d refunds (%d acknowledged, refused %s):"
            + " 0 double, 0 lost, %d applied at Vipps; load %.1f s, settled in %.1f s; max"
            + " per-payment refund calls per minute %d (limit %d), reads %d (limit %d)%n",
        SEED,
        faults,
        kinds.size(),
        kinds,
        replies.size(),
        acknowledged.size(),
        refusals,
        ledger.applied(),
        loadSeconds,
        settleSeconds,
        rates.refundsPerMinute(),
        VIPPS_REFUND_CALLS_PER_MINUTE,
        rates.readsPerMinute(),
        VIPPS_READ_CALLS_PER_MINUTE);
    assertThat(rates.refundsPerMinute())
        .as(
            "[seed %d] refund calls Vipps received on one payment within a minute: %s",
            SEED, rates.worstRefunds())
        .isLessThanOrEqualTo(VIPPS_REFUND_CALLS_PER_MINUTE);
    assertThat(rates.readsPerMinute()).isLessThanOrEqualTo(VIPPS_READ_CALLS_PER_MINUTE);
    assertThat(kinds).as("every kind of fault fired").hasSize(13);
  }

  /**
   * Refund faults, read faults and the token endpoint down: each kind once for the first requests
   * it can meet (so every kind fires whatever the interleaving), then each with its own seeded
   * dice.
   */
  private void injectFaults() {
    var sandbox = world.vipps.sandbox();
    Duration pastTheReadTimeout = Duration.ofSeconds(3);
    List<Fault> refund =
        List.of(
            Fault.latency(pastTheReadTimeout),
            Fault.reset(),
            Fault.applyThenDrop(),
            Fault.status(500),
            Fault.status(502),
            Fault.status(503),
            Fault.status(429),
            Fault.malformed());
    List<Fault> read =
        List.of(Fault.latency(pastTheReadTimeout), Fault.status(503), Fault.malformed());
    List<Fault> token = List.of(Fault.status(503), Fault.reset());
    refund.forEach(f -> sandbox.inject(f.on(Fault.Target.REFUND).times(1)));
    read.forEach(f -> sandbox.inject(f.on(Fault.Target.READ).times(1)));
    token.forEach(f -> sandbox.inject(f.on(Fault.Target.TOKEN).times(1)));
    long seed = SEED;
    double[] refundOdds = {0.05, 0.05, 0.06, 0.03, 0.03, 0.03, 0.04, 0.05};
    for (int i = 0; i < refund.size(); i++) {
      sandbox.inject(fault(refund.get(i), Fault.Target.REFUND, refundOdds[i], seed++));
    }
    for (Fault f : read) {
      sandbox.inject(fault(f, Fault.Target.READ, 0.05, seed++));
    }
    sandbox.inject(fault(token.get(0), Fault.Target.TOKEN, 0.3, seed++));
    sandbox.inject(fault(token.get(1), Fault.Target.TOKEN, 0.2, seed));
  }

  private static Fault fault(Fault kind, Fault.Target target, double p, long seed) {
    return kind.on(target).always().withProbability(p, seed);
  }

  private static String label(Fault fault) {
    String kind =
        fault.kind() == Fault.Kind.STATUS
            ? String.valueOf(fault.status())
            : fault.kind().wireName();
    return switch (fault.target()) {
      case TOKEN -> "token-" + kind;
      case READ -> "read-" + kind;
      default -> kind;
    };
  }

  private record Ledger(int applied) {}

  /**
   * Sandbox ledger against the refunds table: each refund applied at most once, every applied one
   * SUCCEEDED here with its amount, every SUCCEEDED one applied, every acknowledged one present,
   * nothing refused written, no order refunded above its capture (here or at Vipps).
   */
  private Ledger checkMoney(Set<String> acknowledged) {
    List<LedgerEntry> ledger =
        world.ledger().stream().filter(e -> e.reference().startsWith("mix-order-")).toList();
    Map<String, List<LedgerEntry>> appliedByKey = new HashMap<>();
    Map<String, Long> appliedByOrder = new HashMap<>();
    for (LedgerEntry entry : ledger) {
      appliedByKey.computeIfAbsent(entry.idempotencyKey(), k -> new ArrayList<>()).add(entry);
      appliedByOrder.merge(entry.reference(), entry.amount().value(), Long::sum);
    }
    appliedByKey.forEach(
        (key, entries) -> assertThat(entries).as("[seed %d] applied twice", SEED).hasSize(1));

    Map<String, Map<String, Object>> rows = new HashMap<>();
    for (var row :
        world
            .broker
            .database()
            .query(
                "SELECT refund_id::text AS id, upstream_key, status, order_id, amount_value"
                    + " FROM refunds WHERE order_id LIKE 'mix-order-%'")) {
      rows.put((String) row.get("upstream_key"), row);
    }
    Set<String> ids = new HashSet<>();
    rows.values().forEach(r -> ids.add((String) r.get("id")));
    assertThat(ids)
        .as("[seed %d] acknowledged refunds all present", SEED)
        .containsAll(acknowledged);
    assertThat(acknowledged)
        .as("[seed %d] rows only for acknowledged refunds", SEED)
        .containsAll(ids);

    Map<String, Long> succeededByOrder = new HashMap<>();
    for (var row : rows.values()) {
      String key = (String) row.get("upstream_key");
      String status = (String) row.get("status");
      long amount = ((Number) row.get("amount_value")).longValue();
      if (status.equals("SUCCEEDED")) {
        assertThat(appliedByKey)
            .as("[seed %d] SUCCEEDED, never applied: %s", SEED, key)
            .containsKey(key);
        assertThat(appliedByKey.get(key).get(0).amount().value()).isEqualTo(amount);
        succeededByOrder.merge((String) row.get("order_id"), amount, Long::sum);
      } else {
        assertThat(status).as("[seed %d] %s", SEED, row).isEqualTo("FAILED");
        assertThat(appliedByKey)
            .as("[seed %d] FAILED but applied: %s", SEED, key)
            .doesNotContainKey(key);
      }
    }
    assertThat(rows.keySet())
        .as("[seed %d] applied at Vipps with a key no refund has", SEED)
        .containsAll(appliedByKey.keySet());
    succeededByOrder.forEach(
        (order, total) ->
            assertThat(total).as("refunded of %s", order).isLessThanOrEqualTo(CAPTURED));
    appliedByOrder.forEach(
        (order, total) ->
            assertThat(total).as("applied at Vipps on %s", order).isLessThanOrEqualTo(CAPTURED));
    return new Ledger(ledger.size());
  }

  private void checkAuditTrail() {
    AuditLinks.await(world.broker.database());
    String auditor = world.broker.issueToken("AUDITOR", null);
    HttpResult verified = world.broker.get("/v1/audit/verify", auditor);
    assertThat(verified.status()).as(verified.toString()).isEqualTo(200);
    assertThat(verified.json().getBoolean("valid")).as(verified.toString()).isTrue();
  }

  private record Rates(int refundsPerMinute, int readsPerMinute, String worstRefunds) {}

  /** The most calls Vipps received on one payment within any minute (sandbox clock). */
  private Rates measureRates() {
    Await.result(world.vipps.sandbox().whenIdle());
    Map<String, List<Instant>> refunds = new HashMap<>();
    Map<String, List<Instant>> reads = new HashMap<>();
    for (RecordedRequest request : world.vipps.sandbox().requests()) {
      Matcher m = PAYMENT.matcher(request.path());
      if (!m.find() || !m.group(1).startsWith("mix-order-")) {
        continue;
      }
      (m.group(2) == null ? reads : refunds)
          .computeIfAbsent(m.group(1), k -> new ArrayList<>())
          .add(request.receivedAt());
    }
    String worst = "";
    int maxRefunds = 0;
    for (var entry : refunds.entrySet()) {
      int n = maxInAMinute(entry.getValue());
      if (n > maxRefunds) {
        maxRefunds = n;
        worst = entry.getKey() + " " + n + " calls";
      }
    }
    int maxReads =
        reads.values().stream().mapToInt(MixedVippsFaultsIT::maxInAMinute).max().orElse(0);
    return new Rates(maxRefunds, maxReads, worst);
  }

  /** The most instants within any window [t, t + 1 min). */
  static int maxInAMinute(List<Instant> times) {
    List<Instant> sorted = times.stream().sorted().toList();
    int best = 0;
    int from = 0;
    for (int to = 0; to < sorted.size(); to++) {
      while (!sorted.get(from).plus(Duration.ofMinutes(1)).isAfter(sorted.get(to))) {
        from++;
      }
      best = Math.max(best, to - from + 1);
    }
    return best;
  }

  private static String order(int i) {
    return String.format("mix-order-%04d", i);
  }
}
