package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads the refund log for auditors: filtered pages in (created_at, refund_id) order, a streamed
 * export of the same, and the monthly clearing totals. Read-only.
 */
public final class RefundLogRepository {
  private static final String SELECT_REFUNDS = "SELECT " + RefundLogEntry.COLUMNS + " FROM refunds";
  private static final String ORDER = " ORDER BY created_at, refund_id";
  private static final String CHAIN_EXISTS =
      """
      SELECT EXISTS (SELECT 1 FROM chains WHERE chain_id = #{chainId}) AS found
      """;
  private static final String CLEARING =
      """
      SELECT r.requesting_store_id, rs.name AS requesting_store_name,
             r.origin_store_id, os.name AS origin_store_name, os.msn AS origin_msn,
             r.currency, count(*) AS refunds, sum(r.amount_value)::bigint AS amount
        FROM refunds r
        JOIN stores rs ON rs.store_id = r.requesting_store_id
        LEFT JOIN stores os ON os.store_id = r.origin_store_id
       WHERE r.chain_id = #{chainId}
         AND r.status = 'SUCCEEDED'
         AND r.requesting_store_id <> r.origin_store_id
         AND coalesce(r.completed_at, r.created_at) >= #{from}
         AND coalesce(r.completed_at, r.created_at) < #{to}
       GROUP BY r.requesting_store_id, rs.name, r.origin_store_id, os.name, os.msn, r.currency
       ORDER BY r.requesting_store_id, r.origin_store_id, r.currency
      """;

  /** One line of the clearing statement: what one store refunded on another's behalf. */
  public record ClearingLine(
      String requestingStoreId,
      String requestingStoreName,
      String originStoreId,
      String originStoreName,
      String originMsn,
      String currency,
      long refunds,
      long amountValue) {}

  /** One page: the rows matching {@code query} after its position, at most {@code limit + 1}. */
  public Future<List<RefundLogEntry>> page(SqlClient sql, RefundQuery query) {
    Filter filter = Filter.of(query);
    filter.params.addInteger(query.limit() + 1);
    String statement = SELECT_REFUNDS + filter.where() + ORDER + " LIMIT $" + filter.params.size();
    return sql.preparedQuery(statement)
        .execute(filter.params)
        .map(
            rows -> {
              List<RefundLogEntry> page = new ArrayList<>(rows.size());
              rows.forEach(row -> page.add(RefundLogEntry.fromRow(row)));
              return page;
            });
  }

  /**
   * Streams every row matching {@code query} (ignoring its limit) from one query, so the export is
   * a consistent snapshot, {@code batch} rows at a time; the next batch is read only once {@code
   * sink} has taken the previous one (back-pressure).
   *
   * @param tx a connection in a transaction (a cursor needs one)
   * @return completes after the last batch; fails with the first database or sink failure
   */
  public Future<Long> stream(
      SqlConnection tx,
      RefundQuery query,
      int batch,
      Function<List<RefundLogEntry>, Future<Void>> sink) {
    Filter filter = Filter.of(query);
    return tx.prepare(SELECT_REFUNDS + filter.where() + ORDER)
        .compose(
            statement -> {
              Cursor cursor = statement.cursor(filter.params);
              return drain(cursor, batch, sink).eventually(cursor::close);
            });
  }

  private static Future<Long> drain(
      Cursor cursor, int batch, Function<List<RefundLogEntry>, Future<Void>> sink) {
    return AsyncLoop.until(
            new Drained(0, false),
            Drained::done,
            sofar -> cursor.read(batch).compose(rows -> send(cursor, rows, sofar, sink)))
        .map(Drained::sent);
  }

  /** How many entries a drain has sent, and whether the cursor is exhausted. */
  private record Drained(long sent, boolean done) {}

  private static Future<Drained> send(
      Cursor cursor,
      RowSet<Row> rows,
      Drained sofar,
      Function<List<RefundLogEntry>, Future<Void>> sink) {
    List<RefundLogEntry> entries = new ArrayList<>(rows.size());
    rows.forEach(row -> entries.add(RefundLogEntry.fromRow(row)));
    Drained next = new Drained(sofar.sent() + entries.size(), !cursor.hasMore());
    return entries.isEmpty() ? Future.succeededFuture(next) : sink.apply(entries).map(v -> next);
  }

  /** Whether {@code chainId} names a chain (any store was ever enrolled in it). */
  public Future<Boolean> chainExists(SqlClient sql, String chainId) {
    return SqlTemplate.forQuery(sql, CHAIN_EXISTS)
        .execute(Map.of("chainId", chainId))
        .map(rows -> rows.iterator().next().getBoolean("found"));
  }

  /** Cross-store SUCCEEDED refunds of one chain completed in [from, to), per store pair. */
  public Future<List<ClearingLine>> clearing(
      SqlClient sql, String chainId, OffsetDateTime from, OffsetDateTime to) {
    return SqlTemplate.forQuery(sql, CLEARING)
        .mapTo(RefundLogRepository::clearingLine)
        .execute(Map.of("chainId", chainId, "from", from, "to", to))
        .map(
            rows -> {
              List<ClearingLine> lines = new ArrayList<>();
              rows.forEach(lines::add);
              return lines;
            });
  }

  private static ClearingLine clearingLine(Row row) {
    return new ClearingLine(
        row.getString("requesting_store_id"),
        row.getString("requesting_store_name"),
        row.getString("origin_store_id"),
        row.getString("origin_store_name"),
        row.getString("origin_msn"),
        row.getString("currency"),
        row.getLong("refunds"),
        row.getLong("amount"));
  }

  /**
   * The WHERE clause for the filters that are set. Only fixed column conditions are ever joined;
   * every value is a bind parameter, and leaving absent filters out lets PostgreSQL use the
   * (created_at, refund_id) index for paging.
   */
  private record Filter(List<String> conditions, Tuple params) {
    static Filter of(RefundQuery q) {
      Filter f = new Filter(new ArrayList<>(), Tuple.tuple());
      if (q.from() != null) {
        f.add("created_at >= $%d", q.from().atOffset(ZoneOffset.UTC));
      }
      if (q.to() != null) {
        f.add("created_at < $%d", q.to().atOffset(ZoneOffset.UTC));
      }
      if (q.chainId() != null) {
        f.add("chain_id = $%d", q.chainId());
      }
      if (q.requestingStoreId() != null) {
        f.add("requesting_store_id = $%d", q.requestingStoreId());
      }
      if (q.originStoreId() != null) {
        f.add("origin_store_id = $%d", q.originStoreId());
      }
      if (q.status() != null) {
        f.add("status = $%d", q.status());
      }
      if (q.orderId() != null) {
        f.add("order_id = $%d", q.orderId());
      }
      if (q.after() != null) {
        f.params.addOffsetDateTime(q.after().createdAt().atOffset(ZoneOffset.UTC));
        f.params.addUUID(q.after().refundId());
        int n = f.params.size();
        f.conditions.add("(created_at, refund_id) > ($" + (n - 1) + ", $" + n + ")");
      }
      return f;
    }

    private void add(String condition, Object value) {
      params.addValue(value);
      conditions.add(condition.formatted(params.size()));
    }

    String where() {
      return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
    }
  }
}
