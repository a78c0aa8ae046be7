package io.refundbroker.refund.bench;

import io.refundbroker.audit.AuditEntry;
import io.refundbroker.audit.AuditEvent;
import io.refundbroker.audit.AuditMac;
import io.refundbroker.audit.ChainedEvent;
import io.refundbroker.caller.Actor;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * Fills the broker's database with history, fast, while the broker is stopped: {@code orders} more
 * captured orders of the benchmark's chain (ids {@code hist-…}), one SUCCEEDED refund and its
 * completed idempotency key each ({@code generate_series}), and {@code events} audit events that
 * continue the chain — each made with the broker's own classes ({@link AuditEntry#create}: event
 * id, canonical content, entry hash, MAC with the broker's key; {@link ChainedEvent#linkHash}) and
 * written with {@code COPY} (the tables' append-only triggers, which recompute every link, are
 * skipped for this session with {@code session_replication_role = replica}; the broker's
 * checkpointer and {@code /v1/audit/verify} check every event afterwards). The events are refund
 * events ({@code refund.requested}, {@code refund.succeeded}) of the same shape as the broker's.
 */
final class GrowthLoad {
  static final String ORDER_PREFIX = "hist-";
  private static final int CHUNK = 25_000;

  private GrowthLoad() {}

  /** What was loaded and how long each part took. */
  record Result(
      long orders,
      long refunds,
      long events,
      long headSeq,
      Duration rowsTime,
      Duration eventsTime,
      Duration vacuumTime) {}

  /** A store of the chain with the client that requests its refunds. */
  private record StoreClient(String storeId, String msn, String clientId) {}

  static Result preload(BenchPostgres pg, AuditMac mac, String chainId, int orders, int events)
      throws SQLException {
    try (Connection c = pg.ownerConnection(BenchPostgres.DATABASE)) {
      List<StoreClient> stores = stores(c, chainId);
      long started = System.nanoTime();
      rows(c, chainId, orders, stores.size());
      Duration rowsTime = Duration.ofNanos(System.nanoTime() - started);
      System.out.printf(
          "  %,d orders, %,d SUCCEEDED refunds and their idempotency keys in %,d ms%n",
          orders, orders, rowsTime.toMillis());
      started = System.nanoTime();
      long head = events(c, mac, chainId, stores, events);
      Duration eventsTime = Duration.ofNanos(System.nanoTime() - started);
      System.out.printf(
          "  %,d audit events (entries + links, chained to seq %,d) in %,d ms%n",
          events, head, eventsTime.toMillis());
      started = System.nanoTime();
      c.setAutoCommit(true);
      try (Statement s = c.createStatement()) {
        s.execute(
            "VACUUM (ANALYZE) orders, refunds, idempotency_records, audit_entries, audit_links");
        s.execute("CHECKPOINT");
      }
      Duration vacuumTime = Duration.ofNanos(System.nanoTime() - started);
      System.out.printf("  VACUUM (ANALYZE) and CHECKPOINT in %,d ms%n", vacuumTime.toMillis());
      return new Result(orders, orders, events, head, rowsTime, eventsTime, vacuumTime);
    }
  }

