package io.refundbroker.order;

import io.refundbroker.money.Money;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * SQL for the cashier's search: the orders of one chain matching a {@link OrderSearchQuery}, newest
 * capture first, in pages by keyset. Read-only.
 *
 * <p>The indexes of schema V13 serve it: {@code orders_search_time_idx} (chain, sort time, store,
 * order) for time and store filters, {@code orders_search_amount_idx} (chain, amount, sort time, …)
 * for an amount with or without a day, and the trigram index {@code orders_search_q_idx} for a
 * fragment of the order id. The sort time is {@link #SORT_TIME} in the indexes and here alike.
 */
public final class OrderSearchRepository {
  /** The capture time, with an unknown one sorting after every known one. */
  private static final String SORT_TIME = "coalesce(o.captured_at, '-infinity'::timestamptz)";

  private static final String SELECT_PAGE =
      """
      SELECT p.store_id, s.name AS store_name, p.order_id, p.amount_value, p.currency,
             p.captured_at
        FROM (SELECT o.store_id, o.order_id, o.amount_value, o.currency, o.captured_at,
                     %1$s AS sort_time
                FROM orders o
               WHERE %2$s
               ORDER BY %1$s DESC, o.store_id DESC, o.order_id DESC
               LIMIT $%3$d) p
        JOIN stores s ON s.store_id = p.store_id
       ORDER BY p.sort_time DESC, p.store_id DESC, p.order_id DESC
      """;

  /** One hit, before the refund totals are added. */
  public record Hit(
      String storeId, String storeName, String orderId, Money captured, Instant capturedAt) {

    OrderSearchQuery.Position position() {
      return new OrderSearchQuery.Position(capturedAt, storeId, orderId);
    }
  }

  /**
   * The orders of {@code chainId} matching {@code query} after its position, in search order: at
   * most {@code query.limit() + 1}, so the caller knows whether another page follows.
   */
  public Future<List<Hit>> page(SqlClient sql, String chainId, OrderSearchQuery query) {
    Statement statement = statement(chainId, query);
    return sql.preparedQuery(statement.sql())
        .execute(statement.params())
        .map(
            rows -> {
              List<Hit> hits = new ArrayList<>(rows.size());
              rows.forEach(row -> hits.add(hit(row)));
              return hits;
            });
  }

  /** The SQL of a search and its parameters (the benchmark EXPLAINs it). */
  record Statement(String sql, Tuple params) {}

  static Statement statement(String chainId, OrderSearchQuery query) {
    Filter filter = Filter.of(chainId, query);
    filter.params.addInteger(query.limit() + 1);
    return new Statement(
        SELECT_PAGE.formatted(SORT_TIME, filter.where(), filter.params.size()), filter.params);
  }

  private static Hit hit(Row row) {
    OffsetDateTime captured = row.getOffsetDateTime("captured_at");
    return new Hit(
        row.getString("store_id"),
        row.getString("store_name"),
        row.getString("order_id"),
        new Money(row.getLong("amount_value"), row.getString("currency")),
        captured == null ? null : captured.toInstant());
  }

  /**
   * The WHERE clause: the chain always, then only the filters that are set. Only fixed conditions
   * are joined; every value is a bind parameter. Leaving absent filters out (rather than {@code $n
   * IS NULL OR …}) lets PostgreSQL pick the index that fits the filters at hand.
   */
  private record Filter(List<String> conditions, Tuple params) {
    static Filter of(String chainId, OrderSearchQuery q) {
      Filter f = new Filter(new ArrayList<>(), Tuple.tuple());
      f.add("o.chain_id = $%d", chainId);
      if (q.q() != null) {
        // The fragment is letters, digits and '-' only (the contract's pattern), so it needs no
        // LIKE escaping.
        f.add("o.order_id ILIKE $%d", "%" + q.q() + "%");
      }
      if (q.amount() != null) {
        f.add("o.amount_value = $%d", q.amount());
      }
      if (q.from() != null) {
        f.add(SORT_TIME + " >= $%d", q.from().atOffset(ZoneOffset.UTC));
      }
      if (q.to() != null) {
        // An unknown capture time is not "before" anything.
        f.add(
            SORT_TIME + " < $%d AND " + SORT_TIME + " > '-infinity'::timestamptz",
            q.to().atOffset(ZoneOffset.UTC));
      }
      if (q.originStoreId() != null) {
        f.add("o.store_id = $%d", q.originStoreId());
      }
      if (q.after() != null) {
        f.after(q.after());
      }
      return f;
    }

    /** Strictly after {@code position} in the search order (all three keys descending). */
    private void after(OrderSearchQuery.Position position) {
      params.addString(
          position.capturedAt() == null ? "-infinity" : position.capturedAt().toString());
      params.addString(position.storeId());
      params.addString(position.orderId());
      int n = params.size();
      conditions.add(
          "(%s, o.store_id, o.order_id) < ($%d::text::timestamptz, $%d, $%d)"
              .formatted(SORT_TIME, n - 2, n - 1, n));
    }

    private void add(String condition, Object value) {
      params.addValue(value);
      conditions.add(condition.formatted(params.size()));
    }

    String where() {
      return String.join(" AND ", conditions);
    }
  }
}
