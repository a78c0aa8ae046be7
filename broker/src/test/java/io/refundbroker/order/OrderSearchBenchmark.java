package io.refundbroker.order;

import io.refundbroker.db.Database;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Benchmark (not a test; never run by {@code mvn verify}) of the cashier's search, {@code GET
 * /v1/orders}, at chain scale: one chain of 20 stores holding {@code orders} registered orders
 * (1,000,000 by default, captured over the last 365 days), preloaded with {@code generate_series}
 * (not timed). Then, through the broker's HTTP API, one client at a time (each request waits for
 * the previous answer), it times searches of three kinds, each with its own random values drawn
 * from the preloaded orders (seeded):
 *
 * <ol>
 *   <li><b>amount + day</b>: {@code amount=<exact>&from=<midnight UTC>&to=<next midnight>};
 *   <li><b>4-digit q</b>: {@code q=<4 digits from a receipt number>};
 *   <li><b>broad q</b>: {@code q=POSnn} (a store's prefix: matches one order in 20).
 * </ol>
 *
 * <p>It prints p50/p95/p99/max per kind, the hits per search, and PostgreSQL's {@code EXPLAIN
 * (ANALYZE, BUFFERS)} of one search of each kind. The target (issue #14) is p99 ≤ 50 ms for the
 * first two. The broker runs in this JVM on the embedded PostgreSQL (its own server process), as in
 * {@code AuditVerifierBenchmark}.
 *
 * <p>Run: {@code mvn -B -pl broker -am -Pbench verify
 * -Dbench.main=io.refundbroker.order.OrderSearchBenchmark} (arguments via {@code
 * -Dbench.args="1000000 2000"}: orders, timed searches per kind).
 */
public final class OrderSearchBenchmark {
  private static final String CHAIN = "bench-chain";
  private static final int STORES = 20;
  private static final int CHUNK = 100_000;
  private static final long SEED = 42;
  private static final String PRELOAD =
      """
      INSERT INTO orders (store_id, order_id, amount_value, currency, captured_at, source,
                          registered_by)
      SELECT 'bs' || lpad((i % 20)::text, 2, '0'),
             'POS' || lpad((i % 20)::text, 2, '0') || '-'
               || lpad(((i * 2654435761) % 100000000)::text, 8, '0'),
             (1 + floor(2000 * power(random(), 3)))::bigint * 100,
             'NOK',
             ?::timestamptz - (i * ?::bigint)::double precision * interval '1 microsecond',
             'IMPORTED', 'bench'
        FROM generate_series(?::bigint, ?::bigint) AS i
      """;
  private static final String SAMPLE =
      """
      SELECT order_id, amount_value, captured_at FROM orders
       WHERE chain_id = ? ORDER BY md5(order_id || ?) LIMIT ?
      """;

  private OrderSearchBenchmark() {}

  /** A search of one kind: its query string, and the same as a query object (for EXPLAIN). */
  private record Search(String query, OrderSearchQuery parsed) {}

  public static void main(String[] args) throws Exception {
    int orders = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int timed = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    int warmup = Math.max(100, timed / 5);
    System.out.printf(
        "order search benchmark: %,d orders in one chain of %d stores, %,d timed searches per kind"
            + " (after %,d warm-up), one client, %d cores, Java %s, max heap %,d MB%n",
        orders,
        STORES,
        timed,
        warmup,
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        Runtime.getRuntime().maxMemory() / (1024 * 1024));
    try (TestBroker broker =
        TestBroker.builder()
            .env("BROKER_LOG_LEVEL", "warn")
            .env("BROKER_ACCESS_LOG_LEVEL", "warn")
            .env("BROKER_HTTP_INSTANCES", "2")
            .start()) {
      for (int s = 0; s < STORES; s++) {
        broker.createStore(store(s), CHAIN, String.valueOf(880000 + s));
      }
      String token = broker.issueToken("STORE", store(0));
      preload(broker.database(), orders);
      Random random = new Random(SEED);
      List<Search> byAmountAndDay = new ArrayList<>();
      List<Search> byDigits = new ArrayList<>();
      for (Object[] sample : sample(broker.database(), timed + warmup)) {
        byAmountAndDay.add(amountAndDay((Long) sample[1], (OffsetDateTime) sample[2]));
        byDigits.add(digits((String) sample[0], random));
      }
      List<Search> broad = new ArrayList<>();
      for (int i = 0; i < timed + warmup; i++) {
        String q = "POS" + String.format("%02d", random.nextInt(STORES));
        broad.add(new Search("q=" + q, query(q, null, null, null)));
      }
      measure(broker, token, "amount + day", byAmountAndDay, warmup);
      measure(broker, token, "4-digit q", byDigits, warmup);
      measure(broker, token, "broad q (1 in 20)", broad, warmup);
      explain(broker, "amount + day", byAmountAndDay.get(0));
      explain(broker, "4-digit q", byDigits.get(0));
      explain(broker, "broad q (1 in 20)", broad.get(0));
    }
  }

  private static String store(int s) {
    return String.format("bs%02d", s);
  }

  private static OrderSearchQuery query(String q, Long amount, Instant from, Instant to) {
    return new OrderSearchQuery(q, amount, from, to, null, null, OrderSearchQuery.DEFAULT_LIMIT);
  }

  private static Search amountAndDay(long amount, OffsetDateTime capturedAt) {
    Instant day = capturedAt.toInstant().truncatedTo(ChronoUnit.DAYS);
    Instant next = day.plus(Duration.ofDays(1));
    return new Search(
        "amount=" + amount + "&from=" + encode(day) + "&to=" + encode(next),
        query(null, amount, day, next));
  }

  private static Search digits(String orderId, Random random) {
    String number = orderId.substring(orderId.indexOf('-') + 1);
    int at = random.nextInt(number.length() - 3);
    String q = number.substring(at, at + 4);
    return new Search("q=" + q, query(q, null, null, null));
  }

  private static String encode(Instant instant) {
    return URLEncoder.encode(instant.toString(), StandardCharsets.UTF_8);
  }

  /** {@code orders} orders, newest first one every 365 days / orders, in chunks. Not timed. */
  private static void preload(TestDatabase database, int orders) throws SQLException {
    long started = System.nanoTime();
    Instant newest = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
    long spacingMicros = Duration.ofDays(365).toNanos() / 1000 / orders;
    try (Connection c = database.ownerConnection()) {
      try (Statement s = c.createStatement()) {
        s.execute("SELECT setseed(0.42)");
      }
      try (PreparedStatement insert = c.prepareStatement(PRELOAD)) {
        for (long lo = 0; lo < orders; lo += CHUNK) {
          long hi = Math.min(orders, lo + CHUNK) - 1;
          insert.setObject(1, newest.atOffset(ZoneOffset.UTC));
          insert.setLong(2, spacingMicros);
          insert.setLong(3, lo);
          insert.setLong(4, hi);
          insert.executeUpdate();
          System.out.printf(
              "  preloaded %,d orders (%,d s)%n",
              hi + 1, (System.nanoTime() - started) / 1_000_000_000);
        }
      }
      try (Statement s = c.createStatement()) {
        s.execute("VACUUM ANALYZE orders");
      }
    }
    System.out.printf(
        "preloaded %,d orders and analysed them in %,d s, not counted%n",
        orders, (System.nanoTime() - started) / 1_000_000_000);
  }

  /** Random preloaded orders (seeded): their id, amount and capture time. */
  private static List<Object[]> sample(TestDatabase database, int n) throws SQLException {
    List<Object[]> rows = new ArrayList<>();
    try (Connection c = database.ownerConnection();
        PreparedStatement s = c.prepareStatement(SAMPLE)) {
      s.setString(1, CHAIN);
      s.setString(2, String.valueOf(SEED));
      s.setInt(3, n);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          rows.add(
              new Object[] {rs.getString(1), rs.getLong(2), rs.getObject(3, OffsetDateTime.class)});
        }
      }
    }
    return rows;
  }

  private static void measure(
      TestBroker broker, String token, String kind, List<Search> searches, int warmup) {
    long[] nanos = new long[searches.size() - warmup];
    long hits = 0;
    int empty = 0;
    for (int i = 0; i < searches.size(); i++) {
      long start = System.nanoTime();
      HttpResult result =
          Await.result(
              broker.sendAsync(
                  HttpMethod.GET,
                  "/v1/orders?" + searches.get(i).query(),
                  token,
                  null,
                  MultiMap.caseInsensitiveMultiMap()),
              Duration.ofSeconds(30));
      long took = System.nanoTime() - start;
      if (result.status() != 200) {
        throw new IllegalStateException(searches.get(i).query() + ": " + result);
      }
      if (i >= warmup) {
        nanos[i - warmup] = took;
        int found = result.json().getJsonArray("orders").size();
        hits += found;
        empty += found == 0 ? 1 : 0;
      }
    }
    Arrays.sort(nanos);
    System.out.printf(
        "%-18s p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (n=%,d; %.1f hits per"
            + " page on average, %d empty; load average after: %s)%n",
        kind,
        percentile(nanos, 0.50),
        percentile(nanos, 0.95),
        percentile(nanos, 0.99),
        nanos[nanos.length - 1] / 1e6,
        nanos.length,
        hits / (double) nanos.length,
        empty,
        loadAverage());
  }

  /** The machine's 1-minute load average (other work on it shows in the figures). */
  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static double percentile(long[] sorted, double p) {
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
  }

  /** PostgreSQL's plan of the broker's own search statement for {@code search}. */
  private static void explain(TestBroker broker, String kind, Search search) {
    Database database =
        Database.connect(
            broker.vertx(), broker.database().appUrl(), 1, broker.database().schemaVersion());
    try {
      OrderSearchRepository.Statement statement =
          OrderSearchRepository.statement(CHAIN, search.parsed());
      List<String> plan = new ArrayList<>();
      Await.result(
              database
                  .pool()
                  .preparedQuery("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql())
                  .execute(statement.params()))
          .forEach((Row row) -> plan.add(row.getString(0)));
      System.out.printf("%nEXPLAIN %s (%s):%n", kind, search.query());
      plan.forEach(line -> System.out.println("  " + line));
    } finally {
      Await.result(database.close());
    }
  }
}