  private static List<StoreClient> stores(Connection c, String chainId) throws SQLException {
    List<StoreClient> stores = new ArrayList<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT DISTINCT ON (st.store_id) st.store_id, st.msn, cl.client_id"
                + " FROM stores st JOIN api_clients cl ON cl.store_id = st.store_id"
                + " WHERE st.chain_id = ? AND cl.role = 'STORE' ORDER BY st.store_id,"
                + " cl.created_at")) {
      s.setString(1, chainId);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          stores.add(new StoreClient(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
      }
    }
    if (stores.size() < 2) {
      throw new IllegalStateException("chain " + chainId + " has fewer than two store clients");
    }
    return stores;
  }

  /** Orders, refunds and idempotency records, in SQL. */
  private static void rows(Connection c, String chainId, int orders, int storeCount)
      throws SQLException {
    String stores =
        "WITH s AS (SELECT DISTINCT ON (st.store_id) st.store_id, st.msn, cl.client_id,"
            + " dense_rank() OVER (ORDER BY st.store_id) - 1 AS i"
            + " FROM stores st JOIN api_clients cl ON cl.store_id = st.store_id"
            + " WHERE st.chain_id = '"
            + chainId
            + "' AND cl.role = 'STORE' ORDER BY st.store_id, cl.created_at) ";
    String[] statements = {
      stores
          + "INSERT INTO orders (store_id, order_id, amount_value, currency, captured_at, source,"
          + " registered_by, registered_at)"
          + " SELECT s.store_id, '"
          + ORDER_PREFIX
          + "' || lpad(n::text, 8, '0'), 10000, 'NOK',"
          + " now() - interval '2 days' - (n % 300) * interval '1 day', 'IMPORTED', 'bench-history',"
          + " now() - interval '2 days' - (n % 300) * interval '1 day'"
          + " FROM generate_series(0, "
          + (orders - 1)
          + ") n JOIN s ON s.i = n % "
          + storeCount,
      stores
          + "INSERT INTO refunds (refund_id, requesting_client_id, requesting_store_id,"
          + " origin_store_id, order_id, chain_id, msn, api, amount_value, currency, reason, status,"
          + " upstream_key, idempotency_key, request_id, credentials_version, upstream_status,"
          + " attempts, next_attempt_at, last_attempt_at, created_at, updated_at, completed_at)"
          + " SELECT md5('hist-refund-' || g.n)::uuid, rq.client_id, rq.store_id, o.store_id, '"
          + ORDER_PREFIX
          + "' || lpad(g.n::text, 8, '0'), '"
          + chainId
          + "', o.msn, 'epayment', 2500, 'NOK', 'Returned goods', 'SUCCEEDED',"
          + " md5('hist-refund-' || g.n)::uuid::text, 'hist-' || g.n,"
          + " md5('hist-request-' || g.n)::uuid::text, 1, 200, 1, NULL, g.t, g.t, g.t, g.t"
          + " FROM (SELECT n, now() - interval '1 day' - (n % 300) * interval '1 day' AS t"
          + " FROM generate_series(0, "
          + (orders - 1)
          + ") n) g"
          + " JOIN s o ON o.i = g.n % "
          + storeCount
          + " JOIN s rq ON rq.i = (g.n % "
          + storeCount
          + " + 1) % "
          + storeCount,
      "INSERT INTO idempotency_records (client_id, idempotency_key, operation, request_hash, state,"
          + " resource_id, response_status, created_at, completed_at)"
          + " SELECT requesting_client_id, idempotency_key, 'refund',"
          + " sha256(convert_to(idempotency_key, 'UTF8')), 'COMPLETED', refund_id::text, 201,"
          + " created_at, completed_at FROM refunds WHERE order_id LIKE '"
          + ORDER_PREFIX
          + "%'"
    };
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    }
    c.commit();
  }

  /** The audit events, chained after the current head; returns the new head's seq. */
  private static long events(
      Connection c, AuditMac mac, String chainId, List<StoreClient> stores, int events)
      throws SQLException {
    c.setAutoCommit(false);
    long seq;
    String previous;
    try (Statement s = c.createStatement()) {
      s.execute("SET session_replication_role = replica");
      try (ResultSet rs =
          s.executeQuery("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1")) {
        if (rs.next()) {
          seq = rs.getLong(1);
          previous = rs.getString(2);
        } else {
          seq = 0;
          previous = ChainedEvent.GENESIS_HASH;
        }
      }
    }
    CopyManager copy = new CopyManager(c.unwrap(BaseConnection.class));
    Instant base = Instant.now().truncatedTo(ChronoUnit.MICROS);
    CompletableFuture<AuditEntry[]> nextChunk =
        CompletableFuture.supplyAsync(() -> chunk(mac, chainId, stores, base, 0, events));
    long waiting = 0;
    long copying = 0;
    for (int from = 0; from < events; from += CHUNK) {
      long t0 = System.nanoTime();
      AuditEntry[] entries = nextChunk.join();
      waiting += System.nanoTime() - t0;
      int following = from + CHUNK;
      nextChunk =
          following < events
              ? CompletableFuture.supplyAsync(
                  () -> chunk(mac, chainId, stores, base, following, events))
              : null;
      StringBuilder entryRows = new StringBuilder(entries.length * 700);
      StringBuilder linkRows = new StringBuilder(entries.length * 200);
      for (AuditEntry e : entries) {
        seq++;
        String hash = ChainedEvent.linkHash(seq, e.entryHash(), e.mac(), previous);
        entryRow(entryRows, e);
        linkRows
            .append(seq)
            .append(',')
            .append(e.eventId())
            .append(',')
            .append(previous)
            .append(',')
            .append(hash)
            .append('\n');
        previous = hash;
      }
      long t1 = System.nanoTime();
      try {
        copy.copyIn(
            "COPY audit_entries (event_id, occurred_at, actor_client_id, actor_role,"
                + " actor_store_id, action, subject_type, subject_id, chain_id, outcome,"
                + " request_id, details, entry_hash, mac) FROM STDIN (FORMAT csv)",
            new StringReader(entryRows.toString()));
        copy.copyIn(
            "COPY audit_links (seq, event_id, prev_hash, hash) FROM STDIN (FORMAT csv)",
            new StringReader(linkRows.toString()));
      } catch (IOException e) {
        throw new SQLException("COPY failed", e);
      }
      c.commit();
      copying += System.nanoTime() - t1;
      if ((from / CHUNK) % 40 == 39) {
        System.out.printf("    %,d events so far%n", from + entries.length);
      }
    }
    System.out.printf(
        "    (%,d ms waiting for hashed and MACed events, %,d ms in COPY and commit)%n",
        waiting / 1_000_000, copying / 1_000_000);
    try (Statement s = c.createStatement()) {
      // as the broker's sequencer records it with every batch (V14): every preloaded event is
      // linked, so the next leader resumes here instead of scanning the preloaded trail
      s.execute(
          "UPDATE audit_links SET horizon = pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
              + " WHERE seq = "
              + seq);
      s.execute("SET session_replication_role = origin");
    }
    c.commit();
    return seq;
  }

  /** Events {@code from} until {@code from + CHUNK} (hashed and MACed in parallel). */
  private static AuditEntry[] chunk(
      AuditMac mac, String chainId, List<StoreClient> stores, Instant base, int from, int events) {
    int to = Math.min(events, from + CHUNK);
    return IntStream.range(from, to)
        .parallel()
        .mapToObj(k -> entry(mac, chainId, stores, base, k))
        .toArray(AuditEntry[]::new);
  }

  private static AuditEntry entry(
      AuditMac mac, String chainId, List<StoreClient> stores, Instant base, int k) {
    int n = k / 2;
    boolean requested = k % 2 == 0;
    StoreClient origin = stores.get(n % stores.size());
    StoreClient requester = stores.get((n % stores.size() + 1) % stores.size());
    String refundId = md5Uuid("hist-refund-" + n).toString();
    JsonObject details =
        new JsonObject()
            .put("refundId", refundId)
            .put("requestingStoreId", requester.storeId())
            .put("originStoreId", origin.storeId())
            .put("orderId", ORDER_PREFIX + String.format("%08d", n))
            .put("msn", origin.msn())
            .put("api", "epayment")
            .put("amount", new JsonObject().put("value", 2500).put("currency", "NOK"))
            .put("vippsIdempotencyKey", refundId)
            .put("credentialsVersion", 1)
            .put("status", requested ? "PENDING" : "SUCCEEDED")
            .put("attempts", 1);
    if (requested) {
      details.put("reason", "Returned goods");
    } else {
      details.put("upstreamStatus", 200).put("upstreamOutcome", "applied");
    }
    AuditEvent event =
        new AuditEvent(
            requested ? "refund.requested" : "refund.succeeded",
            "refund",
            refundId,
            chainId,
            requested ? "PENDING" : "SUCCESS",
            details);
    return AuditEntry.create(
        md5Uuid("hist-event-" + k),
        base.plus(k, ChronoUnit.MICROS),
        new Actor(requester.clientId(), "STORE", requester.storeId()),
        md5Uuid("hist-request-" + n).toString(),
        event,
        mac);
  }

  private static void entryRow(StringBuilder out, AuditEntry e) {
    field(out, e.eventId().toString()).append(',');
    field(out, e.occurredAt().toString()).append(',');
    field(out, e.actor().clientId()).append(',');
    field(out, e.actor().role()).append(',');
    field(out, e.actor().storeId()).append(',');
    field(out, e.action()).append(',');
    field(out, e.subjectType()).append(',');
    field(out, e.subjectId()).append(',');
    field(out, e.chainId()).append(',');
    field(out, e.outcome()).append(',');
    field(out, e.requestId()).append(',');
    field(out, e.details().encode()).append(',');
    field(out, e.entryHash()).append(',');
    field(out, e.mac()).append('\n');
  }

  /** A CSV field: quoted, quotes doubled; null stays empty (COPY's NULL in CSV). */
  private static StringBuilder field(StringBuilder out, String value) {
    if (value == null) {
      return out;
    }
    return out.append('"').append(value.replace("\"", "\"\"")).append('"');
  }

  /** The UUID PostgreSQL makes of {@code md5(text)::uuid}. */
  static UUID md5Uuid(String text) {
    try {
      ByteBuffer digest =
          ByteBuffer.wrap(
              MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
      return new UUID(digest.getLong(), digest.getLong());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
