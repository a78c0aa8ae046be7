package io.refundbroker.refund.bench;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.audit.AuditLinkRepository;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.audit.AuditMac;
import io.refundbroker.audit.AuditSequencer;
import io.refundbroker.audit.AuditSequencerVerticle;
import io.refundbroker.caller.Actor;
import io.refundbroker.config.DatabaseUrl;
import io.refundbroker.db.Database;
import io.refundbroker.db.Migrations;
import io.refundbroker.db.SqlErrors;
import io.refundbroker.money.Money;
import io.refundbroker.refund.IdempotencyRepository;
import io.refundbroker.refund.RefundRepository;
import io.refundbroker.refund.RefundStatus;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The database's own ceiling for the refund write path: the statements the broker sends for one
 * refund — the look-ups before it, the write-ahead transaction and the outcome transaction — sent
 * straight to PostgreSQL from this JVM, with the broker's pool settings ({@link Database#connect}),
 * the same pool size and number of clients, and the broker's own audit sequencer linking the events
 * ({@link AuditSequencerVerticle}); no HTTP, no JSON, no Vipps call. It runs in a database of its
 * own ({@value #DATABASE}) in the same cluster, so durability is the same and the broker's books
 * stay untouched.
 *
 * <p>The look-ups' SQL text comes from the broker's classes ({@link WritePathSql}); the idempotency
 * look-up, the write-ahead and the outcome are the broker's own repository methods ({@code
 * IdempotencyRepository.findWithRefund}, {@code RefundRepository.writeAhead} and {@code
 * recordKnownOutcome}: one call each of V12's functions), with the parameters {@code
 * RefundService.request} and {@code RefundRecorder.recordFrom} give them (a store without refund
 * limits, as the benchmark's stores are). When the broker's write path changes shape, change {@link
 * #sendNext} with it: the benchmark prints the broker's statements per refund next to this
 * driver's, so a drift shows.
 *
 * <p>Not thread-safe: every refund runs on the load generator's one event loop.
 */
final class DatabaseCeiling implements LoadGenerator.Source, AutoCloseable {
  /**
   * How the driver sends the write-ahead and the outcome: {@code FUNCTION} as the broker does now
   * (one call of V12's functions each), {@code STATEMENTS} as the broker did before V12 (a
   * transaction of one round trip per statement: BEGIN, frozen check, order lock, reserved sum,
   * payment rate, idempotency claim, refund insert, audit append, COMMIT; then BEGIN, refund lock,
   * outcome, key completion, audit append, COMMIT) — the same checks, to measure the two against
   * each other in one run.
   */
  enum Shape {
    FUNCTION,
    STATEMENTS
  }

  static final String DATABASE = "refund_ceiling";
  private static final String CHAIN = "ceiling-chain";
  private static final String REASON = "Returned goods";
  private static final int SEQUENCER_BATCH = 5000;

  private final Vertx vertx;
  private final Database database;
  private final Pool pool;
  private final AuditLog audit;
  private final int stores;
  private final int orders;
  private final long refundValue;
  private final long capacity;
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private final List<Step> lookups;
  private final Shape shapeOfWrites;
  private final String databaseName;
  private final List<Step> statementWriteAhead;
  private final List<Step> statementOutcome;
  private final IdempotencyRepository idempotency = new IdempotencyRepository();
  private final RefundRepository refunds = new RefundRepository();
  private String sequencerDeployment;
  private long next;

  /** What one refund needs, derived from its number as the HTTP load derives its request. */
  private static final class Refund {
    final String requestingStore;
    final String originStore;
    final String clientId;
    final byte[] tokenHash;
    final String originMsn;
    final String orderId;
    final String key;
    final UUID refundId = UUID.randomUUID();
    final String requestId = UUID.randomUUID().toString();
    final byte[] fingerprint;
    final long amount;
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    long captured;

    Refund(long i, int stores, int orders, long amount, String runId) {
      int order = (int) (i % orders);
      int origin = order % stores;
      int requester = (origin + 1 + (int) (i % (stores - 1))) % stores;
      this.requestingStore = storeId(requester);
      this.originStore = storeId(origin);
      this.clientId = clientId(requester);
      this.tokenHash = sha256(token(requester));
      this.originMsn = msn(origin);
      this.orderId = orderId(order);
      this.key = "ceiling-" + runId + "-" + i;
      this.fingerprint = sha256(key);
      this.amount = amount;
    }
  }

  /** One statement of the write path: its SQL, its parameters, what its answer must look like. */
  private record Step(
      String name, String sql, Function<Refund, Map<String, Object>> parameters, Check check) {}

  @FunctionalInterface
  private interface Check extends BiFunction<Refund, RowSet<Row>, String> {}

  private DatabaseCeiling(
      Vertx vertx,
      Database database,
      Shape shape,
      String databaseName,
      int stores,
      int orders,
      long refundValue,
      long capacity) {
    this.vertx = vertx;
    this.database = database;
    this.pool = database.pool();
    this.audit = new AuditLog(Clock.systemUTC(), AuditMac.random());
    this.stores = stores;
    this.orders = orders;
    this.refundValue = refundValue;
    this.capacity = capacity;
    this.lookups = lookups();
    this.shapeOfWrites = shape;
    this.databaseName = databaseName;
    this.statementWriteAhead = statementsWriteAhead();
    this.statementOutcome = statementsOutcome();
  }

  /**
   * Creates and migrates {@value #DATABASE}, seeds one chain of {@code stores} stores (a STORE
   * client each) and {@code orders} captured orders, opens the broker's pool on it and starts an
   * audit sequencer. Blocking; call from the main thread.
   */
  static DatabaseCeiling start(
      BenchPostgres pg,
      Shape shape,
      Vertx vertx,
      int poolSize,
      int stores,
      int orders,
      long refundValue,
      int refundsPerOrder) {
    String name = databaseOf(shape);
    pg.execute("postgres", "CREATE DATABASE " + name);
    Migrations.migrate(DatabaseUrl.parse(pg.ownerUrl(name)), BenchPostgres.APP_USER);
    seed(pg, name, stores, orders, refundValue * refundsPerOrder);
    Database database =
        Database.connect(vertx, DatabaseUrl.parse(pg.appUrl(name)), poolSize, "ceiling");
    DatabaseCeiling ceiling =
        new DatabaseCeiling(
            vertx,
            database,
            shape,
            name,
            stores,
            orders,
            refundValue,
            (long) orders * refundsPerOrder);
    AuditSequencer sequencer =
        new AuditSequencer(
            vertx,
            database.connectOptions(),
            new AuditLinkRepository(),
            SEQUENCER_BATCH,
            links -> Future.succeededFuture());
    ceiling.sequencerDeployment =
        Await.result(
            vertx.deployVerticle(new AuditSequencerVerticle(sequencer, Duration.ofMillis(5))));
    return ceiling;
  }

  /** The database of a shape: {@value #DATABASE} for the broker's own, a sibling for another. */
  static String databaseOf(Shape shape) {
    return shape == Shape.FUNCTION ? DATABASE : DATABASE + "_" + shape.name().toLowerCase();
  }

  /** The database this driver runs in. */
  String database() {
    return databaseName;
  }

  private static void seed(BenchPostgres pg, String name, int stores, int orders, long captured) {
    String[] statements = {
      "INSERT INTO chains (chain_id) VALUES ('" + CHAIN + "')",
      // a store's MSN is a sales unit (V11)
      "INSERT INTO sales_units (msn) SELECT (810000 + s)::text FROM generate_series(0, "
          + (stores - 1)
          + ") s",
      "INSERT INTO stores (store_id, chain_id, name, msn, api)"
          + " SELECT 'ceil-s' || lpad(s::text, 2, '0'), '"
          + CHAIN
          + "', 'Ceiling store ' || s, (810000 + s)::text, 'epayment'"
          + " FROM generate_series(0, "
          + (stores - 1)
          + ") s",
      "INSERT INTO api_clients (client_id, name, role, store_id, token_hash, created_by)"
          + " SELECT 'ceil-client-' || lpad(s::text, 2, '0'), 'Ceiling till ' || s, 'STORE',"
          + " 'ceil-s' || lpad(s::text, 2, '0'), sha256(convert_to('ceiling-token-' || s, 'UTF8')),"
          + " 'bench' FROM generate_series(0, "
          + (stores - 1)
          + ") s",
      "INSERT INTO orders (store_id, order_id, amount_value, currency, captured_at, source,"
          + " registered_by)"
          + " SELECT 'ceil-s' || lpad((n % "
          + stores
          + ")::text, 2, '0'), 'co-' || lpad(n::text, 8, '0'), "
          + captured
          + ", 'NOK', now() - interval '1 day', 'IMPORTED', 'bench'"
          + " FROM generate_series(0, "
          + (orders - 1)
          + ") n",
      // only the seeded tables: ANALYZE of the still empty audit tables would record them as
      // empty, and the sequencer's long-lived session would keep the sequential-scan plans its
      // link trigger chose then (2–3 ms per link once the trail grows) until autovacuum analyzes
      "ANALYZE chains, stores, api_clients, orders"
    };
    try (Connection c = pg.ownerConnection(name);
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not seed " + name + ": " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------------------ the steps

  private static final String AUTH = "io.refundbroker.auth.ClientRepository";
  private static final String IDEMPOTENCY = "io.refundbroker.refund.IdempotencyRepository";
  private static final String STORES = "io.refundbroker.store.StoreRepository";
  private static final String ORDERS = "io.refundbroker.order.OrderRepository";
  private static final String REFUNDS = "io.refundbroker.refund.RefundRepository";

  /** Before the write-ahead, each on its own (no transaction): as in {@code RefundService}. */
  private List<Step> lookups() {
    return List.of(
        new Step(
            "authenticate the bearer token",
            WritePathSql.sql(AUTH, "FIND_ACTIVE_BY_TOKEN_HASH"),
            r -> Map.of("tokenHash", Buffer.buffer(r.tokenHash)),
            rows(1)),
        new Step(
            "list the chain's stores (resolver)",
            WritePathSql.sql(STORES, "LIST_CHAIN_STORES"),
            r -> Map.of("chainId", CHAIN),
            rows(stores)),
        new Step(
            "find the order in the chain (resolver)",
            WritePathSql.sql(ORDERS, "FIND_IN_CHAIN"),
            r -> Map.of("chainId", CHAIN, "orderId", r.orderId),
            rows(1)));
  }

  /** The write-ahead transaction (the audit append follows as its last statement). */
  private List<Step> statementsWriteAhead() {
    return List.of(
        new Step(
            "neither store frozen",
            WritePathSql.sql(STORES, "FROZEN_AMONG"),
            r -> Map.of("first", r.requestingStore, "second", r.originStore),
            rows(0)),
        new Step(
            "lock the order",
            WritePathSql.sql(ORDERS, "LOCK_ORDER"),
            r -> Map.of("storeId", r.originStore, "orderId", r.orderId),
            (r, rows) -> {
              if (rows.size() != 1) {
                return "order " + r.orderId + " not found";
              }
              r.captured = rows.iterator().next().getLong("amount_value");
              return null;
            }),
        new Step(
            "sum what is reserved against the order",
            WritePathSql.sql(ORDERS, "RESERVED_FOR_ORDER"),
            r -> Map.of("storeId", r.originStore, "orderId", r.orderId),
            (r, rows) -> {
              Row row = rows.iterator().next();
              long reserved = 0;
              for (int c = 0; c < row.size(); c++) {
                reserved += row.getLong(c);
              }
              return r.amount > r.captured - reserved ? "REFUND_EXCEEDS_REFUNDABLE" : null;
            }),
        new Step(
            "recent upstream calls on the payment",
            WritePathSql.sql(REFUNDS, "RECENT_PAYMENT_CALLS"),
            r -> Map.of("msn", r.originMsn, "orderId", r.orderId, "since", r.now.minusMinutes(1)),
            rows(1)),
        new Step(
            "claim the idempotency key",
            WritePathSql.sql(IDEMPOTENCY, "INSERT_IN_FLIGHT"),
            r -> {
              Map<String, Object> p = new HashMap<>();
              p.put("clientId", r.clientId);
              p.put("key", r.key);
              p.put("operation", "refund");
              p.put("hash", Buffer.buffer(r.fingerprint));
              p.put("resourceId", r.refundId.toString());
              p.put("now", r.now);
              return p;
            },
            changed(1)),
        new Step(
            "insert the refund (PENDING)",
            WritePathSql.sql(REFUNDS, "INSERT_REFUND"),
            r -> {
              Map<String, Object> p = new HashMap<>();
              p.put("refundId", r.refundId);
              p.put("requestingClientId", r.clientId);
              p.put("requestingStoreId", r.requestingStore);
              p.put("originStoreId", r.originStore);
              p.put("orderId", r.orderId);
              p.put("chainId", CHAIN);
              p.put("msn", r.originMsn);
              p.put("api", "epayment");
              p.put("amount", r.amount);
              p.put("currency", "NOK");
              p.put("reason", REASON);
              p.put("upstreamKey", r.refundId.toString());
              p.put("idempotencyKey", r.key);
              p.put("requestId", r.requestId);
              p.put("credentialsVersion", 1);
              p.put("nextAttemptAt", r.now.plusSeconds(10));
              p.put("now", r.now);
              return p;
            },
            rows(1)));
  }

  /** The outcome transaction (the audit append follows as its last statement). */
  private List<Step> statementsOutcome() {
    return List.of(
        new Step(
            "lock the refund",
            WritePathSql.sql(REFUNDS, "LOCK_REFUND"),
            r -> Map.of("refundId", r.refundId),
            rows(1)),
        new Step(
            "record the outcome (SUCCEEDED)",
            WritePathSql.sql(REFUNDS, "RECORD_OUTCOME"),
            r -> {
              Map<String, Object> p = new HashMap<>();
              p.put("refundId", r.refundId);
              p.put("status", "SUCCEEDED");
              p.put("failureCode", null);
              p.put("failureDetail", null);
              p.put("upstreamStatus", 200);
              p.put("nextAttemptAt", null);
              p.put("terminal", true);
              p.put("now", r.now);
              return p;
            },
            rows(1)),
        new Step(
            "complete the idempotency key",
            WritePathSql.sql(IDEMPOTENCY, "COMPLETE"),
            r -> Map.of("clientId", r.clientId, "key", r.key, "status", 201, "now", r.now),
            changed(1)));
  }

  private static Check rows(int expected) {
    return (r, rows) ->
        rows.size() == expected ? null : "expected " + expected + " rows, got " + rows.size();
  }

  private static Check changed(int expected) {
    return (r, rows) ->
        rows.rowCount() == expected
            ? null
            : "expected " + expected + " rows changed, got " + rows.rowCount();
  }

  /** How the driver's statements per refund split, to print next to the broker's. */
  String shape() {
    if (shapeOfWrites == Shape.STATEMENTS) {
      return String.format(
          "%d look-ups + the idempotency key with its refund + write-ahead (BEGIN + %d + audit"
              + " append + COMMIT) + outcome (BEGIN + %d + audit append + COMMIT) = %d statements"
              + " per refund",
          lookups.size(),
          statementWriteAhead.size(),
          statementOutcome.size(),
          statementsPerRefund());
    }
    return String.format(
        "%d look-ups + the idempotency key with its refund + write-ahead (one call of"
            + " refund_write_ahead) + outcome (one call of refund_record_outcome) = %d statements"
            + " per refund",
        lookups.size(), statementsPerRefund());
  }

  int statementsPerRefund() {
    return shapeOfWrites == Shape.STATEMENTS
        ? lookups.size() + 1 + statementWriteAhead.size() + statementOutcome.size() + 2 + 4
        : lookups.size() + 1 + 2;
  }

  // ------------------------------------------------------------------------------ one refund

  @Override
  public Future<LoadGenerator.Answer> sendNext() {
    if (next >= capacity) {
      return null;
    }
    Refund r = new Refund(next++, stores, orders, refundValue, runId);
    return run(pool, lookups.subList(0, 1), r)
        .compose(v -> idempotency.findWithRefund(pool, r.clientId, r.key))
        .compose(
            keyed ->
                keyed == null
                    ? run(pool, lookups.subList(1, lookups.size()), r)
                    : Future.failedFuture(new StepFailure("key already used: " + r.key)))
        .compose(v -> writes(r))
        .map(v -> LoadGenerator.Answer.of(201))
        .recover(
            failure ->
                Future.succeededFuture(
                    new LoadGenerator.Answer(
                        failure instanceof StepFailure || failure instanceof SqlErrors.Refused
                            ? 422
                            : 500,
                        () ->
                            new JsonObject()
                                .put("code", failure.getMessage())
                                .put("class", failure.getClass().getSimpleName())
                                .encode())));
  }

  private Future<Void> writes(Refund r) {
    if (shapeOfWrites == Shape.STATEMENTS) {
      return pool.withTransaction(tx -> statementsWriteAhead(tx, r))
          .compose(v -> pool.withTransaction(tx -> statementsOutcome(tx, r)));
    }
    return writeAhead(r).compose(pending -> outcome(r, pending));
  }

  private Future<Void> statementsWriteAhead(SqlConnection tx, Refund r) {
    return run(tx, statementWriteAhead, r)
        .compose(
            v ->
                audit.append(
                    tx,
                    new Actor(r.clientId, "STORE", r.requestingStore),
                    r.requestId,
                    new AuditEvent(
                        "refund.requested",
                        "refund",
                        r.refundId.toString(),
                        CHAIN,
                        "PENDING",
                        details(r, "PENDING").put("reason", REASON))))
        .mapEmpty();
  }

  private Future<Void> statementsOutcome(SqlConnection tx, Refund r) {
    r.now = OffsetDateTime.now(ZoneOffset.UTC);
    return run(tx, statementOutcome, r)
        .compose(
            v ->
                audit.append(
                    tx,
                    new Actor(r.clientId, "STORE", r.requestingStore),
                    r.requestId,
                    new AuditEvent(
                        "refund.succeeded",
                        "refund",
                        r.refundId.toString(),
                        CHAIN,
                        "SUCCESS",
                        details(r, "SUCCEEDED")
                            .put("upstreamStatus", 200)
                            .put("upstreamOutcome", "applied"))))
        .mapEmpty();
  }

  private Future<io.refundbroker.refund.Refund> writeAhead(Refund r) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    io.refundbroker.refund.Refund pending =
        refund(r, RefundStatus.PENDING, null, null, now.plusSeconds(10), now, null);
    RefundRepository.Checks checks =
        new RefundRepository.Checks(
            now.minus(Duration.ofDays(365)),
            now.minus(Duration.ofMinutes(1)),
            1000,
            null,
            now.minus(Duration.ofDays(1)),
            now.plus(Duration.ofDays(1)));
    return audit
        .seal(
            new Actor(r.clientId, "STORE", r.requestingStore),
            r.requestId,
            new AuditEvent(
                "refund.requested",
                "refund",
                r.refundId.toString(),
                CHAIN,
                "PENDING",
                details(r, "PENDING").put("reason", REASON)))
        .compose(
            event ->
                refunds.writeAhead(
                    pool, pending, r.requestId, checks, "refund", r.fingerprint, null, event))
        .map(v -> pending);
  }

  private Future<Void> outcome(Refund r, io.refundbroker.refund.Refund pending) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    io.refundbroker.refund.Refund updated =
        refund(r, RefundStatus.SUCCEEDED, 200, null, pending.createdAt(), now, now);
    return audit
        .seal(
            new Actor(r.clientId, "STORE", r.requestingStore),
            r.requestId,
            new AuditEvent(
                "refund.succeeded",
                "refund",
                r.refundId.toString(),
                CHAIN,
                "SUCCESS",
                details(r, "SUCCEEDED")
                    .put("upstreamStatus", 200)
                    .put("upstreamOutcome", "applied")))
        .compose(event -> refunds.recordKnownOutcome(pool, pending, updated, 201, event))
        .compose(
            written ->
                written
                    ? Future.<Void>succeededFuture()
                    : Future.<Void>failedFuture(new StepFailure("outcome not written")));
  }

  /** The broker's refund for {@code r} in {@code status}, created at {@code createdAt}. */
  private static io.refundbroker.refund.Refund refund(
      Refund r,
      RefundStatus status,
      Integer upstreamStatus,
      Instant nextAttemptAt,
      Instant createdAt,
      Instant updatedAt,
      Instant completedAt) {
    return new io.refundbroker.refund.Refund(
        r.refundId,
        r.clientId,
        r.requestingStore,
        r.originStore,
        r.orderId,
        CHAIN,
        r.originMsn,
        VippsApi.EPAYMENT,
        new Money(r.amount, "NOK"),
        REASON,
        status,
        r.refundId.toString(),
        r.key,
        /* failureCode */ null,
        /* failureDetail */ null,
        /* credentialsVersion */ 1,
        /* partnerId */ null,
        upstreamStatus,
        1,
        status == RefundStatus.PENDING ? createdAt.plusSeconds(10) : nextAttemptAt,
        createdAt,
        createdAt,
        updatedAt,
        completedAt);
  }

  /** The same members as a refund's audit details in the broker. */
  private static JsonObject details(Refund r, String status) {
    return new JsonObject()
        .put("refundId", r.refundId.toString())
        .put("requestingStoreId", r.requestingStore)
        .put("originStoreId", r.originStore)
        .put("orderId", r.orderId)
        .put("msn", r.originMsn)
        .put("api", "epayment")
        .put("amount", new JsonObject().put("value", r.amount).put("currency", "NOK"))
        .put("vippsIdempotencyKey", r.refundId.toString())
        .put("credentialsVersion", 1)
        .put("keys", new JsonObject().put("holder", "salesunit").put("version", 1))
        .put("status", status)
        .put("attempts", 1);
  }

  /** The steps one after the other, each waiting for the previous answer (as the broker does). */
  private static Future<Void> run(SqlClient sql, List<Step> steps, Refund r) {
    Future<Void> chain = Future.succeededFuture();
    for (Step step : steps) {
      chain =
          chain.compose(
              v ->
                  SqlTemplate.forQuery(sql, step.sql())
                      .execute(step.parameters().apply(r))
                      .compose(
                          rows -> {
                            String wrong = step.check().apply(r, rows);
                            return wrong == null
                                ? Future.<Void>succeededFuture()
                                : Future.<Void>failedFuture(
                                    new StepFailure(step.name() + ": " + wrong));
                          }));
    }
    return chain;
  }

  /** A step whose answer was not what the broker would have accepted. */
  private static final class StepFailure extends RuntimeException {
    StepFailure(String message) {
      super(message, null, false, false);
    }
  }

  // ------------------------------------------------------------------------------ afterwards

  /**
   * The ceiling's own books: every refund it completed SUCCEEDED, no order above its captured
   * amount, and (once the sequencer caught up) every audit event linked exactly once.
   *
   * @return what is wrong, empty when nothing is
   */
  List<String> check(BenchPostgres pg, long completed) {
    List<String> wrong = new ArrayList<>();
    long succeeded =
        pg.queryLong(databaseName, "SELECT count(*) FROM refunds WHERE status = 'SUCCEEDED'");
    long other =
        pg.queryLong(databaseName, "SELECT count(*) FROM refunds WHERE status <> 'SUCCEEDED'");
    if (succeeded != completed || other != 0) {
      wrong.add(
          "ceiling: "
              + succeeded
              + " SUCCEEDED and "
              + other
              + " other refunds for "
              + completed
              + " completed");
    }
    long over =
        pg.queryLong(
            databaseName,
            "SELECT count(*) FROM (SELECT o.order_id FROM orders o JOIN refunds r"
                + " ON r.origin_store_id = o.store_id AND r.order_id = o.order_id"
                + " GROUP BY o.store_id, o.order_id, o.amount_value"
                + " HAVING sum(r.amount_value) > o.amount_value) x");
    if (over != 0) {
      wrong.add("ceiling: " + over + " orders refunded above their captured amount");
    }
    String unlinkedCount =
        "SELECT count(*) FROM audit_entries e"
            + " WHERE NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.event_id = e.event_id)";
    try {
      io.refundbroker.testing.Poll.until(
          "the ceiling's sequencer linked every event",
          Duration.ofMinutes(1),
          () -> pg.queryLong(databaseName, unlinkedCount) == 0);
    } catch (AssertionError e) {
      // reported below with the counts
    }
    long unlinked = pg.queryLong(databaseName, unlinkedCount);
    long entries = pg.queryLong(databaseName, "SELECT count(*) FROM audit_entries");
    long links = pg.queryLong(databaseName, "SELECT count(*) FROM audit_links");
    long maxSeq = pg.queryLong(databaseName, "SELECT coalesce(max(seq), 0) FROM audit_links");
    if (unlinked != 0 || entries != links || maxSeq != links || entries != 2 * completed) {
      wrong.add(
          String.format(
              "ceiling audit trail: %d entries, %d links (max seq %d), %d unlinked for %d refunds",
              entries, links, maxSeq, unlinked, completed));
    }
    return wrong;
  }

  @Override
  public void close() {
    if (sequencerDeployment != null) {
      Await.result(vertx.undeploy(sequencerDeployment), Duration.ofSeconds(30));
    }
    Await.result(database.close(), Duration.ofSeconds(30));
  }

  static String storeId(int n) {
    return String.format("ceil-s%02d", n);
  }

  static String clientId(int n) {
    return String.format("ceil-client-%02d", n);
  }

  static String msn(int n) {
    return Integer.toString(810_000 + n);
  }

  static String orderId(int n) {
    return String.format("co-%08d", n);
  }

  static String token(int n) {
    return "ceiling-token-" + n;
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
